"""The updates every GAN method shares."""
import jax

from jaxsr.core import config_base, losses
from jaxsr.models import discriminators


def discriminator_update(d, real, fake, loss_fn=losses.hinge_discriminator):
  """One step of discriminator `d` on real and (already stop-gradient) fake images.

  D sees real and fake in two calls, as PyTorch code does, so BatchNorm statistics never mix the two and
  spectral norm makes one power iteration per call. Returns (updated d, metrics).
  """
  def loss(params):
    real_logits, state = d.train_apply(real, params=params)
    fake_logits, state = d.train_apply(fake, params=params, state=state)
    value = loss_fn(real_logits, fake_logits)
    return value, (state, {'loss': value, 'score_real': real_logits.mean(), 'score_fake': fake_logits.mean()})

  grads, (state, metrics) = jax.grad(loss, has_aux=True)(d.params)
  return d.update(grads, state), metrics


def adversarial_update(g, g_inputs, d, real, generator_loss, d_loss_fn, fake_image=lambda output: output,
                       simultaneous=False):
  """A D step and a G step on one G forward pass. Returns (g, d, G's output, g_metrics, d_metrics).

  G's forward pass is kept as a VJP: D trains on its output, then `generator_loss(fake, d)` -> (loss, metrics) is
  differentiated with respect to that output and pulled back through G. By default G steps against the updated D
  (equal to a D step followed by a G step that recomputes G); `simultaneous=True` steps G against the D the step
  started with, as one `sess.run` of both minimize ops does in TensorFlow (srez). `fake_image` picks what D sees of
  a generator with several outputs.
  """
  fake, pull_back, g_state = jax.vjp(lambda p: g.train_apply(*g_inputs, params=p), g.params, has_aux=True)
  d_next, d_metrics = discriminator_update(d, real, jax.lax.stop_gradient(fake_image(fake)), d_loss_fn)
  fake_grad, g_metrics = jax.grad(generator_loss, has_aux=True)(fake, d if simultaneous else d_next)
  (grads,) = pull_back(fake_grad)
  return g.update(grads, g_state), d_next, fake, g_metrics, d_metrics


def sn_discriminator(d, dtype):
  """The spectral-norm discriminator config `d` names: 'sngan', the authors' (Discriminator.py of
  jingyang2017/Face-and-Image-super-resolution), or 'yoon28' (unpaired_face_sr's, the architecture runs recorded
  before the field have)."""
  architecture = d.get('architecture', 'yoon28')
  if architecture == 'sngan':
    return discriminators.SNGANDiscriminator(dtype=dtype, **config_base.network_kwargs(d))
  if architecture == 'yoon28':
    return discriminators.SNResNetDiscriminator(dtype=dtype, **config_base.network_kwargs(d))
  raise ValueError(f"config.discriminator.architecture: unknown '{architecture}' (known: sngan, yoon28)")
