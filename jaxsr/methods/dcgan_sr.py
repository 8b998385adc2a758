"""DCGAN super-resolution x4, as dwipddalal/Image-super-resolution-using-GANs (Super_Resolution_DCGAN.ipynb,
Keras) trains it: 32x32 -> 128x128 CelebA faces, LR made by tf.image.resize (bilinear, no antialiasing).

One step, in the notebook's order and with its noisy labels (u ~ U(0, 1) per image, `label_noise` = 0.1):
  1. D on a fake batch, labels 0 + 0.1 u: G's output in inference mode (a Keras model called outside `fit`);
  2. D on the real batch, labels 1 - 0.1 u: a second, separate optimizer step (two `train_on_batch` calls);
  3. G: 0.8 MSE(G(x), y) + 0.2 BCE(D(G(x)), 1 - 0.1 u), D frozen, in inference mode (a frozen Keras
     BatchNormalization runs on its moving statistics).
G: Adam 2e-4, beta1 0.5. D: RMSprop 1e-4 (rho 0.9) with gradients clipped to [-1, 1].

Kept different: the notebook's RMSprop `decay=1e-8` is left out (Keras's lr / (1 + decay t) after t = 42,720 D
updates, two per step over 21,360 steps, is 0.04% below the start);
images are x / 127.5 - 1 as everywhere in jaxsr, where the notebook uses x / 128 - 1; LR faces are rounded to 8 bits
like every jaxsr degradation.
"""
import jax
import jax.numpy as jnp
import optax

from jaxsr.methods import base
from jaxsr.methods.paired_sr import PairedSR
from jaxsr.models.discriminators import DCGANSRDiscriminator
from jaxsr.models.sr_generators import DCGANSRGenerator


def soft_label_bce(logits, labels):
  return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, labels))


class DCGANSR(PairedSR):

  def make_generator(self):
    return self.network(DCGANSRGenerator, self.config.generator, scale=self.config.scale)

  def make_discriminator(self):
    return self.network(DCGANSRDiscriminator, self.config.discriminator)

  def update_networks(self, nets, hr, lr, frozen, rng, batch=None):
    g, d = nets['generator'], nets['discriminator']
    noise = self.config.label_noise
    fake_rng, real_rng, g_rng = jax.random.split(rng, 3)
    labels = lambda key: noise * jax.random.uniform(key, (hr.shape[0],))  # noqa: E731

    def d_step(d, images, target):
      def loss(params):
        logits, state = d.train_apply(images, params=params)
        value = soft_label_bce(logits, target)
        return value, (state, value, logits.mean())
      grads, (state, value, score) = jax.grad(loss, has_aux=True)(d.params)
      return d.update(grads, state), value, score

    d, fake_loss, fake_score = d_step(d, g(lr), labels(fake_rng))
    d, real_loss, real_score = d_step(d, hr, 1.0 - labels(real_rng))
    g_target = 1.0 - labels(g_rng)

    def g_loss(params):
      sr, g_state = g.train_apply(lr, params=params)
      content, terms = self.content_loss(self.loss_inputs(sr, hr, lr, frozen, batch))
      terms['adversarial'] = soft_label_bce(d(sr), g_target)
      value = content + self.config.loss.adversarial * terms['adversarial']
      return value, (g_state, {'loss': value, **terms})

    grads, (g_state, g_metrics) = jax.grad(g_loss, has_aux=True)(g.params)
    d_metrics = {'loss': fake_loss + real_loss, 'loss_fake': fake_loss, 'loss_real': real_loss,
                 'score_fake': fake_score, 'score_real': real_score}
    return ({'generator': g.update(grads, g_state), 'discriminator': d},
            {**base.prefixed('generator', g_metrics), **base.prefixed('discriminator', d_metrics)})


METHODS = {'dcgan_sr': DCGANSR}
