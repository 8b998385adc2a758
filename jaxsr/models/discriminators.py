"""Discriminators."""
from typing import Callable, Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from jaxsr.models import layers


class SNResNetDiscriminator(nn.Module):
  """Bulat et al.'s spectral-norm residual discriminator (ECCV 2018, Sec. 3.3), as yoon28/unpaired_face_sr trains
  it (yoon_model.py, `Discriminator`): residual blocks of `widths` (layers.SNResBlock), the last `pooled_blocks`
  halving the resolution (2 for the 16x16 LR discriminator, 4 for the 64x64 HR one, both ending at 4x4); flatten,
  SN-Dense 512, ReLU, SN-Dense 1. Returns (N,) logits.

  Kept different: the flatten is in NHWC order, a fixed permutation of PyTorch's NCHW one (no discriminator
  weights were released to load); the power iteration runs in every call, as the PyTorch
  SpectralNorm wrapper's does, but its vector is kept from training calls only, where PyTorch's keeps it from
  every forward, evaluation included. Kernels and biases are drawn as PyTorch draws them, but flax's
  nn.SpectralNorm stores a kernel as W / sigma(W) when it is created, so kernels start in PyTorch's directions at
  unit spectral norm, not at its scale (a raw-kernel layer, as layers.SNXavier, would change the parameter tree of
  the runs recorded with these networks).
  """
  widths: Sequence[int] = (128, 128, 256, 256, 512, 512)
  pooled_blocks: int = 2
  dense_features: int = 512
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    first_pooled = len(self.widths) - self.pooled_blocks
    for i, width in enumerate(self.widths):
      x = layers.SNResBlock(width, downsample=i >= first_pooled, dtype=self.dtype)(x, train)
    x = nn.relu(layers.SNDense(self.dense_features, self.dtype)(x.reshape(x.shape[0], -1), train))
    return layers.SNDense(1, self.dtype)(x, train)[:, 0].astype(jnp.float32)


class SNGANBlock(nn.Module):
  """The residual block of Bulat et al.'s Discriminator.py (jingyang2017/Face-and-Image-super-resolution), from
  the SNGAN code it adapts: ReLU, SNconv3x3, ReLU, SNconv3x3, [2x2 avg pool]; skip: [SN conv1x1, avg pool] when it
  pools, else the identity. `first` (FirstResBlockDiscriminator) leaves the raw image unrectified and always pools,
  its skip pooling before the 1x1 conv. Kernels Xavier-uniform (gain 1; sqrt(2) on the skip), biases as PyTorch's
  (layers.SNXavier)."""
  features: int
  stride: int = 1
  first: bool = False
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    def conv(inputs, kernel, gain, name):
      return layers.SNXavier(self.features, kernel, gain, self.dtype, name=name)(inputs, train)

    pool = self.first or self.stride != 1
    h = x if self.first else nn.relu(x)
    h = conv(nn.relu(conv(h, 3, 1.0, 'conv1')), 3, 1.0, 'conv2')
    if pool:
      h = layers.avg_pool(h, 2)
    if self.first:
      skip = conv(layers.avg_pool(x, 2), 1, np.sqrt(2), 'bypass_conv')
    elif pool:
      skip = layers.avg_pool(conv(x, 1, np.sqrt(2), 'bypass_conv'), 2)
    else:
      skip = x
    return h + skip


class SNGANDiscriminator(nn.Module):
  """Bulat et al.'s own discriminators (jingyang2017/Face-and-Image-super-resolution, Discriminator.py): SNGANBlocks
  of 128 with `strides` (the first block always halves), ReLU, global average pooling, SN-Linear(1) (Xavier).
  (2, 2, 2, 2, 1) is `Discriminator` (64x64 HR faces, 1,382,017 parameters), (2, 2, 1, 1, 1) `Discriminator_16`
  (16x16 LR faces, 1,348,993). Returns (N,) logits."""
  strides: Sequence[int] = (2, 2, 1, 1, 1)
  features: int = 128
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    for i, stride in enumerate(self.strides):
      x = SNGANBlock(self.features, stride, i == 0, self.dtype, name=f'model_{i}')(x, train)
    x = nn.relu(x).mean(axis=(1, 2))
    return layers.SNXavier(1, dtype=self.dtype, name='fc')(x, train)[:, 0].astype(jnp.float32)


