"""The updates every GAN method shares."""
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


def adversarial_update(g, g_inputs, d, real, generator_loss, d_loss_fn, fake_image=lambda output: output):
  """A D step on G's output, then a G step against the updated D, with one G forward pass instead of two.

  G's forward pass is kept as a VJP: D trains on its output, then `generator_loss(fake, d)` -> (loss, metrics)
  under the updated D is differentiated with respect to that output and pulled back through G. Equal to a D
  step followed by a G step that recomputes G (tested). `fake_image` picks what D sees of a generator with several
  outputs. Returns (g, d, G's output, g_metrics, d_metrics).
  """
  fake, pull_back, g_state = jax.vjp(lambda p: g(*g_inputs, train=True, params=p), g.params, has_aux=True)
  d, d_metrics = discriminator_update(d, real, jax.lax.stop_gradient(fake_image(fake)), d_loss_fn)
  fake_grad, g_metrics = jax.grad(generator_loss, has_aux=True)(fake, d)
  (grads,) = pull_back(fake_grad)
  return g.update(grads, g_state), d, fake, g_metrics, d_metrics
