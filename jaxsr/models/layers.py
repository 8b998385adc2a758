"""Layers shared by every network: PyTorch-compatible BatchNorm, residual blocks (pre- and post-activation,
bottleneck), the hourglass, upsampling (pixel shuffle, nearest), conv-BN-activation stacks, spectral-norm
convolutions. Modules take `train` (batch statistics on, and spectral norm's power-iteration vector kept: the
iteration itself runs in every call) and a computation `dtype`; parameters stay float32.
"""
import functools
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

Dtype = Any


def batch_norm(train, dtype, name=None, momentum=0.9, epsilon=1e-5, use_scale=True):
  """PyTorch BatchNorm2d defaults (momentum 0.1 there is 0.9 here, eps 1e-5), and its two-pass variance
  E[(x - E[x])^2]: flax's default E[x^2] - E[x]^2 loses the digits of a channel whose mean dwarfs its spread (the
  authors' H2L trained on 8 devices differed from 1 device by 5% at the second step)."""
  return nn.BatchNorm(use_running_average=not train, momentum=momentum, epsilon=epsilon, use_scale=use_scale,
                      dtype=dtype, name=name, use_fast_variance=False)


def keras_batch_norm(train, dtype, name=None):
  """Keras BatchNormalization defaults: momentum 0.99, epsilon 1e-3."""
  return batch_norm(train, dtype, name, momentum=0.99, epsilon=1e-3)


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


def _align_corners_matrix(size_in, size_out):
  """(size_out, size_in) linear interpolation weights with the corner pixels of input and output aligned."""
  src = np.arange(size_out) * ((size_in - 1) / (size_out - 1) if size_out > 1 else 0.0)
  low = np.minimum(np.floor(src).astype(int), size_in - 1)
  high = np.minimum(low + 1, size_in - 1)
  frac = src - low
  weights = np.zeros((size_out, size_in))
  np.add.at(weights, (np.arange(size_out), low), 1.0 - frac)
  np.add.at(weights, (np.arange(size_out), high), frac)
  return weights


def bilinear_upsample_align_corners(x, factor):
  """PyTorch's nn.Upsample(scale_factor=factor, mode='bilinear', align_corners=True) on NHWC: output pixel i samples
  input position i (h - 1) / (factor h - 1). `jax.image.resize` uses half-pixel centres (align_corners=False)."""
  n, h, w, c = x.shape
  rows = jnp.asarray(_align_corners_matrix(h, h * factor), x.dtype)
  cols = jnp.asarray(_align_corners_matrix(w, w * factor), x.dtype)
  return jnp.einsum('ih,jw,nhwc->nijc', rows, cols, x)


def pixel_shuffle(x, factor):
  """Depth-to-space in PyTorch's order: input channels are grouped as (C, r, r), as nn.PixelShuffle reads them."""
  n, h, w, c = x.shape
  out = c // (factor * factor)
  x = x.reshape(n, h, w, out, factor, factor)
  x = x.transpose(0, 1, 4, 2, 5, 3)
  return x.reshape(n, h * factor, w * factor, out)


def srez_kernel_init(stddev_factor):
  """srez's initialisation (david-gpu/srez, srez_model.py `_glorot_initializer_conv2d`): a normal of std
  sqrt(stddev_factor / (sqrt(fan_in fan_out) k^2)) truncated at 2 std (TF1 `truncated_normal`, not rescaled)."""
  def init(key, shape, dtype=jnp.float32):
    *window, fan_in, fan_out = shape
    std = np.sqrt(stddev_factor / (np.sqrt(fan_in * fan_out) * np.prod(window)))
    return (std * jax.random.truncated_normal(key, -2.0, 2.0, shape)).astype(dtype)
  return init


def torch_uniform_bias(fan_in):
  """PyTorch's default bias initialisation of nn.Conv2d / nn.Linear: uniform(+-1 / sqrt(fan_in))."""
  bound = 1.0 / np.sqrt(fan_in)
  return lambda key, shape, dtype=jnp.float32: jax.random.uniform(key, shape, dtype, -bound, bound)


# PyTorch's default kernel initialisation, kaiming_uniform(a=sqrt(5)): uniform(+-1 / sqrt(fan_in)).
torch_kernel_init = nn.initializers.variance_scaling(1.0 / 3.0, 'fan_in', 'uniform')


def torch_initialised_conv(features, kernel, in_features, bias=True, dtype=jnp.float32, name=None):
  """A stride-1 nn.Conv (its params 'kernel', 'bias' as flax names them) initialised as PyTorch's nn.Conv2d:
  kernel and bias uniform(+-1/sqrt(fan_in)). For networks whose released weights use flax's layout."""
  return nn.Conv(features, (kernel, kernel), use_bias=bias, dtype=dtype, kernel_init=torch_kernel_init,
                 bias_init=torch_uniform_bias(in_features * kernel * kernel), name=name)


