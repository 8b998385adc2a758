"""The shared GAN update: one generator forward pass, D then G, or both from the same parameters (srez)."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxsr.core import losses
from jaxsr.core.train_state import Network
from jaxsr.methods import gan
from jaxsr.models import discriminators


class TinyGenerator(nn.Module):
  @nn.compact
  def __call__(self, x, train):
    return jnp.tanh(nn.Conv(3, (3, 3))(nn.relu(nn.BatchNorm(use_running_average=not train)(nn.Conv(4, (3, 3))(x)))))


def networks():
  x = jax.random.normal(jax.random.key(0), (4, 8, 8, 3))
  real = jax.random.uniform(jax.random.key(1), (4, 8, 8, 3), minval=-1, maxval=1)
  g = Network.create(TinyGenerator(), optax.adam(1e-2), jax.random.key(2), x)
  d = Network.create(discriminators.ConvDiscriminator(((4, 3, 2), (8, 3, 2)), head='mean'), optax.adam(1e-2),
                          jax.random.key(3), real)
  return g, d, x, real


def generator_loss(fake, d):
  value = losses.bce_generator(d.train_apply(fake)[0])
  return value, {'loss': value}


def g_step_recomputing_g(g, x, d):
  """The plain way: a G step that runs G again, against discriminator `d`."""
  def loss(params):
    fake, state = g.train_apply(x, params=params)
    return generator_loss(fake, d)[0], state
  grads, state = jax.grad(loss, has_aux=True)(g.params)
  return g.update(grads, state)


def close(a, b):
  return all(np.allclose(u, v, atol=1e-6) for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_g_steps_against_the_updated_d_by_default_and_against_the_starting_d_when_simultaneous():
  g, d, x, real = networks()
  sequential = gan.adversarial_update(g, (x,), d, real, generator_loss, losses.bce_discriminator)
  simultaneous = gan.adversarial_update(g, (x,), d, real, generator_loss, losses.bce_discriminator, simultaneous=True)
  d_next = sequential[1]
  assert close(d_next.params, simultaneous[1].params)  # D's step is the same in both
  assert not close(d_next.params, d.params)
  assert close(sequential[0].params, g_step_recomputing_g(g, x, d_next).params)
  assert close(simultaneous[0].params, g_step_recomputing_g(g, x, d).params)  # srez: one sess.run of both
  assert not close(sequential[0].params, simultaneous[0].params)
