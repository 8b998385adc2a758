"""Reading weight files jaxsr made (.npz of plain arrays) from untrusted hands: never unpickling (a pickled object
can run code), and never inflating more than the caller's expected shapes allow (a 2 MB zip bomb declares
gigabytes). Every array's name, dtype and shape come from the zip directory and the .npy headers, checked before
any array data is read."""
import os
import stat
import zipfile
from pathlib import Path

import numpy as np

_SLACK_BYTES = 2**20  # headers, zip directory, a string or two


def regular_file(path, name, max_bytes=None, links=True):
  """`path` if it is a regular file (not a FIFO or device; nor a symlink, without `links`) of at most `max_bytes`;
  else a ValueError naming `name`, the flag or config field that gave it."""
  try:
    info = os.stat(path) if links else os.lstat(path)
  except FileNotFoundError:
    raise FileNotFoundError(f'{name}: {path} does not exist') from None
  if not stat.S_ISREG(info.st_mode):
    raise ValueError(f'{name}: {path} is not a regular file (a link, a pipe or a device); jaxsr reads weights only '
                     f'from plain files')
  if max_bytes is not None and info.st_size > max_bytes:
    raise ValueError(f'{name}: {path} is {info.st_size / 2**20:.1f} MiB, more than the {max_bytes / 2**20:.1f} MiB '
                     f'its arrays can take; it is not the file it claims to be')
  return Path(path)


def nbytes(shapes, itemsize=4):
  """Bytes of arrays of `shapes` ({key: shape}) at `itemsize`, plus room for headers."""
  return sum(int(np.prod(s)) for s in shapes.values()) * itemsize + _SLACK_BYTES


def read(path, name, converter, shapes=None, max_bytes=None, part=False):
  """{key: array} of the .npz at `path`.

  shapes: {key: shape} that the file must hold exactly (no other keys, no other shapes), checked from the .npy
    headers before reading; None: any keys, their total size capped by `max_bytes` (default: the file's size on
    disk times 64, far above what np.savez writes and far below a zip bomb's ratio).
  part: the file holds some of `shapes` (one shard of several); the caller checks that all of them came.
  A file that holds pickled Python objects (a pickle, a torch .pth, an .npz of object arrays) is refused with an
  error naming `name` and the `python -m jaxsr.<converter>` command that makes a plain file.
  """
  itemsize = 8  # float64 is the widest dtype jaxsr writes
  limit = nbytes(shapes, itemsize) if shapes is not None else max_bytes
  path = regular_file(path, name, limit)
  limit = limit if limit is not None else 64 * os.path.getsize(path) + _SLACK_BYTES
  pickled = ValueError(f'{name}: {path} holds pickled Python objects, which jaxsr never loads (unpickling can run '
                       f'code); make a plain .npz of arrays with `python -m jaxsr.{converter}`')
  if not zipfile.is_zipfile(path):
    raise pickled if _looks_pickled(path) else ValueError(
        f'{name}: {path} is not an .npz file; make one with `python -m jaxsr.{converter}`')
  out = {}
  with zipfile.ZipFile(path) as archive:
    headers = {}
    for member in archive.infolist():
      if member.filename.endswith('.pkl'):  # a torch.save zip
        raise pickled
      if not member.filename.endswith('.npy'):
        raise ValueError(f'{name}: {path} holds {member.filename!r}, which is not an array')
      with archive.open(member) as f:
        dtype, shape = _header(f, f'{name}: {path}: {member.filename}')
      if dtype.hasobject:
        raise pickled
      headers[member.filename[:-len('.npy')]] = (dtype, shape)
    if shapes is not None:
      _check_shapes(headers, shapes, f'{name}: {path}', converter, part)
    total = sum(int(np.prod(shape)) * dtype.itemsize for dtype, shape in headers.values())
    if total > limit:
      raise ValueError(f'{name}: {path} declares {total / 2**20:.0f} MiB of arrays, more than the '
                       f'{limit / 2**20:.0f} MiB allowed; it is not the file it claims to be')
    for key, (dtype, shape) in headers.items():  # every size checked: now read, never more than declared
      with archive.open(key + '.npy') as f:
        out[key] = np.lib.format.read_array(f, allow_pickle=False)
  return out


def _header(f, where):
  try:
    version = np.lib.format.read_magic(f)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if read_header is None:
      raise ValueError(f'.npy version {version}')
    shape, _, dtype = read_header(f)
  except ValueError as error:
    raise ValueError(f'{where}: not a readable .npy array ({error})') from None
  return dtype, tuple(shape)


def _check_shapes(headers, shapes, where, converter, part=False):
  missing = [] if part else sorted(set(shapes) - set(headers))
  extra = sorted(set(headers) - set(shapes))
  wrong = sorted(k for k in set(shapes) & set(headers) if headers[k][1] != tuple(shapes[k]))
  if missing or extra or wrong:
    parts = ([f'missing {missing[:3]}'] if missing else []) + ([f'unexpected {extra[:3]}'] if extra else []) + [
        f'{k} is {headers[k][1]}, expected {tuple(shapes[k])}' for k in wrong[:3]]
    raise ValueError(f'{where} does not hold the arrays expected: {"; ".join(parts)} (make the file with '
                     f'`python -m jaxsr.{converter}`)')


def _looks_pickled(path):
  """A pickle (protocol >= 2), or a lone .npy of Python objects."""
  with open(path, 'rb') as f:
    if f.read(1) == b'\x80':
      return True
    f.seek(0)
    try:
      dtype, _ = _header(f, str(path))
    except ValueError:
      return False
  return dtype.hasobject
