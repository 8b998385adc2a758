"""VGG19 features (Simonyan & Zisserman 2015) for perceptual losses, with weights from a file the user supplies.

Weights are never downloaded. jaxsr reads one format, an `.npz` with `<layer>/kernel` (3, 3, in, out, HWIO) and
`<layer>/bias` for conv1_1 ... conv5_4, plus `preprocessing`: 'torch' (RGB in [0, 1], ImageNet mean/std: the
torchvision weights) or 'caffe' (BGR in [0, 255] minus the mean pixel: the original and Keras weights).
`python -m jaxsr.convert_vgg` makes it from a torchvision state dict (.pth, .safetensors) or a Keras .h5.
"""
from pathlib import Path

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from jaxsr.core import npz

BLOCKS = (64, 128, 256, 512, 512)  # widths of the five blocks
CONVS_PER_BLOCK = (2, 2, 4, 4, 4)
LAYERS = tuple(f'conv{b + 1}_{c + 1}' for b, n in enumerate(CONVS_PER_BLOCK) for c in range(n))
PREPROCESSING = ('torch', 'caffe')
_TORCH_MEAN, _TORCH_STD = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
_CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68])


class VGG19(nn.Module):
  """Images in [-1, 1] (RGB) -> {layer: activations after ReLU (before it with `pre_activation`)} for each of
  `outputs`.

  `pool` 'max' is the classifier's; 'avg' is what some perceptual losses use instead (smoother gradients,
  Gatys et al. 2016; RefSR-VAE). Layers past the deepest requested output are not computed.
  """
  outputs: tuple[str, ...] = ('conv5_4',)
  preprocessing: str = 'torch'
  pool: str = 'max'
  pre_activation: bool = False
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x):
    x = preprocess(x, self.preprocessing).astype(self.dtype)
    pool = nn.max_pool if self.pool == 'max' else nn.avg_pool
    last = max(LAYERS.index(name) for name in self.outputs)
    features = {}
    for i, name in enumerate(LAYERS[:last + 1]):
      block, conv = (int(s) for s in name[4:].split('_'))
      if conv == 1 and block > 1:
        x = pool(x, (2, 2), strides=(2, 2))
      x = nn.Conv(BLOCKS[block - 1], (3, 3), dtype=self.dtype, name=name)(x)
      if name in self.outputs and self.pre_activation:
        features[name] = x.astype(jnp.float32)
      x = nn.relu(x)
      if name in self.outputs and not self.pre_activation:
        features[name] = x.astype(jnp.float32)
    return features


def preprocess(x, preprocessing):
  """[-1, 1] RGB -> the input the weights were trained on."""
  x = (x.astype(jnp.float32) + 1.0) / 2.0
  if preprocessing == 'torch':
    return (x - _TORCH_MEAN) / _TORCH_STD
  if preprocessing == 'caffe':
    return x[..., ::-1] * 255.0 - _CAFFE_MEAN_BGR
  raise ValueError(f"VGG19 preprocessing must be one of {PREPROCESSING}, got '{preprocessing}'")


def from_config(c, dtype=jnp.float32):
  """(VGG19 module computing c.layer with c.pool, its params from c.weights) for a config's `vgg` section; a bad
  layer name or weights file is named before any work is done."""
  if c.layer not in LAYERS:
    raise ValueError(f"config.vgg.layer: unknown '{c.layer}'; VGG19 has {', '.join(LAYERS)}")
  params, preprocessing = load(c.weights, 'vgg.weights')
  return VGG19((c.layer,), preprocessing, c.pool, c.pre_activation, dtype), params


def save(path, params, preprocessing):
  """Writes {layer: {'kernel', 'bias'}} in jaxsr's .npz format."""
  arrays = {f'{name}/{k}': np.asarray(v, np.float32) for name, p in params.items() for k, v in p.items()}
  np.savez(path, preprocessing=np.array(preprocessing), **arrays)


def file_shapes():
  """{array name: shape} of a jaxsr VGG19 file: HWIO kernels and biases of LAYERS, and the preprocessing name."""
  shapes, width = {'preprocessing': ()}, 3
  for name in LAYERS:
    out = BLOCKS[int(name[4]) - 1]
    shapes.update({f'{name}/kernel': (3, 3, width, out), f'{name}/bias': (out,)})
    width = out
  return shapes


def load(path, field='vgg.weights'):
  """Returns (params, preprocessing) from a jaxsr VGG19 .npz. `field` names the config entry in errors."""
  path = Path(path).expanduser() if path else None
  if path is None or not path.is_file():
    raise FileNotFoundError(
        f'config.{field}: no VGG19 weights file at {str(path) if path else "(empty)"}. jaxsr downloads nothing: '
        f'convert the weights you have, e.g. `python -m jaxsr.convert_vgg --src=vgg19-dcbb9e9d.pth '
        f'--out=vgg19.npz`, and set config.{field}=/path/to/vgg19.npz')
  f = npz.read(path, f'config.{field}', 'convert_vgg', shapes=file_shapes())
  params = {name: {'kernel': f[f'{name}/kernel'], 'bias': f[f'{name}/bias']} for name in LAYERS}
  preprocessing = str(f['preprocessing'])
  if preprocessing not in PREPROCESSING:
    raise ValueError(f'config.{field}: {path}: unknown preprocessing {preprocessing!r} (known: {PREPROCESSING})')
  return params, preprocessing
