"""Reading PyTorch state dicts without running pickled code: the weight converters' shared input."""
from pathlib import Path

import numpy as np

SUFFIXES = ('.pth', '.pt', '.safetensors')


def read(path):
  """{key: float32 array} from a .pth/.pt (torch.load with weights_only=True: tensors only) or .safetensors."""
  path = Path(path)
  suffix = path.suffix.lower()
  if suffix in ('.pth', '.pt'):
    import torch
    state = torch.load(path, map_location='cpu', weights_only=True)
    return {k: v.float().numpy() for k, v in state.items() if hasattr(v, 'numpy')}
  if suffix == '.safetensors':
    from safetensors.numpy import load_file
    return {k: np.asarray(v, np.float32) for k, v in load_file(path).items()}
  raise ValueError(f'{path}: not a PyTorch state dict file (known: {", ".join(SUFFIXES)})')
