"""Inception-v3 as FID uses it (Szegedy et al. 2016; Heusel et al. 2017): images -> 2048-d pool3 features.

The layer names are torchvision's (`Conv2d_1a_3x3`, `Mixed_5b.branch1x1`, ...), so a torchvision `inception_v3`
or a pytorch-fid `pt_inception-2015-12-05` state dict converts key by key (jaxsr.convert_inception). The
pooling is the FID network's, ported from TensorFlow: average pools leave the padding out of the mean, and the
last block's pool branch takes the maximum. Weights are never downloaded: jaxsr reads an .npz the user makes.
"""
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxsr.core import npz

FEATURES = 2048


class BasicConv(nn.Module):
  """conv (no bias), BatchNorm (eps 1e-3, running statistics), ReLU."""
  features: int
  kernel: tuple[int, int]
  strides: int = 1
  padding: tuple[int, int] = (0, 0)

  @nn.compact
  def __call__(self, x):
    x = nn.Conv(self.features, self.kernel, self.strides, [(p, p) for p in self.padding], use_bias=False,
                name='conv')(x)
    return nn.relu(nn.BatchNorm(use_running_average=True, epsilon=1e-3, name='bn')(x))


def _avg_pool(x):
  return nn.avg_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)), count_include_pad=False)


def _max_pool(x, strides=2, padding='VALID'):
  return nn.max_pool(x, (3, 3), (strides, strides), padding)


class InceptionA(nn.Module):
  pool_features: int

  @nn.compact
  def __call__(self, x):
    b1 = BasicConv(64, (1, 1), name='branch1x1')(x)
    b5 = BasicConv(64, (5, 5), padding=(2, 2), name='branch5x5_2')(BasicConv(48, (1, 1), name='branch5x5_1')(x))
    b3 = BasicConv(64, (1, 1), name='branch3x3dbl_1')(x)
    b3 = BasicConv(96, (3, 3), padding=(1, 1), name='branch3x3dbl_3')(
        BasicConv(96, (3, 3), padding=(1, 1), name='branch3x3dbl_2')(b3))
    pool = BasicConv(self.pool_features, (1, 1), name='branch_pool')(_avg_pool(x))
    return jnp.concatenate([b1, b5, b3, pool], axis=-1)


class InceptionB(nn.Module):

  @nn.compact
  def __call__(self, x):
    b3 = BasicConv(384, (3, 3), 2, name='branch3x3')(x)
    d = BasicConv(64, (1, 1), name='branch3x3dbl_1')(x)
    d = BasicConv(96, (3, 3), padding=(1, 1), name='branch3x3dbl_2')(d)
    d = BasicConv(96, (3, 3), 2, name='branch3x3dbl_3')(d)
    return jnp.concatenate([b3, d, _max_pool(x)], axis=-1)


class InceptionC(nn.Module):
  channels_7x7: int

  @nn.compact
  def __call__(self, x):
    c = self.channels_7x7
    row, col = dict(kernel=(1, 7), padding=(0, 3)), dict(kernel=(7, 1), padding=(3, 0))
    b1 = BasicConv(192, (1, 1), name='branch1x1')(x)
    b7 = BasicConv(c, (1, 1), name='branch7x7_1')(x)
    b7 = BasicConv(192, name='branch7x7_3', **col)(BasicConv(c, name='branch7x7_2', **row)(b7))
    d = BasicConv(c, (1, 1), name='branch7x7dbl_1')(x)
    for i, (features, shape) in enumerate(((c, col), (c, row), (c, col), (192, row)), start=2):
      d = BasicConv(features, name=f'branch7x7dbl_{i}', **shape)(d)
    pool = BasicConv(192, (1, 1), name='branch_pool')(_avg_pool(x))
    return jnp.concatenate([b1, b7, d, pool], axis=-1)


class InceptionD(nn.Module):

  @nn.compact
  def __call__(self, x):
    b3 = BasicConv(320, (3, 3), 2, name='branch3x3_2')(BasicConv(192, (1, 1), name='branch3x3_1')(x))
    b7 = BasicConv(192, (1, 1), name='branch7x7x3_1')(x)
    b7 = BasicConv(192, (1, 7), padding=(0, 3), name='branch7x7x3_2')(b7)
    b7 = BasicConv(192, (7, 1), padding=(3, 0), name='branch7x7x3_3')(b7)
    b7 = BasicConv(192, (3, 3), 2, name='branch7x7x3_4')(b7)
    return jnp.concatenate([b3, b7, _max_pool(x)], axis=-1)


