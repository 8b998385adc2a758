"""Losses. Every function returns a float32 scalar mean over the batch."""
import jax.numpy as jnp
from jax import nn


def mse(x, y):
  return jnp.mean(jnp.square(x.astype(jnp.float32) - y.astype(jnp.float32)))


def hinge_discriminator(real_logits, fake_logits):
  """mean(relu(1 - D(real))) + mean(relu(1 + D(fake))) (Lim & Ye 2017; Miyato et al. 2018)."""
  return jnp.mean(nn.relu(1.0 - real_logits)) + jnp.mean(nn.relu(1.0 + fake_logits))


def hinge_generator(fake_logits):
  """-mean(D(G(x))): the generator side of the hinge loss."""
  return -jnp.mean(fake_logits)
