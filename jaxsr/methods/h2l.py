"""High-to-Low degradation GAN (Bulat, Yang, Tzimiropoulos, ECCV 2018).

Learns to degrade: the generator maps an HR face and noise to a 16x16 face that an LR discriminator cannot tell
from real low-resolution faces, which are unpaired with the HR ones.

  L_D = mean(relu(1 - D(lr_real))) + mean(relu(1 + D(G(hr, z))))
  L_G = alpha * MSE(G(hr, z), avgpool4(hr)) + beta * (-mean D(G(hr, z)))      alpha = 1, beta = 0.05
"""
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from jaxsr.core import images, losses, metrics, optim
from jaxsr.core.train_state import Network
from jaxsr.data import pipeline
from jaxsr.methods import base, gan
from jaxsr.models import layers
from jaxsr.models.h2l import BULAT_GENERATORS, BulatGenH2L, BulatHighToLowGenerator, HighToLowGenerator

LEARNED = 'h2l'  # config.degradation that makes LR inputs with a trained H2L generator, on the device


class LearnedDegradation(struct.PyTreeNode):
  """A trained, frozen H2L generator as the LR maker of another method: hr -> H2L(hr, z), z ~ N(0, I), run in
  inference mode (BatchNorm running statistics), never differentiated."""
  variables: Any
  module: Any = struct.field(pytree_node=False)
  z_dim: int = struct.field(pytree_node=False)

  def __call__(self, hr, rng):
    z = jax.random.normal(rng, (hr.shape[0], self.z_dim), jnp.float32)
    return jax.lax.stop_gradient(self.module.apply(self.variables, hr, z, train=False))

def unpaired_faces(c, data_dir):
  """HR faces (config.dataset, hr_feature) and real LR faces (lr_dataset, lr_feature), unpaired, each in its own
  fixed order: what a degradation GAN trains on."""
  hr = pipeline.shuffled(pipeline.data_source(c.dataset, 'train', data_dir), c.hr_feature, 'hr', c.seed)
  lr = pipeline.shuffled(pipeline.data_source(c.lr_dataset, 'train', data_dir), c.lr_feature, 'lr', c.seed + 1)
  return pipeline.unpaired(hr, lr)


