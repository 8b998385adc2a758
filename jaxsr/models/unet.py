"""The U-Nets of the face-SR write-up a7med12345/Face_super-resolution (its figures HightoLow.png, LowtoHigh.png
and Discriminator.png): the degradation pipeline of Bulat et al. (ECCV 2018) with every network working on 64x64
images, real LR faces entering bicubic-upsampled from 16x16.

  encoder : conv -> C0 at 64x64, then stages of [norm, activation, conv] (stride 2 where the side halves):
            64 s2, 64 | 128 s2, 128 | 128 s2, 128 | 256 s2, 256 | 256 s2, 256 | 512 s2, 512 (1x1; no norm)
  decoder : per level, from 1x1 back to 64x64: [norm, activation, conv 4C, pixel shuffle x2] -> C,
            [norm, activation, conv] -> C, then concatenated with the encoder's output at that side where a skip
            is drawn (no norm on the level next to 1x1, as the encoder's last two stages)
  head    : [norm, activation, conv 3]; L2H adds its input (the global residual); tanh

`width` scales every width (64, the figures', gives about 21 M parameters per U-Net; tests use 8). H2L draws
skips at 4x4 and 2x2 and takes a 4th input channel, a fully connected layer of z ~ N(0, 1)^z_dim
reshaped to 64x64x1; L2H draws one at every side. The discriminator is the encoder without normalisation (conv,
then [activation, conv] stages) and one fully connected output.

The figures do not give kernel sizes, the normalisation or the activation; they are those of Bulat et al.'s code
(jingyang2017/Face-and-Image-super-resolution, H2L.py): 3x3 convolutions with PyTorch's initialisation, stride-2
convolutions to halve, BatchNorm, ReLU, conv-then-shuffle to double. The encoder's two 1x1 stages and the
decoder's first level have no normalisation, as drawn (a BatchNorm over 1x1 maps is a per-channel batch norm).
"""
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from jaxsr.models import layers

# (width in units of the first conv's, stride) of the encoder's stages after its first conv, as drawn with a first
# width of 64: 64 s2, 64 | 128 s2, 128 | 128 s2, 128 | 256 s2, 256 | 256 s2, 256 | 512 s2, 512.
ENCODER = ((1, 2), (1, 1), (2, 2), (2, 1), (2, 2), (2, 1), (4, 2), (4, 1), (4, 2), (4, 1), (8, 2), (8, 1))
H2L_SKIPS = (4, 2)  # sides whose encoder features the H2L decoder concatenates
L2H_SKIPS = (64, 32, 16, 8, 4, 2)


ACTIVATIONS = {'relu': nn.relu, 'leaky_relu': lambda x: nn.leaky_relu(x, 0.2)}


class _Stage(nn.Module):
  """[norm, activation, conv] (norm off: [activation, conv]); `shuffle` makes it the decoder's x2 upsampling."""
  features: int
  stride: int = 1
  norm: bool = True
  shuffle: bool = False
  activation: str = 'relu'
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    if self.norm:
      x = layers.batch_norm(train, self.dtype)(x)
    x = ACTIVATIONS[self.activation](x)
    x = layers.TorchConv(self.features * (4 if self.shuffle else 1), 3, stride=self.stride, dtype=self.dtype)(x)
    return layers.pixel_shuffle(x, 2) if self.shuffle else x


class UNetEncoder(nn.Module):
  """x (N, 64, 64, C) -> {side: the last features at that side}; `norm` False drops every normalisation."""
  width: int = 64
  stages: Sequence[tuple[int, int]] = ENCODER
  norm: bool = True
  activation: str = 'relu'
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    x = layers.TorchConv(self.width, 3, dtype=self.dtype)(x)
    features = {x.shape[1]: x}
    for units, stride in self.stages:
      norm = self.norm and x.shape[1] // stride > 1  # none on the stages that end at 1x1, as drawn
      x = _Stage(units * self.width, stride, norm, activation=self.activation, dtype=self.dtype)(x, train)
      features[x.shape[1]] = x
    return features


class UNet(nn.Module):
  """x (N, 64, 64, C) -> (N, 64, 64, 3) in [-1, 1]: the encoder, the decoder with skips at `skips`, the head;
  `residual` adds the input's first 3 channels before the tanh (L2H's global residual)."""
  skips: Sequence[int] = L2H_SKIPS
  residual: bool = False
  width: int = 64
  activation: str = 'relu'
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    if x.shape[1] != 64 or x.shape[2] != 64:
      raise ValueError(f'the write-up U-Nets work on 64x64 images, got {x.shape[1]}x{x.shape[2]}')
    encoded = UNetEncoder(self.width, activation=self.activation, dtype=self.dtype)(x, train)
    widths = {side: f.shape[-1] for side, f in encoded.items()}
    y = encoded[1]
    for side in (2, 4, 8, 16, 32, 64):
      norm = side > 2
      y = _Stage(widths[side], norm=norm, shuffle=True, activation=self.activation, dtype=self.dtype)(y, train)
      y = _Stage(widths[side], norm=norm, activation=self.activation, dtype=self.dtype)(y, train)
      if side in self.skips:
        y = jnp.concatenate([y, encoded[side]], axis=-1)
    y = _Stage(3, activation=self.activation, dtype=self.dtype)(y, train).astype(jnp.float32)
    if self.residual:
      y = y + x[..., :3].astype(jnp.float32)
    return jnp.tanh(y)


class UNetHighToLow(nn.Module):
  """HR (N, 64, 64, 3) and z (N, z_dim) -> a degraded face at 64x64 (as a 16x16 face bicubic-upsampled looks):
  z through a fully connected layer to a 64x64x1 noise image, the 4th input channel of a U-Net with H2L_SKIPS."""
  width: int = 64
  activation: str = 'relu'
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, hr, z, train):
    n, h, w, _ = hr.shape
    noise = nn.Dense(h * w, dtype=self.dtype, kernel_init=layers.torch_kernel_init,
                     bias_init=layers.torch_uniform_bias(z.shape[-1]), name='noise')(z)
    x = jnp.concatenate([hr, noise.reshape(n, h, w, 1).astype(hr.dtype)], -1)
    return UNet(H2L_SKIPS, width=self.width, activation=self.activation, dtype=self.dtype, name='unet')(x, train)


class UNetLowToHigh(nn.Module):
  """An LR face bicubic-upsampled to 64x64 -> the SR face: a U-Net with L2H_SKIPS and the global residual."""
  width: int = 64
  activation: str = 'relu'
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    return UNet(L2H_SKIPS, True, self.width, self.activation, self.dtype, name='unet')(x, train)


class UNetDiscriminator(nn.Module):
  """(N, 64, 64, 3) -> (N,) logits: the encoder without normalisation down to 1x1x512, one linear output."""
  width: int = 64
  activation: str = 'relu'
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    features = UNetEncoder(self.width, norm=False, activation=self.activation, dtype=self.dtype)(x, train)[1]
    out = nn.Dense(1, dtype=self.dtype, kernel_init=layers.torch_kernel_init,
                   bias_init=layers.torch_uniform_bias(features.shape[-1]))(features.reshape(x.shape[0], -1))
    return out[:, 0].astype(jnp.float32)
