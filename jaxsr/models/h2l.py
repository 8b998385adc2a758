"""The High-to-Low generator of Bulat et al. (ECCV 2018): HR face + noise -> LR face with realistic degradation."""
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from jaxsr.models import layers


class HighToLowGenerator(nn.Module):
  """HR (N, 64, 64, 3) in [-1, 1] and z (N, 64) -> LR (N, 16, 16, 3) in [-1, 1] (METHODS.md A).

  z -> Dense(H*W) -> an (H, W, 1) noise image concatenated to the input as a 4th channel; conv3x3; encoder of
  pre-activation blocks (`widths`, every second block halving the size: 64 -> 4); decoder of pixel shuffles x2,
  each followed by `blocks_per_stage` blocks of `up_widths`; head conv3x3 8, ReLU, conv3x3 3, tanh.

  `skips=True` is the seed 000 encoder-decoder with two skip connections: the encoder features at the first two
  decoder resolutions (8x8 and 16x16) are projected by 1x1 convs and added after each pixel shuffle.
  """
  widths: Sequence[int] = (96, 96, 128, 128, 256, 256, 512, 512)
  up_widths: Sequence[int] = (128, 32)
  blocks_per_stage: int = 2
  skips: bool = False
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, hr, z, train):
    n, h, w, _ = hr.shape
    noise = nn.Dense(h * w, dtype=self.dtype, name='noise')(z).reshape(n, h, w, 1)
    x = nn.Conv(self.widths[0], (3, 3), dtype=self.dtype)(jnp.concatenate([hr, noise.astype(hr.dtype)], -1))
    encoder = {}
    for i, width in enumerate(self.widths):
      x = layers.PreActResBlock(width, downsample=i % 2 == 1, dtype=self.dtype)(x, train)
      encoder[x.shape[1]] = x
    for width in self.up_widths:
      x = layers.pixel_shuffle(x, 2)
      if x.shape[-1] != width:
        raise ValueError(f'pixel shuffle gives {x.shape[-1]} channels, up_widths asks for {width}')
      if self.skips and x.shape[1] in encoder:
        x = x + nn.Conv(width, (1, 1), use_bias=False, dtype=self.dtype)(encoder[x.shape[1]])
      for _ in range(self.blocks_per_stage):
        x = layers.PreActResBlock(width, dtype=self.dtype)(x, train)
    x = nn.relu(nn.Conv(8, (3, 3), dtype=self.dtype)(x))
    return jnp.tanh(nn.Conv(3, (3, 3), dtype=self.dtype)(x).astype(jnp.float32))
