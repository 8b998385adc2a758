"""Converts public VGG19 weights to jaxsr's .npz (see jaxsr.models.vgg), with no network access.

    python -m jaxsr.convert_vgg --src=vgg19-dcbb9e9d.pth --out=vgg19.npz        # torchvision state dict
    python -m jaxsr.convert_vgg --src=vgg19.safetensors --out=vgg19.npz          # the same, as safetensors
    python -m jaxsr.convert_vgg --src=vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 --out=vgg19.npz  # Keras

.pth files are read with torch.load(weights_only=True): tensors only, never arbitrary pickled code.
"""
import re
from pathlib import Path

import numpy as np
from absl import flags

from jaxsr.core import cli, torch_state
from jaxsr.models import vgg

# torchvision's vgg19().features: the Conv2d modules sit at these indices (ReLUs and pools in between).
TORCH_FEATURE_INDICES = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)


def from_torch_state(state):
  """{'features.<i>.weight': (out, in, 3, 3), 'features.<i>.bias': (out,)} (any key prefix) -> jaxsr params."""
  by_suffix = {}
  for key, value in state.items():
    if m := re.search(r'features\.(\d+)\.(weight|bias)$', key):
      by_suffix[(int(m[1]), m[2])] = np.asarray(value, np.float32)
  params = {}
  for name, index in zip(vgg.LAYERS, TORCH_FEATURE_INDICES):
    if (index, 'weight') not in by_suffix or (index, 'bias') not in by_suffix:
      raise ValueError(f'not a torchvision VGG19 state dict: no features.{index}.weight/bias (for {name})')
    params[name] = {'kernel': by_suffix[(index, 'weight')].transpose(2, 3, 1, 0), 'bias': by_suffix[(index, 'bias')]}
  return params


def from_keras_h5(path):
  """A Keras VGG19 weights file: groups block<b>_conv<c> holding a kernel (HWIO) and a bias dataset."""
  import h5py
  params = {}
  with h5py.File(path, 'r') as f:
    root = f['model_weights'] if 'model_weights' in f else f  # whole saved models nest the weights one level down
    for name in vgg.LAYERS:
      block, conv = name[4:].split('_')
      group_name = f'block{block}_conv{conv}'
      if group_name not in root:
        raise ValueError(f'{path}: not a Keras VGG19 weights file (no group {group_name})')
      datasets = {}
      root[group_name].visititems(lambda key, item: datasets.update({key: item}) if isinstance(item, h5py.Dataset)
                                  else None)
      kernel = [v for k, v in datasets.items() if v.ndim == 4]
      bias = [v for k, v in datasets.items() if v.ndim == 1]
      if len(kernel) != 1 or len(bias) != 1:
        raise ValueError(f'{path}: {group_name} should hold one kernel and one bias, found {sorted(datasets)}')
      params[name] = {'kernel': np.asarray(kernel[0], np.float32), 'bias': np.asarray(bias[0], np.float32)}
  return params


def convert(src, out):
  """Reads `src` by its extension and writes jaxsr's .npz to `out`. Returns the preprocessing the weights need."""
  src = Path(src)
  if not str(out).endswith('.npz'):
    raise ValueError(f'--out: {out} should end in .npz')
  suffix = src.suffix.lower()
  if suffix in torch_state.SUFFIXES:
    params, preprocessing = from_torch_state(torch_state.read(src)), 'torch'
  elif suffix in ('.h5', '.hdf5', '.keras'):
    params, preprocessing = from_keras_h5(src), 'caffe'
  else:
    raise ValueError(f'{src}: unknown weights format {suffix!r} (known: .pth, .pt, .safetensors, .h5)')
  vgg.save(out, params, preprocessing)
  vgg.load(out)  # checks every shape
  return preprocessing


FLAGS = flags.FLAGS


def define_flags():
  """The command line's flags, defined only when this module runs as the program (the module is a library too)."""
  flags.DEFINE_string('src', None, 'torchvision .pth/.safetensors or Keras .h5 VGG19 weights', required=True)
  flags.DEFINE_string('out', None, 'the .npz to write', required=True)


def main(argv):
  del argv
  preprocessing = convert(FLAGS.src, FLAGS.out)
  print(f'Wrote {FLAGS.out} ({preprocessing} preprocessing); use it with --config.vgg.weights={FLAGS.out}')


def run():
  """The command: `python -m jaxsr.convert_vgg`, or `jaxsr-convert-vgg` once installed."""
  define_flags()
  cli.run(main)


if __name__ == '__main__':
  run()
