"""Super-resolution from (HR, degraded LR) pairs: one generator and, for the GANs, one discriminator.

What SRResNet, SRGAN, its face variant, srez, DCGAN-SR and L2H share lives here: paired data, the loss, the step,
the evaluation. A method subclass names its networks; its config names its loss weights:

  L_G = mse * MSE(G(x), y) + l1 * L1(G(x), y) + dssim * (1 - SSIM(G(x), y)) / 2
      + vgg * MSE(phi(G(x)), phi(y)) + lr_l1 * L1(avgpool_s(G(x)), x) + adversarial * L_adv(D(G(x)))
  L_D = the discriminator half of `gan_loss` ('bce': sigmoid cross-entropy, 'hinge')

with x the LR input, y the HR face, phi a VGG19 layer (config.vgg). Images are in [-1, 1]. A generator with more
than one output (FSRNet: coarse, fine, priors) names its image in `sr_image` and adds its own terms.

LR inputs are made on the host by config.degradation (jaxsr/data/degradations.py), or, with
`degradation='h2l'`, on the device by the frozen H2L generator of config.h2l_workdir (jaxsr/resources.py): Bulat et
al.'s learned degradation, for every paired method. The evaluation pairs of a learned degradation are bicubic, the
same for every run.
"""
import abc

import jax
import jax.numpy as jnp
from jaxsr import images, losses, metrics, optim, resources
from jaxsr.data import pipeline
from jaxsr.methods import base, gan
from jaxsr.models import layers
from jaxsr.train_state import Network

CONTENT_TERMS = ('mse', 'l1', 'dssim', 'vgg', 'lr_l1')