class ConvDiscriminator(nn.Module):
  """Plain convolutional discriminators: a stack of (conv, BN, activation) units, then a head. Returns (N,) logits.

  `units` are (features, kernel, stride). `first_norm=False` leaves BN off the first unit (SRGAN).
  Heads: 'dense' flattens, Dense(dense_features), activation, Dense(1) (SRGAN); 'mean' is a 1x1 conv to one
  channel averaged over space (srez). `norm_fn(train)` and `kernel_init` replace PyTorch-default BatchNorm and
  Flax's initialisation (srez: TensorFlow's).
  """
  units: Sequence[tuple[int, int, int]]
  activation: str = 'leaky_relu'
  first_norm: bool = True
  head: str = 'dense'
  dense_features: int = 1024
  dtype: layers.Dtype = jnp.float32
  norm_fn: Callable[[bool], nn.Module] | None = None
  kernel_init: Callable = nn.initializers.lecun_normal()

  @nn.compact
  def __call__(self, x, train):
    for i, (features, kernel, stride) in enumerate(self.units):
      x = layers.ConvNormAct(features, kernel, stride, self.first_norm or i > 0, self.activation, self.dtype,
                             self.norm_fn, self.kernel_init)(x, train)
    if self.head == 'dense':
      x = layers.activation(self.activation)(nn.Dense(self.dense_features, dtype=self.dtype)(x.reshape(len(x), -1)))
      return nn.Dense(1, dtype=self.dtype)(x)[:, 0].astype(jnp.float32)
    if self.head == 'mean':
      x = nn.Conv(1, (1, 1), dtype=self.dtype, kernel_init=self.kernel_init)(x)
      return x.astype(jnp.float32).mean(axis=(1, 2, 3))
    raise ValueError(f"config.discriminator.head: unknown '{self.head}' (known: dense, mean)")


class DCGANSRDiscriminator(nn.Module):
  """The discriminator of DCGAN super-resolution (dwipddalal/Image-super-resolution-using-GANs,
  Super_Resolution_DCGAN.ipynb), as the notebook ran it: conv3x3 64 + LeakyReLU(0.2); conv3x3 stride 2 + BN for
  `widths` (64, 128, 256, 512); conv3x3 256 + BN; Dense 1024 at every position + BN; global average pool;
  Dense 1 (a logit: the sigmoid is in the loss). Keras BatchNorm and Glorot-uniform kernels. 3,040,961 parameters
  at 128x128 (3,036,481 trainable), as the notebook's summary.

  `bn_activations=True` adds the LeakyReLUs after the conv BNs that the notebook writes as
  `Activation(LeakyReLU(...))` but never adds to the model (what its README describes).
  """
  widths: Sequence[int] = (64, 128, 256, 512)
  features: int = 256
  dense_features: int = 1024
  bn_activations: bool = False
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    glorot = nn.initializers.glorot_uniform()
    act = layers.activation('leaky_relu')
    x = act(nn.Conv(64, (3, 3), dtype=self.dtype, kernel_init=glorot)(x))
    for width, stride in [(w, 2) for w in self.widths] + [(self.features, 1)]:
      x = nn.Conv(width, (3, 3), (stride, stride), dtype=self.dtype, kernel_init=glorot)(x)
      x = layers.keras_batch_norm(train, self.dtype)(x)
      x = act(x) if self.bn_activations else x
    x = nn.Dense(self.dense_features, dtype=self.dtype, kernel_init=glorot)(x)  # at every position
    x = layers.keras_batch_norm(train, self.dtype)(x)
    x = nn.Dense(1, dtype=self.dtype, kernel_init=glorot)(x.mean(axis=(1, 2)))
    return x[:, 0].astype(jnp.float32)


# SRGAN (Ledig et al. 2017): conv 64 without BN, then 7 conv-BN-LeakyReLU units, Dense 1024, Dense 1.
SRGAN_UNITS = ((64, 3, 1), (64, 3, 2), (128, 3, 1), (128, 3, 2), (256, 3, 1), (256, 3, 2), (512, 3, 1), (512, 3, 2))
# srez (david-gpu/srez, srez_model.py): 4 x (conv3x3 stride 2, BN, ReLU), conv3x3 512, 1x1 512, then the 1x1
# conv to one logit map.
SREZ_UNITS = ((64, 3, 2), (128, 3, 2), (256, 3, 2), (512, 3, 2), (512, 3, 1), (512, 1, 1))
