"""The super-resolvers of the supervised and adversarial family: LR (N, h, w, 3) -> SR (N, h*s, w*s, 3), both in
[-1, 1]. Each upsamples by x2 stages, so the scale s must be a power of two (x2, x4, x8)."""
import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxsr.models import layers


def upsampling_stages(scale):
  stages = int(round(math.log2(scale))) if scale >= 2 else 0
  if 2 ** stages != scale:
    raise ValueError(f'config.scale: these generators upsample in x2 stages; {scale} is not 2, 4, 8, ...')
  return stages


class SRResNetGenerator(nn.Module):
  """Ledig et al. (CVPR 2017); also SRGAN's generator.

  conv9x9 64, PReLU; `blocks` x (conv3x3, BN, PReLU, conv3x3, BN, + x); conv3x3, BN, + long skip;
  log2(scale) x (conv3x3 256, pixel shuffle x2, PReLU); conv9x9 3, tanh.
  """
  scale: int = 4
  blocks: int = 16
  features: int = 64
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, lr, train):
    x = skip = nn.PReLU(negative_slope_init=0.25)(nn.Conv(self.features, (9, 9), dtype=self.dtype)(lr))
    for _ in range(self.blocks):
      x = layers.ResBlock(self.features, 'prelu', self.dtype)(x, train)
    x = skip + layers.batch_norm(train, self.dtype)(nn.Conv(self.features, (3, 3), dtype=self.dtype)(x))
    for _ in range(upsampling_stages(self.scale)):
      x = layers.PixelShuffleUpsample(self.features, 2, 'prelu', self.dtype)(x)
    return jnp.tanh(nn.Conv(3, (9, 9), dtype=self.dtype)(x)).astype(jnp.float32)


class SrezGenerator(nn.Module):
  """srez's generator (David Garcia, david-gpu/srez, srez_model.py `_generator_model`).

  Per x2 stage of `widths` (256, 128): a 1x1 conv when the width changes, `blocks` pre-activation residual
  blocks, nearest x2, BN, ReLU, conv3x3 (the original's stride-1 transposed conv: the same map). Head: conv3x3 96,
  ReLU, 1x1 96, ReLU, 1x1 3, sigmoid. Every conv has a bias; BN as TensorFlow's `contrib.layers.batch_norm`
  (no scale, decay 0.999, eps 1e-3); initialisation `layers.srez_kernel_init` with the original's std factors
  (`residual_stddev_factor` 1e-3 in the residual blocks, so each starts close to the identity).

  Kept different: the original outputs sigmoid in [0, 1]; here 2 sigmoid(x) - 1, the same image in the project's
  [-1, 1]. Its BatchNorm never leaves training mode (its moving averages are neither updated nor used), so its
  outputs depend on the rest of the test batch; here evaluation and inference use the running averages, so a
  face's output does not depend on the other faces.
  """
  scale: int = 4
  widths: tuple[int, ...] = (256, 128)
  blocks: int = 2
  head_features: int = 96
  residual_stddev_factor: float = 1e-3
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, lr, train):
    stages = upsampling_stages(self.scale)
    if len(self.widths) != stages:
      raise ValueError(f'config.generator.widths: one width per x2 stage; scale {self.scale} needs {stages}, '
                       f'got {len(self.widths)}')
    norm = functools.partial(layers.batch_norm, dtype=self.dtype, momentum=0.999, epsilon=1e-3, use_scale=False)
    conv = lambda features, kernel, factor: nn.Conv(  # noqa: E731
        features, (kernel, kernel), dtype=self.dtype, kernel_init=layers.srez_kernel_init(factor))
    x = lr
    for width in self.widths:
      if x.shape[-1] != width:
        x = conv(width, 1, 1.0)(x)
      for _ in range(self.blocks):
        x = layers.PreActResBlock(width, dtype=self.dtype, norm=norm, conv_bias=True,
                                  kernel_init=layers.srez_kernel_init(self.residual_stddev_factor))(x, train)
      x = nn.relu(norm(train)(layers.nearest_upsample(x, 2)))
      x = conv(width, 3, 1.0)(x)
    x = nn.relu(conv(self.head_features, 3, 2.0)(x))
    x = nn.relu(conv(self.head_features, 1, 2.0)(x))
    x = conv(3, 1, 1.0)(x)
    return (2.0 * nn.sigmoid(x) - 1.0).astype(jnp.float32)


class DCGANResidualUnit(nn.Module):
  """conv3x3, BN, LeakyReLU, conv3x3, BN; skip conv1x1, BN (always); LeakyReLU of the sum. The `ResidualUnit` of
  DCGAN-SR's notebook, with Keras's BatchNorm and Glorot-uniform kernels."""
  features: int
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    conv = lambda kernel: nn.Conv(self.features, (kernel, kernel), dtype=self.dtype,  # noqa: E731
                                  kernel_init=nn.initializers.glorot_uniform())
    act = layers.activation('leaky_relu')
    h = act(layers.keras_batch_norm(train, self.dtype)(conv(3)(x)))
    h = layers.keras_batch_norm(train, self.dtype)(conv(3)(h))
    return act(h + layers.keras_batch_norm(train, self.dtype)(conv(1)(x)))


