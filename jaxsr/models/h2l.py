"""The High-to-Low generator of Bulat, Yang, Tzimiropoulos, "To learn image super-resolution, use a GAN to learn
how to do image degradation first" (ECCV 2018, Sec. 3.2): HR face + noise -> LR face with a realistic degradation.

Two sources: the authors' own generators (H2L.py of jingyang2017/Face-and-Image-super-resolution, added in 2021),
the default, and yoon28/unpaired_face_sr's re-implementation, whose channel counts are its author's choice.
"""
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
  they go, and the official code has none; so neither does this port. Every layer starts as PyTorch initialises
  it (yoon28's code keeps PyTorch's defaults).
  """
  widths: Sequence[int] = (96, 96, 128, 128, 256, 256, 512, 512)
  up_widths: Sequence[int] = (128, 32)
  blocks_per_stage: int = 2
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, hr, z, train):
    n, h, w, _ = hr.shape
    conv = lambda features, name: nn.Conv(features, (3, 3), use_bias=False, dtype=self.dtype,  # noqa: E731
                                          kernel_init=layers.torch_kernel_init, name=name)
    noise = nn.Dense(h * w, dtype=self.dtype, kernel_init=layers.torch_kernel_init,
                     bias_init=layers.torch_uniform_bias(z.shape[-1]), name='noise')(z).reshape(n, h, w, 1)
    x = conv(self.widths[0], 'stem')(jnp.concatenate([hr, noise.astype(hr.dtype)], -1))
    for i, width in enumerate(self.widths):
      x = layers.PreActResBlock(width, downsample=i % 2 == 0, dtype=self.dtype, torch_init=True)(x, train)
    for width in self.up_widths:
      x = layers.pixel_shuffle(x, 2)
      if x.shape[-1] != width:
        raise ValueError(f'config.generator.up_widths: the pixel shuffle gives {x.shape[-1]} channels here, '
                         f'up_widths asks for {width}')
      for _ in range(self.blocks_per_stage):
        x = layers.PreActResBlock(width, dtype=self.dtype, torch_init=True)(x, train)
    x = nn.relu(conv(8, 'head_conv')(x))
    return jnp.tanh(conv(3, 'head_out')(x).astype(jnp.float32))


# The generators of the authors' H2L.py that share one layout, as (stem stride, stride-2 stages, residual blocks
# before each pixel shuffle, noise input). The default is Gen_h2l_0424, the file's x4 generator marked '#!!!!' and
# dated latest, with StyleGAN-like noise; Gen_h2l_0424_32 is its x2 (64 -> 32) sibling. The file's first
# generator, Gen_h2l, has a layout of its own: BulatGenH2L ('gen_h2l').
BULAT_GENERATORS = {
    'gen_h2l_0424': (1, 4, 2, 'scaled'),
    'gen_h2l_0424_32': (1, 3, 2, 'linear'),
    'gen_h2l_2': (2, 3, 0, 'linear'),
    'gen_h2l_cgan': (2, 3, 0, 'broadcast'),
}


class BulatHighToLowGenerator(nn.Module):
  """HR (N, H, W, 3) in [-1, 1] and z (N, z_dim) -> LR in [-1, 1]: the authors' H2L generators (jingyang2017/
  Face-and-Image-super-resolution, H2L.py: Gen_h2l_0424, Gen_h2l_0424_32, Gen_h2l_2, Gen_h2l_cgan; `variant`).

  Noise in: 'scaled' (Gen_h2l_0424): x + w_c n with n ~ N(0, 1) one (H, W) image (z reshaped: z_dim = H W) and w
  learned per channel from 0; 'linear': Linear(z) -> an (H, W) image as a 4th channel; 'broadcast' (cgan): z's
  z_dim values as constant channels. Then conv3x3 (stride 1 or 2) + ReLU; per stride-2 stage two post-activation
  blocks (layers.PostActResBlock), BN, ReLU, conv3x3 stride 2; per x2 up stage `up_blocks` blocks, conv3x3 4 nf,
  pixel shuffle, ReLU; conv3x3 3, tanh. Every conv biased with PyTorch's initialisation, nf = 64; module names are
  the state dict's (main_<i> for main.<i>), so released weights would map one to one.
  """
  variant: str = 'gen_h2l_0424'
  features: int = 64
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, hr, z, train):
    stem_stride, down, up_blocks, noise = BULAT_GENERATORS[self.variant]
    n, h, w, c = hr.shape
    conv = lambda features, name, stride=1: layers.TorchConv(  # noqa: E731
        features, 3, dtype=self.dtype, stride=stride, name=name)
    x = hr
    if noise == 'scaled':
      if z.shape[-1] != h * w:
        raise ValueError(f'config.z_dim: {self.variant} adds one noise image of the input size: z_dim must be '
                         f'{h} x {w} = {h * w}, got {z.shape[-1]}')
      x = x + self.param('weight', nn.initializers.zeros, (c,)) * z.reshape(n, h, w, 1).astype(x.dtype)
    elif noise == 'linear':
      image = nn.Dense(h * w, dtype=self.dtype, kernel_init=layers.torch_kernel_init,
                       bias_init=layers.torch_uniform_bias(z.shape[-1]), name='linear')(z)
      x = jnp.concatenate([x, image.reshape(n, h, w, 1).astype(x.dtype)], -1)
    else:
      x = jnp.concatenate([x, jnp.broadcast_to(z[:, None, None, :], (n, h, w, z.shape[-1])).astype(x.dtype)], -1)
    x = nn.relu(conv(self.features, 'conv1', stem_stride)(x))
    i = 0
    for _ in range(down):
      for _ in range(2):
        x = layers.PostActResBlock(self.features, self.dtype, name=f'main_{i}')(x, train)
        i += 1
      x = nn.relu(layers.batch_norm(train, self.dtype, name=f'main_{i}')(x))
      x = conv(self.features, f'main_{i + 2}', 2)(x)
      i += 3
    for stage in (1, 2):
      for j in range(up_blocks):
        x = layers.PostActResBlock(self.features, self.dtype, name=f'up{stage}_{j}')(x, train)
      x = conv(4 * self.features, f'up{stage}_{up_blocks}' if up_blocks else f'conv{stage + 1}')(x)
      x = nn.relu(layers.pixel_shuffle(x, 2))
    return jnp.tanh(conv(3, 'conv4')(x).astype(jnp.float32))

  @staticmethod
  def scale(variant):
    """How many times smaller the output is than the input."""
    stem_stride, down, _, _ = BULAT_GENERATORS[variant]
    return stem_stride * 2 ** down // 4


class BulatGenH2L(nn.Module):
  """HR (N, 64, 64, 3) in [-1, 1] and z (N, 64) -> LR (N, 16, 16, 3): `Gen_h2l` of the authors' H2L.py (jingyang2017/
  Face-and-Image-super-resolution), the file's first generator, with `add_n` (z -> Linear -> a 4th input channel):
  conv3x3 nf + ReLU; 12 post-activation blocks at full size; BN, ReLU, conv stride 2; 3 blocks; BN, ReLU, conv
  stride 2; 2 residual blocks of conv3x3 + ReLU (no BN); conv3x3 3, tanh. Module names are the state dict's
  (conv2_1_<i> for conv2_1.<i>). Its 24 convolutions at 64x64 make it the costliest of the file's generators
  (about 12x Gen_h2l_2's operations).
  """
  features: int = 64
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, hr, z, train):
    n, h, w, _ = hr.shape
    conv = lambda name, stride=1: layers.TorchConv(self.features, 3, dtype=self.dtype, stride=stride,  # noqa: E731
                                                   name=name)
    bn = lambda name: layers.batch_norm(train, self.dtype, name=name)  # noqa: E731
    noise = nn.Dense(h * w, dtype=self.dtype, kernel_init=layers.torch_kernel_init,
                     bias_init=layers.torch_uniform_bias(z.shape[-1]), name='linear')(z)
    x = jnp.concatenate([hr, noise.reshape(n, h, w, 1).astype(hr.dtype)], -1)
    x = nn.relu(conv('conv1')(x))
    for stage, blocks in ((2, 12), (3, 3)):
      for i in range(blocks):
        y = nn.relu(bn(f'bn{stage}_1_{i}')(conv(f'conv{stage}_1_{i}')(x)))
        x = x + bn(f'bn{stage}_2_{i}')(conv(f'conv{stage}_2_{i}')(y))
      x = conv(f'conv{stage + 1}', 2)(nn.relu(bn(f'bn{stage + 1}')(x)))
    for i in range(2):
      x = x + nn.relu(conv(f'conv4_1_{i}')(x))
    out = layers.TorchConv(3, 3, dtype=self.dtype, name='conv5')(x)
    return jnp.tanh(out.astype(jnp.float32))
