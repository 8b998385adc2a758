"""The discriminator update every GAN method shares."""
import jax

from jaxsr import losses


def discriminator_update(d, real, fake, loss_fn=losses.hinge_discriminator):
  """One step of discriminator `d` on real and (already stop-gradient) fake images.

  D sees real and fake in two calls, as PyTorch code does, so BatchNorm statistics never mix the two and
  spectral norm makes one power iteration per call. Returns (updated d, metrics).
  """
  def loss(params):
    real_logits, state = d(real, train=True, params=params)
    fake_logits, state = d(fake, train=True, params=params, state=state)
    value = loss_fn(real_logits, fake_logits)
    return value, (state, {'loss': value, 'score_real': real_logits.mean(), 'score_fake': fake_logits.mean()})

  grads, (state, metrics) = jax.grad(loss, has_aux=True)(d.params)
  return d.update(grads, state), metrics
