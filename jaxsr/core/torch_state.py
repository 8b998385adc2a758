"""Reading PyTorch state dicts without running pickled code: the weight converters' shared input."""
from pathlib import Path

import numpy as np

SUFFIXES = ('.pth', '.pt', '.pkl', '.safetensors')


def read(path):
  """{key: float32 array} from a .pth/.pt/.pkl (torch.load with weights_only=True: tensors only) or .safetensors."""
  path = Path(path)
  suffix = path.suffix.lower()
  if not path.is_file():
    raise FileNotFoundError(f'{path}: no such weights file')
  if suffix in ('.pth', '.pt', '.pkl'):
    try:
      import torch
    except ImportError:
      raise ImportError(f'{path}: reading a PyTorch file needs PyTorch (pip install torch), or convert it to '
                        f'.safetensors where torch is installed') from None
    state = torch.load(path, map_location='cpu', weights_only=True)
    return {k: v.float().numpy() for k, v in state.items() if hasattr(v, 'numpy')}
  if suffix == '.safetensors':
    from safetensors.numpy import load_file
    return {k: np.asarray(v, np.float32) for k, v in load_file(path).items()}
  raise ValueError(f'{path}: not a PyTorch state dict file (known: {", ".join(SUFFIXES)})')