def torch_padding(kernel):
  """PyTorch's padding=kernel // 2 on both sides. Flax's 'SAME' equals it at stride 1 but pads only after at
  stride 2 (64 -> 32 samples rows 1, 3, ... there and rows 0, 2, ... in PyTorch)."""
  return ((kernel // 2, kernel // 2),) * 2


class TorchConv(nn.Module):
  """nn.Conv2d(kernel, stride, padding=kernel // 2) as PyTorch initialises it (kernel and bias
  uniform(+-1/sqrt(fan_in))), for networks ported from PyTorch code that keeps the default initialisation."""
  features: int
  kernel: int = 3
  use_bias: bool = True
  dtype: Dtype = jnp.float32
  stride: int = 1

  @nn.compact
  def __call__(self, x):
    fan_in = x.shape[-1] * self.kernel * self.kernel
    return nn.Conv(self.features, (self.kernel, self.kernel), (self.stride, self.stride),
                   torch_padding(self.kernel), use_bias=self.use_bias, dtype=self.dtype,
                   kernel_init=torch_kernel_init, bias_init=torch_uniform_bias(fan_in), name='conv')(x)


class PostActResBlock(nn.Module):
  """conv3x3, BN, ReLU, conv3x3, BN, + x, every conv biased and PyTorch-initialised: `BasicBlock` of Bulat et
  al.'s degradation networks (jingyang2017/Face-and-Image-super-resolution, H2L.py), with its names."""
  features: int
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    h = TorchConv(self.features, dtype=self.dtype, name='conv1')(x)
    h = nn.relu(batch_norm(train, self.dtype, name='bn1')(h))
    h = TorchConv(self.features, dtype=self.dtype, name='conv2')(h)
    return x + batch_norm(train, self.dtype, name='bn2')(h)


class PreActResBlock(nn.Module):
  """BN, ReLU, conv3x3, BN, ReLU, [2x2 avg pool], conv3x3 (no biases); skip: [avg pool], 1x1 conv with bias when the
  width changes or the block pools, else the identity.

  `BasicBlock` of Bulat et al.'s generators (jingyang2017/Face-and-Image-super-resolution, model.py), with its
  module names (bn1, conv1, bn2, conv2, skip) so released weights map one to one. srez uses it with its own
  BatchNorm (`norm(train, name)`), biases and near-zero initial convolutions, so each block starts as the identity.
  """
  features: int
  downsample: bool = False
  dtype: Dtype = jnp.float32
  norm: Callable[..., nn.Module] | None = None  # None: batch_norm(train, dtype, name)
  kernel_init: Callable = nn.initializers.lecun_normal()
  conv_bias: bool = False  # srez's 3x3 convs have biases
  torch_init: bool = False  # every conv as PyTorch initialises it (Bulat et al.'s), overriding kernel_init

  @nn.compact
  def __call__(self, x, train):
    kernel_init = torch_kernel_init if self.torch_init else self.kernel_init
    conv = functools.partial(nn.Conv, use_bias=self.conv_bias, dtype=self.dtype, kernel_init=kernel_init)
    norm = self.norm or functools.partial(batch_norm, dtype=self.dtype)
    h = conv(self.features, (3, 3), name='conv1')(nn.relu(norm(train, name='bn1')(x)))
    h = nn.relu(norm(train, name='bn2')(h))
    if self.downsample:
      h, x = avg_pool(h, 2), avg_pool(x, 2)
    h = conv(self.features, (3, 3), name='conv2')(h)
    if x.shape[-1] != self.features or self.downsample:
      skip = (torch_initialised_conv(self.features, 1, x.shape[-1], True, self.dtype, 'skip') if self.torch_init
              else nn.Conv(self.features, (1, 1), dtype=self.dtype, name='skip'))
      x = skip(x)
    return x + h


class ResBlock(nn.Module):
  """conv3x3, BN, act, conv3x3, BN, + x: SRResNet's block (Ledig et al., CVPR 2017), with PReLU."""
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
  """conv (kernel, stride), [BN], activation: the unit of the plain convolutional discriminators. `norm(train)`
  replaces PyTorch-default BatchNorm (srez: TensorFlow's)."""
  features: int
  kernel: int = 3
  stride: int = 1
  norm: bool = True
  activation: str = 'leaky_relu'
  dtype: Dtype = jnp.float32
  norm_fn: Callable[[bool], nn.Module] | None = None  # None: batch_norm(train, dtype)
  kernel_init: Callable = nn.initializers.lecun_normal()

  @nn.compact
  def __call__(self, x, train):
    x = nn.Conv(self.features, (self.kernel, self.kernel), (self.stride, self.stride), dtype=self.dtype,
                kernel_init=self.kernel_init)(x)
    if self.norm:
      x = (self.norm_fn or functools.partial(batch_norm, dtype=self.dtype))(train)(x)
    return activation(self.activation)(x)


class SNConv(nn.Module):
  """A convolution with spectral norm: one power iteration per call, its vector kept (`batch_stats`) from training
  calls only. Initialised as PyTorch's nn.Conv2d (yoon28/unpaired_face_sr keeps PyTorch's defaults)."""
  features: int
  kernel_size: int = 3
  use_bias: bool = True
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    conv = torch_initialised_conv(self.features, self.kernel_size, x.shape[-1], self.use_bias, self.dtype,
                                  name='Conv_0')
    return nn.SpectralNorm(conv, n_steps=1)(x, update_stats=train)


class SNDense(nn.Module):
  """A linear layer with spectral norm, initialised as PyTorch's nn.Linear."""
  features: int
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    dense = nn.Dense(self.features, dtype=self.dtype, kernel_init=torch_kernel_init,
                     bias_init=torch_uniform_bias(x.shape[-1]), name='Dense_0')
    return nn.SpectralNorm(dense, n_steps=1)(x, update_stats=train)


def xavier_uniform(gain):
  """torch.nn.init.xavier_uniform_(w, gain): uniform(+-gain sqrt(6 / (fan_in + fan_out)))."""
  return nn.initializers.variance_scaling(gain ** 2, 'fan_avg', 'uniform')


class SNXavier(nn.Module):
  """A spectral-norm conv (`kernel` > 0, PyTorch's padding) or linear layer (`kernel` = 0) as the SNGAN code the
  authors adapt: Xavier-uniform kernel of `gain`, PyTorch's default bias, W / sigma(W) with sigma from one power
  iteration on the stored u (batch_stats 'u', of the output size). Training calls keep the new u; inference calls
  iterate from the stored one without keeping it (the authors' wrapper keeps it on every call).

  Not flax's nn.SpectralNorm: its initialisation stores the normalised kernel W / sigma as the parameter, so the
  parameters would start about sigma times smaller than PyTorch's and move faster under Adam."""
  features: int
  kernel: int = 0
  gain: float = 1.0
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    fan_in = x.shape[-1] * max(self.kernel, 1) ** 2
    shape = (self.kernel, self.kernel, x.shape[-1], self.features) if self.kernel else (x.shape[-1], self.features)
    w = self.param('kernel', xavier_uniform(self.gain), shape)
    b = self.param('bias', torch_uniform_bias(fan_in), (self.features,))
    normalize = lambda v: v / (jnp.linalg.norm(v) + 1e-12)  # noqa: E731
    u = self.variable('batch_stats', 'u', lambda: normalize(jax.random.normal(self.make_rng('params'),
                                                                               (self.features,))))
    matrix = w.reshape(-1, self.features)  # PyTorch's (out, -1) transposed, its columns in another order
    v = jax.lax.stop_gradient(normalize(matrix @ u.value))
    new_u = jax.lax.stop_gradient(normalize(matrix.T @ v))
    sigma = new_u @ (matrix.T @ v)
    if train and not self.is_initializing():
      u.value = new_u
    w = (w / sigma).astype(self.dtype)
    x = x.astype(self.dtype)
    if self.kernel:
      y = jax.lax.conv_general_dilated(x, w, (1, 1), torch_padding(self.kernel),
                                       dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
    else:
      y = x @ w
    return y + b.astype(self.dtype)


class SNResBlock(nn.Module):
  """ReLU, SNconv3x3, ReLU, [2x2 avg pool], SNconv3x3 (no biases); skip: [avg pool], SN 1x1 conv with bias when the
  width changes or the block pools, else the identity. No normalisation.

  `BasicBlock_Discrim(nobn=True)` of yoon28/unpaired_face_sr (yoon_model.py), the discriminator training code the
  authors of Bulat et al. point to. As there, the first block rectifies the raw image too: its skip still sees it
  whole.
  """
  features: int
  downsample: bool = False
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    h = SNConv(self.features, 3, False, self.dtype)(nn.relu(x), train)
    h = nn.relu(h)
    if self.downsample:
      h, x = avg_pool(h, 2), avg_pool(x, 2)
    h = SNConv(self.features, 3, False, self.dtype)(h, train)
    if x.shape[-1] != self.features or self.downsample:
      x = SNConv(self.features, 1, dtype=self.dtype, name='skip')(x, train)
    return h + x
