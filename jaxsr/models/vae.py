"""The conditional VAEs of Liu, Siu & Chan, "Reference Based Face Super-Resolution" (IEEE Access 2019): SISR-VAE
and RefSR-VAE, as RefSR_VAE.prototxt and SISR_VAE.prototxt of Holmes-Alan/RefSR define them.
LR (N, h, w, 3) and a guide -> SR (N, h * scale, w * scale, 3).

  LR-up  = bicubic x scale of LR
  trunk  : conv3x3 64 twice; log2(scale) x (conv6x6 stride 2 pad 2, conv3x3), ReLUs    -> features at the LR side
  latent : conv3x3 256, 128, 128 (ReLUs); Dense 4096, 2048 (ReLUs); Dense 2 x 1024, split into mu, log sigma
  code   : conv1x1 128, ReLU, conv3x3 64 (no ReLU) of the encoder input's features      -> the "input code"
  eps    : Dense 512, Dense 1024 of the flattened LR-up (ReLUs), normalised per sample   -> noise drawn from the LR
  z      = mu + temperature * sigma * eps
  decoder: Dense 2048, 2048, h * w * 16 of z (ReLUs) -> (h, w, 16); conv3x3 64; RefSR: PReLU, + code; SISR:
           concat code, PReLU; log2(scale) up-projection units; conv3x3 3;  SR = LR-up + that residual

RefSR-VAE encodes LR-up + reference, in training and at test time. SISR-VAE encodes LR-up (the input code, from the
trunk's last conv before any ReLU) and, in training, HR through the same trunk, the two feature maps concatenated,
then rectified, for the latent head; at test time there is no HR, so mu = 0 and sigma = the prior's scale.

Kept different: the last latent layer starts at zero with log sigma's bias at log prior_std, so q(z | x) starts at
the prior (the prototxt's Gaussian(0.01) start has sigma = 1: a KL of 47 nats per dimension while the encoder is
random); the (h, w, 16) reshape is channel-last where Caffe's is channel-first (a fixed permutation of a dense
layer's outputs). SISR's test-time latent: the deploy prototxt draws z = eps_LR * N(0, 1) (its Gaussian filler's
std 0.1 is not read by Caffe's layer); jaxsr's default is z = prior_std * eps_LR (0.1 eps_LR), the scale the KL term
holds the training latents to, and config.test_noise='prototxt' gives the original.
"""
import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxsr.models import layers


def sample(mu, log_sigma, eps, temperature=1.0):
  """The reparameterised latent z = mu + temperature * sigma * eps (Kingma & Welling 2014)."""
  return mu + temperature * jnp.exp(log_sigma) * eps


class UpProjection(nn.Module):
  """Up-projection unit of DBPN (Haris et al., CVPR 2018), x2, with the paper's 1x1 projections:

    H0 = PReLU(deconv(x));  L0 = PReLU(conv(H0));  H1 = PReLU(deconv(conv1x1(x) - L0));
    out = PReLU(conv1x1(H0) + H1)

  deconv and conv are 6x6 stride 2 (pad 2); the 1x1 outputs have no PReLU of their own (the prototxts'
  `local_output` and `local_conv1`).
  """
  features: int = 32
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, x):
    prelu = lambda y: layers.activation('prelu')(y)  # noqa: E731  (a new slope per use)
    # Caffe's deconv pad 2 is flax's transposed-conv padding k - 1 - 2 = 3: the output is exactly twice the input.
    deconv = lambda: nn.ConvTranspose(self.features, (6, 6), (2, 2), ((3, 3), (3, 3)), dtype=self.dtype)  # noqa: E731
    down = nn.Conv(self.features, (6, 6), (2, 2), ((2, 2), (2, 2)), dtype=self.dtype)
    conv1x1 = lambda: nn.Conv(self.features, (1, 1), dtype=self.dtype)  # noqa: E731
    h0 = prelu(deconv()(x))
    l0 = prelu(down(h0))
    h1 = prelu(deconv()(conv1x1()(x) - l0))
    return prelu(conv1x1()(h0) + h1)


class Trunk(nn.Module):
  """Image (N, H, W, 3) -> features (N, H / 2 ** len(widths), W / 2 ** len(widths), widths[-1]), a ReLU after
  every conv but the last (SISR-VAE rectifies after concatenating; RefSR-VAE at once)."""
  widths: tuple[int, ...] = (128, 256, 512)
  features: int = 64
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, x):
    conv = lambda f, k, s=1, p='SAME': nn.Conv(f, (k, k), (s, s), p, dtype=self.dtype)  # noqa: E731
    x = nn.relu(conv(self.features, 3)(x))
    x = nn.relu(conv(self.features, 3)(x))
    for i, width in enumerate(self.widths):
      x = nn.relu(conv(width, 6, 2, ((2, 2), (2, 2)))(x))
      x = conv(width, 3)(x)
      x = x if i == len(self.widths) - 1 else nn.relu(x)
    return x


class LatentHead(nn.Module):
  """Encoder features -> (mu, log sigma) of q(z | x): three convs, dense layers, then one dense layer of twice the
  latent size split into mu and log sigma (the prototxts' ip3 and its Slice)."""
  conv_features: tuple[int, ...]
  dense_features: tuple[int, ...]
  latent: int
  prior_std: float
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, x):
    """q(z | x) starts at the prior (zero kernels, log sigma's bias log prior_std): the KL term starts at 0
    instead of swamping the reconstruction terms while the encoder is random."""
    for f in self.conv_features:
      x = nn.relu(nn.Conv(f, (3, 3), dtype=self.dtype)(x))
    x = x.reshape(x.shape[0], -1)
    for f in self.dense_features:
      x = nn.relu(nn.Dense(f, dtype=self.dtype)(x))
    bias = lambda key, shape, dtype: jnp.concatenate(  # noqa: E731
        [jnp.zeros((self.latent,), dtype), jnp.full((self.latent,), math.log(self.prior_std), dtype)])
    out = nn.Dense(2 * self.latent, dtype=self.dtype, kernel_init=nn.initializers.zeros, bias_init=bias,
                   name='mu_log_sigma')(x).astype(jnp.float32)
    return out[:, :self.latent], out[:, self.latent:]


