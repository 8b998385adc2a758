"""Layers shared by every network: PyTorch-compatible BatchNorm, residual blocks (pre- and post-activation,
bottleneck), the hourglass, upsampling (pixel shuffle, nearest), conv-BN-activation stacks, spectral-norm
convolutions. Modules take `train`
(batch statistics and spectral-norm power iterations on) and a computation `dtype`; parameters stay float32.
"""
import functools
from typing import Any, Callable

import flax.linen as nn
import jax.numpy as jnp

Dtype = Any


def batch_norm(train, dtype, name=None, momentum=0.9, epsilon=1e-5, use_scale=True):
  """PyTorch BatchNorm2d defaults (momentum 0.1 there is 0.9 here, eps 1e-5)."""
  return nn.BatchNorm(use_running_average=not train, momentum=momentum, epsilon=epsilon, use_scale=use_scale,
                      dtype=dtype, name=name)


def activation(name):
  """'relu', 'leaky_relu' (slope 0.2, as SRGAN and DCGAN use) or 'prelu' (a learned slope starting at 0.25, as
  PyTorch's nn.PReLU; call this inside a compact module so the slope becomes that module's parameter)."""
  if name == 'relu':
    return nn.relu
  if name == 'leaky_relu':
    return functools.partial(nn.leaky_relu, negative_slope=0.2)
  if name == 'prelu':
    return nn.PReLU(negative_slope_init=0.25)
  raise ValueError(f"unknown activation '{name}' (known: relu, leaky_relu, prelu)")


def avg_pool(x, factor):
  return nn.avg_pool(x, (factor, factor), strides=(factor, factor))


def nearest_upsample(x, factor):
  return x.repeat(factor, axis=1).repeat(factor, axis=2)


def pixel_shuffle(x, factor):
  """Depth-to-space in PyTorch's order: input channels are grouped as (C, r, r), as nn.PixelShuffle reads them."""
  n, h, w, c = x.shape
  out = c // (factor * factor)
  x = x.reshape(n, h, w, out, factor, factor)
  x = x.transpose(0, 1, 4, 2, 5, 3)
  return x.reshape(n, h * factor, w * factor, out)


class PreActResBlock(nn.Module):
  """BN, ReLU, conv3x3, BN, ReLU, [2x2 avg pool], conv3x3 (no biases); skip: [avg pool], 1x1 conv if widths differ.

  The block of Bulat et al.'s generators (METHODS.md A). srez (METHODS.md B) uses it with its own BatchNorm
  (`norm`: a function of `train`) and near-zero initial convolutions, so each block starts as the identity.
  """
  features: int
  downsample: bool = False
  dtype: Dtype = jnp.float32
  norm: Callable[[bool], nn.Module] | None = None  # None: batch_norm(train, dtype)
  kernel_init: Callable = nn.initializers.lecun_normal()

  @nn.compact
  def __call__(self, x, train):
    conv = functools.partial(nn.Conv, use_bias=False, dtype=self.dtype, kernel_init=self.kernel_init)
    norm = self.norm or (lambda train: batch_norm(train, self.dtype))
    h = nn.relu(norm(train)(x))
    h = conv(self.features, (3, 3))(h)
    h = nn.relu(norm(train)(h))
    if self.downsample:
      h, x = avg_pool(h, 2), avg_pool(x, 2)
    h = conv(self.features, (3, 3))(h)
    if x.shape[-1] != self.features:
      x = conv(self.features, (1, 1), name='skip')(x)
    return x + h


class ResBlock(nn.Module):
  """conv3x3, BN, act, conv3x3, BN, + x: SRResNet's block with PReLU (Ledig et al. 2017), DCGAN-SR's with LeakyReLU."""
  features: int
  activation: str = 'prelu'
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    h = nn.Conv(self.features, (3, 3), dtype=self.dtype)(x)
    h = activation(self.activation)(batch_norm(train, self.dtype)(h))
    h = nn.Conv(self.features, (3, 3), dtype=self.dtype)(h)
    return x + batch_norm(train, self.dtype)(h)


