"""Losses. Every function returns a float32 scalar mean over the batch."""
import jax.numpy as jnp
import optax
from jax import nn

from jaxsr.core import metrics


def mse(x, y):
  return jnp.mean(jnp.square(x.astype(jnp.float32) - y.astype(jnp.float32)))


def l1(x, y):
  return jnp.mean(jnp.abs(x.astype(jnp.float32) - y.astype(jnp.float32)))


def dssim(x, y):
  """(1 - SSIM(x, y)) / 2 over RGB: the structural content term of the face SRGAN of Sada, Courbot & Popovic
  ("Single-Image Facial Super-Resolution Using GANs")."""
  return (1.0 - metrics.ssim(x, y)) / 2.0


def feature_mse(features_x, features_y):
  """Mean over layers of the MSE between feature maps ({layer: (N, h, w, c)}): a perceptual loss (Johnson et
  al. 2016; SRGAN's VGG loss with conv5_4 alone)."""
  return sum(mse(features_x[k], features_y[k]) for k in features_x) / len(features_x)


def sum_per_example(x):
  """Sum over all but the batch axis, mean over the batch: Caffe's `Reduction` (a sum) per example."""
  return jnp.mean(jnp.sum(x.reshape(x.shape[0], -1).astype(jnp.float32), axis=-1))


def gaussian_kl(mu, log_sigma, prior_std):
  """KL(N(mu, sigma^2) || N(0, prior_std^2)) of each latent dimension (the shape of mu):

    log(prior_std / sigma) + (sigma^2 + mu^2) / (2 prior_std^2) - 1/2

  (with prior_std = 0.1: 50 mu^2 + 50 sigma^2 - log(10 sigma) - 1/2, the prototxts of RefSR-VAE).
  """
  variance_ratio = jnp.exp(2.0 * log_sigma) / prior_std ** 2
  return 0.5 * (variance_ratio + jnp.square(mu) / prior_std ** 2 - 1.0 - jnp.log(variance_ratio))


def bce_discriminator(real_logits, fake_logits):
  """Sigmoid cross-entropy: -mean log D(real) - mean log(1 - D(fake)) (Goodfellow et al. 2014)."""
  return (jnp.mean(optax.sigmoid_binary_cross_entropy(real_logits, jnp.ones_like(real_logits)))
          + jnp.mean(optax.sigmoid_binary_cross_entropy(fake_logits, jnp.zeros_like(fake_logits))))


def bce_generator(fake_logits):
  """-mean log D(G(x)): the non-saturating generator loss of SRGAN, srez and DCGAN."""
  return jnp.mean(optax.sigmoid_binary_cross_entropy(fake_logits, jnp.ones_like(fake_logits)))


def hinge_discriminator(real_logits, fake_logits):
  """mean(relu(1 - D(real))) + mean(relu(1 + D(fake))) (Lim & Ye 2017; Miyato et al. 2018)."""
  return jnp.mean(nn.relu(1.0 - real_logits)) + jnp.mean(nn.relu(1.0 + fake_logits))


def hinge_generator(fake_logits):
  """-mean(D(G(x))): the generator side of the hinge loss."""
  return -jnp.mean(fake_logits)


GAN_LOSSES = {'bce': (bce_discriminator, bce_generator), 'hinge': (hinge_discriminator, hinge_generator)}
