"""The High-to-Low generator of Bulat, Yang, Tzimiropoulos, "To learn image super-resolution, use a GAN to learn
how to do image degradation first" (ECCV 2018, Sec. 3.2): HR face + noise -> LR face with a realistic degradation."""
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from jaxsr.models import layers


class HighToLowGenerator(nn.Module):
  """HR (N, 64, 64, 3) in [-1, 1] and z (N, 64) -> LR (N, 16, 16, 3) in [-1, 1].

  As `High2Low` of yoon28/unpaired_face_sr (yoon_model.py), the training code the authors point to: z ->
  Dense(H*W) -> an (H, W, 1) noise image concatenated to the input as a 4th channel; conv3x3 (no bias); an encoder
  of pre-activation blocks (`widths`; the first block of each pair pools 2x2 and changes the width: 64 -> 4); a
  decoder of pixel shuffles x2, each followed by `blocks_per_stage` blocks of `up_widths`; head conv3x3 8, ReLU,
  conv3x3 3 (no biases), tanh.

  The paper's figure (an encoder-decoder "with two skip connections") is not published in a form that fixes where
  they go, and the official code has none; so neither does this port.
  """
  widths: Sequence[int] = (96, 96, 128, 128, 256, 256, 512, 512)
  up_widths: Sequence[int] = (128, 32)
  blocks_per_stage: int = 2
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, hr, z, train):
    n, h, w, _ = hr.shape
    conv = lambda features, name: nn.Conv(features, (3, 3), use_bias=False, dtype=self.dtype, name=name)  # noqa: E731
    noise = nn.Dense(h * w, dtype=self.dtype, name='noise')(z).reshape(n, h, w, 1)
    x = conv(self.widths[0], 'stem')(jnp.concatenate([hr, noise.astype(hr.dtype)], -1))
    for i, width in enumerate(self.widths):
      x = layers.PreActResBlock(width, downsample=i % 2 == 0, dtype=self.dtype)(x, train)
    for width in self.up_widths:
      x = layers.pixel_shuffle(x, 2)
      if x.shape[-1] != width:
        raise ValueError(f'config.generator.up_widths: the pixel shuffle gives {x.shape[-1]} channels here, '
                         f'up_widths asks for {width}')
      for _ in range(self.blocks_per_stage):
        x = layers.PreActResBlock(width, dtype=self.dtype)(x, train)
    x = nn.relu(conv(8, 'head_conv')(x))
    return jnp.tanh(conv(3, 'head_out')(x).astype(jnp.float32))