class NoiseFromLR(nn.Module):
  """The paper's conditional sampling: eps is a function of the LR image (the prototxts read the bicubic LR-up),
  normalised per sample to zero mean and unit variance, so z = mu + sigma * eps depends on what is being
  super-resolved rather than on a random draw."""
  hidden: int
  latent: int
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, lr):
    x = nn.relu(nn.Dense(self.hidden, dtype=self.dtype)(lr.reshape(lr.shape[0], -1).astype(self.dtype)))
    eps = nn.relu(nn.Dense(self.latent, dtype=self.dtype)(x)).astype(jnp.float32)
    return (eps - eps.mean(-1, keepdims=True)) / (eps.std(-1, keepdims=True) + 1e-5)


class ConditionalVAE(nn.Module):
  """SISR-VAE (`reference=False`) or RefSR-VAE (`reference=True`); see the module docstring.

  Call with `guide` = the reference photo (RefSR), or the HR face while training SISR-VAE (None at its test time).
  `eps` replaces the noise drawn from the LR (e.g. N(0, 1) samples for diversity); `temperature` scales sigma.
  Returns {'sr': (N, H, W, 3) in [-1, 1] (unbounded), 'mu', 'log_sigma': (N, latent)}.
  """
  scale: int = 8
  reference: bool = True
  encoder_widths: tuple[int, ...] = (128, 256, 512)
  features: int = 64
  head_features: tuple[int, ...] = (256, 128, 128)
  encoder_dense: tuple[int, ...] = (4096, 2048, 2048)
  latent: int = 1024
  noise_dense: int = 512
  decoder_dense: tuple[int, ...] = (2048, 2048)
  decoder_channels: int = 16
  code_features: int = 128
  up_features: int = 32
  prior_std: float = 0.1
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, lr, guide=None, eps=None, temperature=1.0, train=False, sigma=None):
    """`sigma`: SISR at test time only, the latent's scale in place of prior_std (SISR_VAE's deploy prototxt
    draws it from N(0, 1))."""
    del train  # no BatchNorm or dropout: the same network in training and at test time
    n, h, w, c = lr.shape
    stages = round(math.log2(self.scale))
    if 2 ** stages != self.scale or stages > len(self.encoder_widths):
      raise ValueError(f'config.scale: {self.scale} is not a power of 2 up to {2 ** len(self.encoder_widths)}: the '
                       f'encoder halves the image once per entry of config.model.encoder_widths')
    if guide is None and self.reference:
      raise ValueError('RefSR-VAE needs a reference photo')
    lr_up = jax.image.resize(lr.astype(jnp.float32), (n, h * self.scale, w * self.scale, c), 'bicubic')
    dense = lambda f, y: nn.relu(nn.Dense(f, dtype=self.dtype)(y))  # noqa: E731
    conv = lambda f, k, y: nn.Conv(f, (k, k), dtype=self.dtype)(y)  # noqa: E731
    prelu = lambda y: layers.activation('prelu')(y)  # noqa: E731
    # The latent head and the noise network run only in some modes, so they are named submodules: the layers
    # after them keep the same names whichever ran.
    trunk = Trunk(tuple(self.encoder_widths[-stages:]), self.features, self.dtype)

    source = lr_up + guide if self.reference else lr_up
    features = trunk(source.astype(self.dtype))
    features = nn.relu(features) if self.reference else features  # SISR's input code reads it unrectified
    code = conv(self.features, 3, nn.relu(conv(self.code_features, 1, features)))
    if self.reference or guide is not None:
      if not self.reference:  # SISR training: the HR's features beside the LR's, through the same trunk
        features = nn.relu(jnp.concatenate([features, trunk(guide.astype(self.dtype))], axis=-1))
      mu, log_sigma = LatentHead(self.head_features, self.encoder_dense, self.latent, self.prior_std, self.dtype,
                                 name='latent')(features)
    else:
      mu = jnp.zeros((n, self.latent), jnp.float32)
      log_sigma = jnp.full((n, self.latent), math.log(self.prior_std), jnp.float32)
    if eps is None:
      eps = NoiseFromLR(self.noise_dense, self.latent, self.dtype, name='noise')(lr_up)
    if sigma is not None and not (self.reference or guide is not None):
      z = mu + temperature * sigma * eps
    else:
      z = sample(mu, log_sigma, eps, temperature)

    x = z.astype(self.dtype)
    for f in self.decoder_dense:
      x = dense(f, x)
    x = dense(h * w * self.decoder_channels, x).reshape(n, h, w, self.decoder_channels)
    x = nn.Conv(self.features, (3, 3), dtype=self.dtype)(x)
    x = prelu(x) + code if self.reference else prelu(jnp.concatenate([x, code], axis=-1))
    for _ in range(stages):
      x = UpProjection(self.up_features, self.dtype)(x)
    residual = nn.Conv(3, (3, 3), dtype=self.dtype)(x).astype(jnp.float32)
    return {'sr': lr_up + residual, 'mu': mu, 'log_sigma': log_sigma}