class DCGANSRGenerator(nn.Module):
  """The generator of DCGAN super-resolution (dwipddalal/Image-super-resolution-using-GANs,
  Super_Resolution_DCGAN.ipynb), as the notebook ran it: conv7x7 64 + LeakyReLU(0.2); residual units of `widths`
  (256, 256, 128, 128, 64, 64); per x2 stage but the last: nearest x2, conv3x3 64, BN; then nearest x2, conv9x9 3,
  tanh. 3,057,539 parameters at the defaults (3,052,035 trainable), as the notebook's summary.

  `bn_activations=True` adds the LeakyReLU after the upsampling BN that the notebook writes as
  `Activation(LeakyReLU(...))` but never adds to the model (what its README describes).
  """
  scale: int = 4
  widths: tuple[int, ...] = (256, 256, 128, 128, 64, 64)
  bn_activations: bool = False
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, lr, train):
    conv = lambda features, kernel: nn.Conv(features, (kernel, kernel), dtype=self.dtype,  # noqa: E731
                                            kernel_init=nn.initializers.glorot_uniform())
    act = layers.activation('leaky_relu')
    x = act(conv(64, 7)(lr))
    for width in self.widths:
      x = DCGANResidualUnit(width, self.dtype)(x, train)
    for _ in range(upsampling_stages(self.scale) - 1):
      x = layers.keras_batch_norm(train, self.dtype)(conv(64, 3)(layers.nearest_upsample(x, 2)))
      x = act(x) if self.bn_activations else x
    return jnp.tanh(conv(3, 9)(layers.nearest_upsample(x, 2))).astype(jnp.float32)


class ESPCNGenerator(nn.Module):
  """ESPCN (Shi et al., "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
  Convolutional Neural Network", CVPR 2016), the paper's network: conv5x5 64, tanh; conv3x3 32, tanh; conv3x3
  3 r^2; one pixel shuffle x r (Eq. 4), so any integer scale. The paper super-resolves the luminance alone; here the
  three RGB channels, as every jaxsr model. pytorch/examples (super_resolution/model.py) swaps tanh for ReLU."""
  scale: int = 4
  features: tuple[int, ...] = (64, 32)
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, lr, train):
    del train  # no BatchNorm
    x = jnp.tanh(nn.Conv(self.features[0], (5, 5), dtype=self.dtype)(lr))
    for width in self.features[1:]:
      x = jnp.tanh(nn.Conv(width, (3, 3), dtype=self.dtype)(x))
    x = nn.Conv(3 * self.scale ** 2, (3, 3), dtype=self.dtype)(x)
    return layers.pixel_shuffle(x, self.scale).astype(jnp.float32)


UPSAMPLERS = ('x2_stages', 'single_shuffle')
# The mean RGB of DIV2K's training images on [0, 1], which EDSR subtracts from its input and adds to its output.
DIV2K_RGB_MEAN = (0.4488, 0.4371, 0.4040)


class EDSRBlock(nn.Module):
  """conv3x3, ReLU, conv3x3, x res_scale, + x: EDSR's residual block, SRResNet's without BatchNorm."""
  features: int
  res_scale: float = 1.0
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, x):
    h = nn.relu(layers.TorchConv(self.features, 3, dtype=self.dtype)(x))
    return x + self.res_scale * layers.TorchConv(self.features, 3, dtype=self.dtype)(h)


class EDSRGenerator(nn.Module):
  """EDSR (Lim et al., "Enhanced Deep Residual Networks for Single Image Super-Resolution", CVPRW 2017), as
  sanghyun-son/EDSR-PyTorch (src/model/edsr.py, common.py): the input on [0, rgb_range] less DIV2K's mean; conv3x3;
  `blocks` EDSRBlocks, conv3x3, + the first conv's output; per x2 stage conv3x3 4 f and pixel shuffle (no
  activation); conv3x3 3; the mean added back. Every conv has a bias and PyTorch's default initialisation. The
  baseline is 16 blocks of 64 (res_scale 1), the large model 32 of 256 (res_scale 0.1).

  Two jaxsr options, off in the paper's config, for training fast on a CPU:
  - `bicubic_skip`: the network predicts the residual to the bicubic upsampling of its input, VDSR's global
    residual learning (Kim et al., CVPR 2016); the output is bicubic(x) + tail / (rgb_range / 2), and the mean
    shift cancels.
  - `upsampler='single_shuffle'`: the tail is one conv3x3 to 3 s^2 channels and one pixel shuffle x s at LR
    resolution (ESPCN's, Shi et al., CVPR 2016, as the lightweight IMDN and RFDN use), in place of 'x2_stages'
    (conv3x3 4 f + shuffle x2 per stage, then conv3x3 3): at x4 and f = 64 this drops every conv at 32x32 and
    64x64: 507 -> 318 M multiply-adds per 16x16 face.
  """
  scale: int = 4
  blocks: int = 16
  features: int = 64
  res_scale: float = 1.0
  rgb_range: float = 255.0
  bicubic_skip: bool = False
  upsampler: str = 'x2_stages'
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, lr, train):
    del train  # no BatchNorm
    if self.upsampler not in UPSAMPLERS:
      raise ValueError(f"config.generator.upsampler: unknown '{self.upsampler}' (known: {', '.join(UPSAMPLERS)})")
    half_range = self.rgb_range / 2.0
    mean = self.rgb_range * jnp.asarray(DIV2K_RGB_MEAN, jnp.float32)
    conv = functools.partial(layers.TorchConv, dtype=self.dtype)
    x = skip = conv(self.features)((lr + 1.0) * half_range - mean)
    for _ in range(self.blocks):
      x = EDSRBlock(self.features, self.res_scale, self.dtype)(x)
    x = skip + conv(self.features)(x)
    if self.upsampler == 'single_shuffle':
      x = layers.pixel_shuffle(conv(3 * self.scale ** 2)(x), self.scale)
    else:
      for _ in range(upsampling_stages(self.scale)):
        x = layers.pixel_shuffle(conv(4 * self.features)(x), 2)
      x = conv(3)(x)
    x = x.astype(jnp.float32)
    if self.bicubic_skip:
      n, h, w, c = lr.shape
      return jax.image.resize(lr, (n, h * self.scale, w * self.scale, c), 'bicubic') + x / half_range
    return (x + mean) / half_range - 1.0
