"""Discriminators."""
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from jaxsr.models import layers


class SNResNetDiscriminator(nn.Module):
  """Bulat et al.'s spectral-norm residual discriminator (METHODS.md A).

  Residual blocks of `widths`; the last `pooled_blocks` halve the resolution (2 for the 16x16 LR discriminator,
  4 for the 64x64 HR one, both ending at 4x4); flatten, SN-Dense 512, ReLU, SN-Dense 1. Returns (N,) logits.
  """
  widths: Sequence[int] = (128, 128, 256, 256, 512, 512)
  pooled_blocks: int = 2
  dense_features: int = 512
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    first_pooled = len(self.widths) - self.pooled_blocks
    for i, width in enumerate(self.widths):
      x = layers.SNResBlock(width, downsample=i >= first_pooled, first=i == 0, dtype=self.dtype)(x, train)
    x = nn.relu(x).reshape(x.shape[0], -1)
    x = nn.relu(layers.SNDense(self.dense_features, self.dtype)(x, train))
    return layers.SNDense(1, self.dtype)(x, train)[:, 0].astype(jnp.float32)