class PairedSR(base.Method):
  """Networks: `generator`, and `discriminator` when `make_discriminator` gives one. One step updates both."""

  eval_columns = ('LR', 'bicubic', 'output', 'HR')
  sr_network = 'generator'
  extra_loss_terms: tuple[str, ...] = ()  # config.loss terms a subclass adds to CONTENT_TERMS
  simultaneous_update = False  # True: G steps against the D the step started with (gan.adversarial_update)

  def __init__(self, config):
    super().__init__(config)
    c = config
    known = CONTENT_TERMS + self.extra_loss_terms + ('adversarial',)
    unknown = sorted(set(c.loss) - set(known))
    if unknown:
      raise ValueError(f'config.loss: unknown terms {unknown}; known: {known}')
    if c.gan_loss not in losses.GAN_LOSSES:
      raise ValueError(f"config.gan_loss: unknown '{c.gan_loss}'; known: {sorted(losses.GAN_LOSSES)}")
    self.generator = self.make_generator()
    self.discriminator = self.make_discriminator()
    if self.discriminator is None and c.loss.get('adversarial', 0.0):
      raise ValueError(f'config.loss.adversarial: {c.method} has no discriminator; set it to 0')
    self.learned_degradation = c.degradation == resources.LEARNED
    self.d_loss, self.g_adversarial = losses.GAN_LOSSES[c.gan_loss]

  @abc.abstractmethod
  def make_generator(self):
    """The generator module: LR (N, h, w, 3) -> SR (N, h * scale, w * scale, 3), both in [-1, 1]."""

  def make_discriminator(self):
    """None for methods trained on content losses alone."""
    return None

  def generator_input(self, lr, rng, train):
    """What G sees; srez adds noise in training."""
    del rng, train
    return lr

  def discriminator_input(self, image, lr):
    """What D sees of an HR or SR face; FSRGAN's conditional D adds the LR."""
    del lr
    return image

  def sr_image(self, output):
    """The super-resolved image among the generator's outputs: what D judges and `upscale` returns."""
    return output

  # Data: pairs made on the host by the configured degradation (HR faces alone for a learned one); evaluation on
  # fixed pairs of the test split.

  def host_degradation(self):
    """The degradation the host applies to training faces: None when the device makes the LR."""
    return None if self.learned_degradation else self.config.degradation

  def eval_degradation(self):
    return 'bicubic' if self.learned_degradation else self.config.degradation

  def train_data(self, data_dir):
    c = self.config
    source = pipeline.data_source(c.dataset, 'train', data_dir)
    return pipeline.paired(source, c.hr_feature, self.host_degradation(), c.scale, c.seed, c.flip)

  def eval_data(self, data_dir):
    c = self.config
    source = pipeline.data_source(c.eval_dataset, 'test', data_dir)
    return pipeline.paired_examples(source, c.eval_size, c.hr_feature, self.eval_degradation(), c.scale)

  def init_networks(self, rng, batch):
    g_rng, d_rng = jax.random.split(rng)
    c = self.config
    n, h, w, _ = batch['hr'].shape
    lr = jnp.zeros((n, h // c.scale, w // c.scale, 3))  # only shapes matter; some methods make LR in the step
    nets = {'generator': Network.create(self.generator, optim.make(c.generator.optimizer), g_rng, lr,
                                        ema_decay=c.get('ema_decay', 0.0))}
    if self.discriminator is not None:
      nets['discriminator'] = Network.create(self.discriminator, optim.make(c.discriminator.optimizer), d_rng,
                                                  self.discriminator_input(images.to_float(batch['hr']), lr))
    return nets

  # The loss and the step.

  def content_loss(self, sr, hr, lr, frozen):
    """The weighted content terms of the module docstring; returns (total, {term: value})."""
    w = self.config.loss
    terms = {}
    if w.get('mse', 0.0):
      terms['mse'] = losses.mse(sr, hr)
    if w.get('l1', 0.0):
      terms['l1'] = losses.l1(sr, hr)
    if w.get('dssim', 0.0):
      terms['dssim'] = losses.dssim(sr, hr)
    if w.get('vgg', 0.0):
      terms['vgg'] = losses.feature_mse(frozen['vgg'](sr), frozen['vgg'](hr))
    if w.get('lr_l1', 0.0):
      terms['lr_l1'] = losses.l1(layers.avg_pool(sr, self.config.scale), lr)
    return sum(w[k] * v for k, v in terms.items()), terms

  def generator_loss(self, output, hr, lr, frozen, d, targets):
    """`targets`: what `loss_targets` made of the batch, for a subclass's own terms."""
    del targets
    sr = self.sr_image(output)
    content, terms = self.content_loss(sr, hr, lr, frozen)
    loss = content
    if d is not None:
      terms['adversarial'] = self.g_adversarial(d(self.discriminator_input(sr, lr), train=True)[0])  # G's step
      loss = loss + self.config.loss.adversarial * terms['adversarial']
    return loss, {'loss': loss, **terms}

  def training_pair(self, state, batch, rng):
    """(HR, LR) float images of a training batch; a learned degradation makes the LR here, from the HR."""
    hr = images.to_float(batch['hr'])
    if self.learned_degradation:
      return hr, state.frozen[resources.LEARNED](hr, rng)
    return hr, images.to_float(batch['lr'])

  def loss_targets(self, batch):
    """What the batch holds for a subclass's own loss terms besides the HR face (FSRNet: landmark heatmaps)."""
    del batch
    return {}

  def train_step(self, state, batch, rng):
    pair_rng, noise_rng = jax.random.split(rng)
    hr, lr = self.training_pair(state, batch, pair_rng)
    nets, metrics = self.update_networks(state.nets, hr, lr, state.frozen, noise_rng, self.loss_targets(batch))
    return state.replace(nets=nets), metrics

  def update_networks(self, nets, hr, lr, frozen, rng, targets=None):
    """One step of `generator` (after one of `discriminator`, if any) on float (HR, LR) pairs.

    Returns (nets, metrics); a pipeline that makes its own pairs (the joint H2L + L2H) calls this directly.
    """
    g, x = nets['generator'], self.generator_input(lr, rng, train=True)
    if self.discriminator is None:
      def loss(params):
        output, g_state = g(x, train=True, params=params)
        value, terms = self.generator_loss(output, hr, lr, frozen, None, targets)
        return value, (g_state, terms)

      grads, (g_state, g_metrics) = jax.grad(loss, has_aux=True)(g.params)
      return {'generator': g.update(grads, g_state)}, base.prefixed('generator', g_metrics)
    g, d, _, g_metrics, d_metrics = gan.adversarial_update(
        g, (x,), nets['discriminator'], self.discriminator_input(hr, lr),
        lambda output, d: self.generator_loss(output, hr, lr, frozen, d, targets), self.d_loss,
        lambda output: self.discriminator_input(self.sr_image(output), lr), self.simultaneous_update)
    return ({'generator': g, 'discriminator': d},
            {**base.prefixed('generator', g_metrics), **base.prefixed('discriminator', d_metrics)})

  def upscale(self, state, lr, reference=None):
    """LR images in [-1, 1] -> SR images in [-1, 1] (inference: BN running statistics, no input noise)."""
    del reference
    return self.sr_image(state.nets['generator'](self.generator_input(lr, None, train=False), train=False))

  def evaluate(self, state, batch, rng):
    """PSNR/SSIM on RGB and on Y with a border of `scale` px, for the output and PIL bicubic, on 8-bit images."""
    del rng
    hr, lr, bicubic = (images.to_float(batch[k]) for k in ('hr', 'lr', 'bicubic'))
    sr = metrics.quantize(self.upscale(state, lr))
    border = self.config.scale
    scalars = {}
    for name, x in (('output', sr), ('bicubic', bicubic)):
      scalars[f'psnr/{name}'] = metrics.psnr(x, hr)
      scalars[f'ssim/{name}'] = metrics.ssim(x, hr)
      scalars[f'psnr_y/{name}'] = metrics.psnr_y(x, hr, border)
      scalars[f'ssim_y/{name}'] = metrics.ssim_y(x, hr, border)
    return {'LR': lr, 'bicubic': bicubic, 'output': sr, 'HR': hr}, scalars
