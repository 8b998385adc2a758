"""Reading weight files jaxsr made (.npz of plain arrays) without ever unpickling: a pickled object can run code."""
import numpy as np


def read(path, name, converter):
  """{key: array} of the .npz at `path`. A file that holds pickled Python objects (a pickle, a torch .pth, an .npz
  of object arrays) is refused with an error naming `name`, the config field or flag that gave the path, and the
  `python -m jaxsr.<converter>` command that makes a plain file."""
  try:
    with np.load(path, allow_pickle=False) as f:
      return {k: f[k] for k in f.files}
  except ValueError as error:
    if 'pickle' not in str(error):
      raise
    raise ValueError(f'{name}: {path} holds pickled Python objects, which jaxsr never loads (unpickling can run '
                     f'code); make a plain .npz of arrays with `python -m jaxsr.{converter}`') from None
