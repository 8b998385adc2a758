"""Layers shared by every network: PyTorch-compatible BatchNorm, pre-activation residual blocks, pixel shuffle,
spectral-norm convolutions. Modules take `train` (batch statistics and spectral-norm power iterations on) and a
computation `dtype`; parameters stay float32.
"""
import functools
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

Dtype = Any


def batch_norm(train, dtype, name=None):
  """PyTorch BatchNorm2d defaults (momentum 0.1 there is 0.9 here, eps 1e-5)."""
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5, dtype=dtype, name=name)


def avg_pool(x, factor):
  return nn.avg_pool(x, (factor, factor), strides=(factor, factor))


def pixel_shuffle(x, factor):
  """Depth-to-space in PyTorch's order: input channels are grouped as (C, r, r), as nn.PixelShuffle reads them."""
  n, h, w, c = x.shape
  out = c // (factor * factor)
  x = x.reshape(n, h, w, out, factor, factor)
  x = x.transpose(0, 1, 4, 2, 5, 3)
  return x.reshape(n, h * factor, w * factor, out)


class PreActResBlock(nn.Module):
  """BN, ReLU, conv3x3, BN, ReLU, [2x2 avg pool], conv3x3 (no biases); skip: [avg pool], 1x1 conv if widths differ.

  The block of Bulat et al.'s generators (METHODS.md A).
  """
  features: int
  downsample: bool = False
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    conv = functools.partial(nn.Conv, use_bias=False, dtype=self.dtype)
    h = nn.relu(batch_norm(train, self.dtype)(x))
    h = conv(self.features, (3, 3))(h)
    h = nn.relu(batch_norm(train, self.dtype)(h))
    if self.downsample:
      h, x = avg_pool(h, 2), avg_pool(x, 2)
    h = conv(self.features, (3, 3))(h)
    if x.shape[-1] != self.features:
      x = conv(self.features, (1, 1), name='skip')(x)
    return x + h


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
