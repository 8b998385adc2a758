"""LPIPS, the learned perceptual image patch similarity (Zhang, Isola, Efros, Shechtman, Wang, "The Unreasonable
Effectiveness of Deep Features as a Perceptual Metric", CVPR 2018, Eq. 1), as richzhang/PerceptualSimilarity
(the `lpips` package, lpips/pretrained_networks.py and lpips/lpips.py, version 0.1) computes it:

  d(x, x0) = sum_l mean_hw || w_l * (f_l(x) - f_l(x0)) ||^2,   f_l unit-normalised over channels

for images in [-1, 1], after the package's scaling layer, with the backbone's ReLU outputs f_l at five depths
(AlexNet: relu1..relu5; VGG16: relu1_2, relu2_2, relu3_3, relu4_3, relu5_3) and w_l its learned 1x1 linear heads.
Lower is closer. Weights are never downloaded: `python -m jaxsr.convert_lpips` makes jaxsr's .npz from the
torchvision backbone and the package's head file the user supplies.
"""
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxsr.core import npz

# The backbones' feature layers as torchvision builds them: ('conv', out, kernel, stride, padding) or ('pool',
# window, stride), each conv followed by a ReLU; 'tap' marks an output of LPIPS's five slices.
_ALEX = (('conv', 64, 11, 4, 2), 'tap', ('pool', 3, 2), ('conv', 192, 5, 1, 2), 'tap', ('pool', 3, 2),
         ('conv', 384, 3, 1, 1), 'tap', ('conv', 256, 3, 1, 1), 'tap', ('conv', 256, 3, 1, 1), 'tap')


def _vgg16():
  layers = []
  for block, (width, convs) in enumerate(zip((64, 128, 256, 512, 512), (2, 2, 3, 3, 3))):
    if block:
      layers.append(('pool', 2, 2))
    layers += [('conv', width, 3, 1, 1)] * convs + ['tap']
  return tuple(layers)


BACKBONES = {'alex': _ALEX, 'vgg': _vgg16()}
# torchvision's `features.<i>` index of each conv, for the converter.
TORCH_CONV_INDICES = {'alex': (0, 3, 6, 8, 10), 'vgg': (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)}
_SHIFT = np.array([-.030, -.088, -.188], np.float32)  # lpips.ScalingLayer
_SCALE = np.array([.458, .448, .450], np.float32)


def convs(net):
  return [layer for layer in BACKBONES[net] if isinstance(layer, tuple) and layer[0] == 'conv']


def tap_widths(net):
  """Channels of the five features LPIPS compares."""
  widths, last = [], 3
  for layer in BACKBONES[net]:
    if layer == 'tap':
      widths.append(last)
    elif layer[0] == 'conv':
      last = layer[1]
  return widths


class LPIPS(nn.Module):
  """(x, x0), NHWC in [-1, 1] -> (N,) distances. Params: conv<i> {kernel (HWIO), bias}, lin<l> {kernel (C,)}."""
  net: str = 'alex'

  @nn.compact
  def __call__(self, x, x0):
    n = x.shape[0]
    features = self._features(jnp.concatenate([x, x0]).astype(jnp.float32))
    total = jnp.zeros((n,), jnp.float32)
    for level, f in enumerate(features):
      f = f / (jnp.sqrt(jnp.sum(f ** 2, axis=-1, keepdims=True)) + 1e-10)
      diff = (f[:n] - f[n:]) ** 2
      weights = self.param(f'lin{level}', nn.initializers.ones, (f.shape[-1],))
      total = total + jnp.mean(diff @ weights, axis=(1, 2))
    return total

  def _features(self, x):
    x = (x - _SHIFT) / _SCALE
    features, index = [], 0
    for layer in BACKBONES[self.net]:
      if layer == 'tap':
        features.append(x)
      elif layer[0] == 'pool':
        x = nn.max_pool(x, (layer[1], layer[1]), strides=(layer[2], layer[2]))
      else:
        _, width, kernel, stride, pad = layer
        x = nn.relu(nn.Conv(width, (kernel, kernel), strides=stride, padding=((pad, pad), (pad, pad)),
                            precision='highest', name=f'conv{index}')(x))
        index += 1
    return features


def file_shapes(net):
  """{array name: shape} of a jaxsr LPIPS file for `net`, and its `net` entry."""
  shapes, width = {'net': ()}, 3
  for i, (_, out, kernel, _, _) in enumerate(convs(net)):
    shapes.update({f'conv{i}/kernel': (kernel, kernel, width, out), f'conv{i}/bias': (out,)})
    width = out
  shapes.update({f'lin{level}': (c,) for level, c in enumerate(tap_widths(net))})
  return shapes


def save(path, net, params):
  arrays = {f'{name}/{k}': np.asarray(v, np.float32) for name, p in params.items() if isinstance(p, dict)
            for k, v in p.items()}
  arrays.update({name: np.asarray(p, np.float32) for name, p in params.items() if not isinstance(p, dict)})
  np.savez(path, net=np.array(net), **arrays)


def load(path, field='--lpips'):
  """(LPIPS module, params) from a jaxsr LPIPS .npz (every shape checked before any array is read)."""
  path = Path(path).expanduser()
  if not path.is_file():
    raise FileNotFoundError(f'{field}: no LPIPS weights file at {path}. jaxsr downloads nothing: convert the weights '
                            'you have with `python -m jaxsr.convert_lpips`')
  for net in BACKBONES:
    try:
      f = npz.read(path, field, 'convert_lpips', shapes=file_shapes(net))
    except ValueError as error:
      if 'pickled' in str(error) or 'not an .npz' in str(error):
        raise
      continue
    if str(f['net']) != net:
      raise ValueError(f"{field}: {path} says net={str(f['net'])!r} but holds {net}'s arrays")
    params = {name: {'kernel': f[f'{name}/kernel'], 'bias': f[f'{name}/bias']} for name in
              (f'conv{i}' for i in range(len(convs(net))))}
    params.update({f'lin{level}': f[f'lin{level}'] for level in range(len(tap_widths(net)))})
    return LPIPS(net), params
  raise ValueError(f'{field}: {path} is not a jaxsr LPIPS file (the arrays of neither AlexNet nor VGG16); make one '
                   'with `python -m jaxsr.convert_lpips`')


class Distance:
  """LPIPS of a weights file as a function: (x, x0) uint8 or [-1, 1] float batches -> (N,) numpy distances."""

  def __init__(self, path, batch_size=50):
    self.module, self.params = load(path)
    self.batch_size = batch_size
    self._apply = jax.jit(lambda params, x, x0: self.module.apply({'params': params}, x, x0))

  def __call__(self, x, x0):
    as_float = lambda v: np.asarray(v, np.float32) / 127.5 - 1.0 if v.dtype == np.uint8 else v  # noqa: E731
    return np.concatenate([np.asarray(self._apply(self.params, as_float(x[i:i + self.batch_size]),
                                                  as_float(x0[i:i + self.batch_size])))
                           for i in range(0, len(x), self.batch_size)])