class BottleneckBlock(nn.Module):
  """BN, ReLU, conv1x1 f/2, BN, ReLU, conv3x3 f/2, BN, ReLU, conv1x1 f; skip: 1x1 conv if widths differ.

  The residual module of the stacked hourglass (Newell et al., ECCV 2016), which FSRNet uses in every branch.
  """
  features: int
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    h = x
    for width, kernel in ((self.features // 2, 1), (self.features // 2, 3), (self.features, 1)):
      h = nn.relu(batch_norm(train, self.dtype)(h))
      h = nn.Conv(width, (kernel, kernel), dtype=self.dtype)(h)
    if x.shape[-1] != self.features:
      x = nn.Conv(self.features, (1, 1), dtype=self.dtype, name='skip')(x)
    return x + h


class Hourglass(nn.Module):
  """Newell et al. (ECCV 2016): a skip branch at this scale plus max-pool, blocks, a `depth - 1` hourglass
  (one block at the bottom), a block, nearest x2; `depth` halvings in all, so the input side must divide 2^depth."""
  features: int
  depth: int = 4
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    block = lambda: BottleneckBlock(self.features, self.dtype)  # noqa: E731
    skip = block()(x, train)
    low = block()(nn.max_pool(x, (2, 2), strides=(2, 2)), train)
    low = Hourglass(self.features, self.depth - 1, self.dtype)(low, train) if self.depth > 1 else block()(low, train)
    return skip + nearest_upsample(block()(low, train), 2)


class PixelShuffleUpsample(nn.Module):
  """conv3x3 to features * r^2, pixel shuffle x r, activation: SRResNet's sub-pixel upsampling (Shi et al. 2016)."""
  features: int
  factor: int = 2
  activation: str = 'prelu'
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x):
    x = nn.Conv(self.features * self.factor ** 2, (3, 3), dtype=self.dtype)(x)
    return activation(self.activation)(pixel_shuffle(x, self.factor))


class ConvNormAct(nn.Module):
  """conv (kernel, stride), [BN], activation: the unit of the plain convolutional discriminators."""
  features: int
  kernel: int = 3
  stride: int = 1
  norm: bool = True
  activation: str = 'leaky_relu'
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    x = nn.Conv(self.features, (self.kernel, self.kernel), (self.stride, self.stride), dtype=self.dtype)(x)
    if self.norm:
      x = batch_norm(train, self.dtype)(x)
    return activation(self.activation)(x)


class SNConv(nn.Module):
  """A convolution with spectral norm: one power iteration per training call, state in `batch_stats`."""
  features: int
  kernel_size: int = 3
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    conv = nn.Conv(self.features, (self.kernel_size, self.kernel_size), dtype=self.dtype)
    return nn.SpectralNorm(conv, n_steps=1)(x, update_stats=train)


class SNDense(nn.Module):
  features: int
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    return nn.SpectralNorm(nn.Dense(self.features, dtype=self.dtype), n_steps=1)(x, update_stats=train)


class SNResBlock(nn.Module):
  """ReLU, SNconv3x3, ReLU, SNconv3x3, [2x2 avg pool]; skip: SN 1x1 conv, [avg pool]. No normalisation.

  The first block of a discriminator skips the first ReLU so the raw image is not rectified.
  """
  features: int
  downsample: bool = False
  first: bool = False
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    h = x if self.first else nn.relu(x)
    h = SNConv(self.features, 3, self.dtype)(h, train)
    h = SNConv(self.features, 3, self.dtype)(nn.relu(h), train)
    skip = SNConv(self.features, 1, self.dtype, name='skip')(x, train)
    if self.downsample:
      h, skip = avg_pool(h, 2), avg_pool(skip, 2)
    return h + skip