class InceptionE(nn.Module):
  max_pool: bool  # the FID network's last block pools by maximum

  @nn.compact
  def __call__(self, x):
    def split(y, prefix):
      return [BasicConv(384, (1, 3), padding=(0, 1), name=f'{prefix}a')(y),
              BasicConv(384, (3, 1), padding=(1, 0), name=f'{prefix}b')(y)]

    b1 = BasicConv(320, (1, 1), name='branch1x1')(x)
    b3 = split(BasicConv(384, (1, 1), name='branch3x3_1')(x), 'branch3x3_2')
    d = BasicConv(448, (1, 1), name='branch3x3dbl_1')(x)
    d = split(BasicConv(384, (3, 3), padding=(1, 1), name='branch3x3dbl_2')(d), 'branch3x3dbl_3')
    pooled = _max_pool(x, 1, ((1, 1), (1, 1))) if self.max_pool else _avg_pool(x)
    pool = BasicConv(192, (1, 1), name='branch_pool')(pooled)
    return jnp.concatenate([b1, *b3, *d, pool], axis=-1)


class InceptionV3(nn.Module):
  """Images in [-1, 1], any size (resized bilinearly to input_size, 299 for FID) -> (N, 2048) pool3 features.
  The smallest input_size the valid convolutions allow is 75."""
  input_size: int = 299

  @nn.compact
  def __call__(self, x):
    size = (x.shape[0], self.input_size, self.input_size, 3)
    x = jax.image.resize(x.astype(jnp.float32), size, 'bilinear', antialias=False)
    x = BasicConv(32, (3, 3), 2, name='Conv2d_1a_3x3')(x)
    x = BasicConv(32, (3, 3), name='Conv2d_2a_3x3')(x)
    x = _max_pool(BasicConv(64, (3, 3), padding=(1, 1), name='Conv2d_2b_3x3')(x))
    x = BasicConv(80, (1, 1), name='Conv2d_3b_1x1')(x)
    x = _max_pool(BasicConv(192, (3, 3), name='Conv2d_4a_3x3')(x))
    for name, pool_features in (('Mixed_5b', 32), ('Mixed_5c', 64), ('Mixed_5d', 64)):
      x = InceptionA(pool_features, name=name)(x)
    x = InceptionB(name='Mixed_6a')(x)
    for name, channels in (('Mixed_6b', 128), ('Mixed_6c', 160), ('Mixed_6d', 160), ('Mixed_6e', 192)):
      x = InceptionC(channels, name=name)(x)
    x = InceptionD(name='Mixed_7a')(x)
    x = InceptionE(False, name='Mixed_7b')(x)
    x = InceptionE(True, name='Mixed_7c')(x)
    return x.mean(axis=(1, 2))


def save(path, variables):
  """{'params', 'batch_stats'} -> an .npz of '<collection>/<module path>/<name>' arrays."""
  flat = {'/'.join(str(k.key) for k in key): np.asarray(v, np.float32)
          for key, v in jax.tree_util.tree_leaves_with_path(variables)}
  np.savez(path, **flat)


def load(path, field='inception_weights'):
  """The variables of InceptionV3 from an .npz made by `python -m jaxsr.convert_inception`; every shape checked."""
  path = Path(path).expanduser() if path else None
  if path is None or not path.is_file():
    raise FileNotFoundError(
        f'--{field}: no Inception-v3 weights at {path or "(empty)"}. jaxsr downloads nothing: convert the FID '
        f'weights you have: python -m jaxsr.convert_inception --src=pt_inception-2015-12-05-6726825d.pth '
        f'--out=inception.npz')
  expected = jax.eval_shape(InceptionV3().init, jax.random.key(0), jnp.zeros((1, 299, 299, 3)))
  shapes = {'/'.join(str(k.key) for k in key): x.shape for key, x in jax.tree_util.tree_leaves_with_path(expected)}
  stored = npz.read(path, f'--{field}', 'convert_inception', shapes=shapes)
  return jax.tree_util.tree_map_with_path(lambda key, _: stored['/'.join(str(k.key) for k in key)], expected)