class HighToLow(base.Method):
  """Networks: `h2l` (generator) and `d_lr` (LR discriminator). One step: D, then G on the same fake batch."""

  eval_columns = ('HR', 'H2L(HR)', 'real LR')
  export_network = 'h2l'  # the degradation, for config.degradation='h2l' of another run

  def __init__(self, config):
    super().__init__(config)
    c = config
    self.generator = self.make_generator(c.generator, c.scale)
    self.discriminator = gan.sn_discriminator(c.discriminator, self.dtype)

  def make_generator(self, g, scale):
    """The authors' generator g.architecture names (BULAT_GENERATORS), or yoon28's ('yoon28', what runs recorded
    before the field have)."""
    architecture = g.get('architecture', 'yoon28')
    if architecture == 'gen_h2l':
      if scale != 4:
        raise ValueError(f'config.generator.architecture: gen_h2l degrades by x4, not config.scale={scale}')
      return self.network(BulatGenH2L, g)
    if architecture in BULAT_GENERATORS:
      if BulatHighToLowGenerator.scale(architecture) != scale:
        raise ValueError(f'config.generator.architecture: {architecture} degrades by x'
                         f'{BulatHighToLowGenerator.scale(architecture)}, not config.scale={scale}')
      return self.network(BulatHighToLowGenerator, g, variant=architecture)
    if architecture != 'yoon28':
      raise ValueError(f"config.generator.architecture: unknown '{architecture}' (known: "
                       f"{', '.join([*BULAT_GENERATORS, 'gen_h2l', 'yoon28'])})")
    downsamples = len(g.widths) // 2
    if 2 ** (downsamples - len(g.up_widths)) != scale:
      raise ValueError(f'config.generator: {len(g.widths)} widths halve the size {downsamples} times and '
                       f'{len(g.up_widths)} up_widths double it back; that is not config.scale={scale}')
    return self.network(HighToLowGenerator, g)

  def train_data(self, data_dir):
    return unpaired_faces(self.config, data_dir)

  def eval_data(self, data_dir):
    c = self.config
    hr_source = pipeline.data_source(c.eval_dataset, 'test', data_dir)
    batch = {'hr': pipeline.first_examples(hr_source, c.eval_size, [c.hr_feature])[c.hr_feature],
             **pipeline.true_degradations(hr_source, c.eval_size)}
    lr_source = pipeline.data_source(c.lr_dataset, 'test', data_dir)
    batch['lr'] = pipeline.first_examples(lr_source, c.eval_size, [c.lr_feature])[c.lr_feature]
    return batch

  def init_networks(self, rng, batch):
    g_rng, d_rng = jax.random.split(rng)
    hr, lr = images.to_float(batch['hr']), images.to_float(batch['lr'])
    return {
        'h2l': Network.create(self.generator, optim.make(self.config.generator.optimizer), g_rng,
                              hr, self.noise(jax.random.key(0), hr), ema_decay=self.config.ema_decay),
        'd_lr': Network.create(self.discriminator, optim.make(self.config.discriminator.optimizer), d_rng, lr),
    }

  def noise(self, rng, hr):
    """z ~ N(0, I) of size config.z_dim for every HR face."""
    return jax.random.normal(rng, (hr.shape[0], self.config.z_dim), jnp.float32)

  def generator_loss(self, fake, hr, d):
    """alpha * MSE(fake, avgpool4(hr)) + beta * hinge_G(D(fake)); D runs in training mode, its state untouched."""
    pixel = losses.mse(fake, layers.avg_pool(hr, self.config.scale))
    adversarial = losses.hinge_generator(d.train_apply(fake)[0])
    loss = self.config.alpha * pixel + self.config.beta * adversarial
    return loss, {'loss': loss, 'pixel': pixel, 'adversarial': adversarial}

  def discriminator_step(self, state, batch, rng):
    """The D half of a step alone (for tests and for reading): G's batch statistics are not kept."""
    hr, lr = images.to_float(batch['hr']), images.to_float(batch['lr'])
    fake, _ = state.nets['h2l'].train_apply(hr, self.noise(rng, hr))
    d, d_metrics = gan.discriminator_update(state.nets['d_lr'], lr, jax.lax.stop_gradient(fake))
    return state.replace(nets={**state.nets, 'd_lr': d}), base.prefixed('d_lr', d_metrics)

  def generator_step(self, state, batch, rng):
    """The G half of a step alone: recomputes G(hr, z) and updates G against the current D."""
    hr = images.to_float(batch['hr'])
    g, z = state.nets['h2l'], self.noise(rng, hr)

    def loss(params):
      fake, g_state = g.train_apply(hr, z, params=params)
      value, terms = self.generator_loss(fake, hr, state.nets['d_lr'])
      return value, (g_state, terms)

    grads, (g_state, g_metrics) = jax.grad(loss, has_aux=True)(g.params)
    return state.replace(nets={**state.nets, 'h2l': g.update(grads, g_state)}), base.prefixed('h2l', g_metrics)

  def train_step(self, state, batch, rng):
    """discriminator_step then generator_step, with one generator forward pass (gan.adversarial_update)."""
    hr, lr = images.to_float(batch['hr']), images.to_float(batch['lr'])
    g, d, _, g_metrics, d_metrics = gan.adversarial_update(
        state.nets['h2l'], (hr, self.noise(rng, hr)), state.nets['d_lr'], lr,
        lambda fake, d: self.generator_loss(fake, hr, d), losses.hinge_discriminator)
    nets = {'h2l': g, 'd_lr': d}
    return state.replace(nets=nets), {**base.prefixed('h2l', g_metrics), **base.prefixed('d_lr', d_metrics)}

  def evaluate(self, state, batch, rng):
    hr, lr = images.to_float(batch['hr']), images.to_float(batch['lr'])
    fake = state.nets['h2l'](hr, self.noise(rng, hr))
    d = state.nets['d_lr']
    scalars = {'d_lr/score_real': d(lr).mean(), 'd_lr/score_fake': d(fake).mean()}
    if 'degraded' in batch:  # the embedded data knows the true degradation of every HR face
      true_lr = images.to_float(batch['degraded'])
      scalars['psnr_to_true_degradation/h2l'] = metrics.psnr(fake, true_lr)
      scalars['psnr_to_true_degradation/avgpool'] = metrics.psnr(layers.avg_pool(hr, self.config.scale), true_lr)
    return {'HR': hr, 'H2L(HR)': fake, 'real LR': lr}, scalars


METHODS = {'h2l': HighToLow}
