"""Super-resolution from (HR, degraded LR) pairs: a generator, a way to make training pairs, a table of loss
terms and, for the GANs, a discriminator.

What SRResNet, SRGAN, its face variant, srez, DCGAN-SR, FSRNet, L2H and ESPCN share lives here: paired data, the
loss, the step, the evaluation. A method names its networks and, when it adds terms, its `loss_terms`; its config
weighs them:

  L_G = mse * MSE(G(x), y) + l1 * L1(G(x), y) + dssim * (1 - SSIM(G(x), y)) / 2
      + vgg * MSE(phi(G(x)), phi(y)) + lr_l1 * L1(avgpool_s(G(x)), x) + ... + adversarial * L_adv(D(G(x)))
  L_D = the discriminator half of `gan_loss` ('bce': sigmoid cross-entropy, 'hinge')

with x the LR input, y the HR face, phi a VGG19 layer (config.vgg). Images are in [-1, 1]. A generator with more
than one output (FSRNet: coarse image, priors) returns a dict whose 'sr' is the image.

The pairs: LR inputs made on the host by config.degradation (data.degradations), or, with `degradation='h2l'`,
on the device by the frozen H2L generator of config.h2l_workdir (read at start-up by training.resources): Bulat et
al.'s learned degradation, for every paired method. The evaluation pairs of a learned degradation are bicubic, the
same for every run. `degradation='dataset'` takes the LR faces of a paired dataset (`paired_folder/<name>`: real
LR/HR pairs) for training and evaluation. Two more options of every paired method: `input_noise` (Gaussian noise
on G's training inputs, srez) and `conditional_discriminator` (D judges the image beside the bicubic-upsampled LR,
FSRGAN).
"""
import abc
import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp

from jaxsr.core import images, losses, metrics, optim
from jaxsr.core.train_state import Network
from jaxsr.data import augment, pipeline
from jaxsr.methods import base, gan, h2l
from jaxsr.models import layers


@dataclasses.dataclass(frozen=True)
class LossInputs:
  """What a loss term may read: the generator's output (an image, or a dict whose 'sr' is the image), the SR image,
  the HR face, the LR input, the training batch (its other features: landmarks), the frozen networks, the config."""
  output: Any
  sr: jax.Array
  hr: jax.Array
  lr: jax.Array
  batch: dict
  frozen: dict
  config: Any


@dataclasses.dataclass(frozen=True)
class LossTerm:
  """One term of L_G: `fn(LossInputs) -> scalar`, weighed by config.loss.<name>; `features` are the dataset
  features it reads besides the HR face, each named by config.<feature>_feature (FSRNet's prior: landmarks)."""
  fn: Callable[[LossInputs], jax.Array]
  features: tuple[str, ...] = ()


CONTENT_TERMS = {
    'mse': LossTerm(lambda x: losses.mse(x.sr, x.hr)),
    'l1': LossTerm(lambda x: losses.l1(x.sr, x.hr)),
    'dssim': LossTerm(lambda x: losses.dssim(x.sr, x.hr)),
    'vgg': LossTerm(lambda x: losses.feature_mse(x.frozen['vgg'](x.sr), x.frozen['vgg'](x.hr))),
    'lr_l1': LossTerm(lambda x: losses.l1(layers.avg_pool(x.sr, x.config.scale), x.lr)),
}


def sr_image(output):
  """The super-resolved image among a generator's outputs: what D judges and `upscale` returns."""
  return output['sr'] if isinstance(output, dict) else output


class PairedSR(base.Method):
  """Networks: `generator`, and `discriminator` when `make_discriminator` gives one. One step updates both."""

  eval_columns = ('LR', 'bicubic', 'output', 'HR')
  sr_network = 'generator'
  fully_convolutional = True  # FSRNet's hourglasses and the VAEs' dense layers are not
  loss_terms = CONTENT_TERMS  # a method that adds terms extends it: {**CONTENT_TERMS, 'coarse': LossTerm(...)}
  simultaneous_update = False  # True: G steps against the D the step started with (gan.adversarial_update)

  def __init__(self, config):
    super().__init__(config)
    c = config
    known = (*self.loss_terms, 'adversarial')
    unknown = sorted(set(c.loss) - set(known))
    if unknown:
      raise ValueError(f'config.loss: unknown terms {unknown}; known: {known}')
    for name in self.active_terms():
      for feature in self.loss_terms[name].features:
        if not c.get(f'{feature}_feature'):
          raise ValueError(f'config.loss.{name}: the term reads {feature}; name the dataset feature in '
                           f'config.{feature}_feature, or set config.loss.{name}=0')
    if c.gan_loss not in losses.GAN_LOSSES:
      raise ValueError(f"config.gan_loss: unknown '{c.gan_loss}'; known: {sorted(losses.GAN_LOSSES)}")
    self.generator = self.make_generator()
    self.discriminator = self.make_discriminator()
    if self.discriminator is None and c.loss.get('adversarial', 0.0):
      raise ValueError(f'config.loss.adversarial: {c.method} has no discriminator; set it to 0')
    self.learned_degradation = c.degradation == h2l.LEARNED
    self.d_loss, self.g_adversarial = losses.GAN_LOSSES[c.gan_loss]

  @abc.abstractmethod
  def make_generator(self):
    """The generator module: LR (N, h, w, 3) -> SR (N, h * scale, w * scale, 3), both in [-1, 1]."""

  def make_discriminator(self):
    """None for methods trained on content losses alone."""
    return None

  def active_terms(self):
    """The names of the loss terms with a positive weight, in `loss_terms` order."""
    return [name for name in self.loss_terms if self.config.loss.get(name, 0.0)]

  def generator_input(self, lr, rng, train):
    """What G sees: x, plus n ~ N(0, (2 input_noise)^2) in training (config.input_noise is on [0, 1] images, as
    srez gives it)."""
    noise = self.config.input_noise
    if not train or not noise:
      return lr
    return lr + 2.0 * noise * jax.random.normal(rng, lr.shape, lr.dtype)

  def discriminator_input(self, image, lr):
    """What D sees of an HR or SR face: with config.conditional_discriminator, the image beside the
    bicubic-upsampled LR (FSRGAN's C(image, x), Chen et al., Eq. 5), so D judges whether a face fits its input."""
    if not self.config.conditional_discriminator:
      return image
    n, size = image.shape[0], self.config.image_size
    return jnp.concatenate([image, jax.image.resize(lr, (n, size, size, lr.shape[-1]), 'bicubic')], axis=-1)

  # Data: pairs made on the host by the configured degradation (HR faces alone for a learned one), with the
  # features the loss terms read; evaluation on fixed pairs of the test split.

  def host_degradation(self):
    """The degradation the host applies to training faces: None when the device makes the LR."""
    return None if self.learned_degradation else self.config.degradation

  def eval_degradation(self):
    return 'bicubic' if self.learned_degradation else self.config.degradation

  def landmarks_key(self):
    """The dataset feature of the landmarks when a loss term reads them (they are flipped with the face)."""
    needed = {f for name in self.active_terms() for f in self.loss_terms[name].features}
    return self.config.landmarks_feature if 'landmarks' in needed else None

  def frozen_networks(self):
    return (*super().frozen_networks(), *((h2l.LEARNED,) if self.learned_degradation else ()))

  def example(self):
    """HR faces, their LR when the host degrades them (a learned degradation makes LR on the device)."""
    return {k: v for k, v in super().example().items() if k == 'hr' or self.host_degradation()}

  def train_data(self, data_dir):
    c = self.config
    source = pipeline.data_source(c.dataset, 'train', data_dir)
    try:
      return pipeline.paired(source, c.hr_feature, self.host_degradation(), c.scale, c.seed, c.flip,
                             self.landmarks_key(), augment.get(c.jitter, c.jitter_px))
    except KeyError as e:
      raise KeyError(f'{e.args[0]}. A loss term reads landmarks from config.landmarks_feature: build the dataset '
                     f'with --landmarks=mtcnn (or a landmarks file), or set that term to 0') from e

  def eval_data(self, data_dir):
    c = self.config
    source = pipeline.data_source(c.eval_dataset, 'test', data_dir)
    return pipeline.paired_examples(source, c.eval_size, c.hr_feature, self.eval_degradation(), c.scale,
                                    self.landmarks_key())

  def init_networks(self, rng, batch):
    g_rng, d_rng = jax.random.split(rng)
    c = self.config
    n, h, w, _ = batch['hr'].shape
    lr = jnp.zeros((n, h // c.scale, w // c.scale, 3))  # only shapes matter; some methods make LR in the step
    nets = {'generator': Network.create(self.generator, optim.make(c.generator.optimizer), g_rng, lr,
                                        ema_decay=c.ema_decay)}
    if self.discriminator is not None:
      nets['discriminator'] = Network.create(self.discriminator, optim.make(c.discriminator.optimizer), d_rng,
                                             self.discriminator_input(images.to_float(batch['hr']), lr))
    return nets

  # The loss and the step.

  def loss_inputs(self, output, hr, lr, frozen, batch=None):
    return LossInputs(output, sr_image(output), hr, lr, batch or {}, frozen, self.config)

  def content_loss(self, x):
    """The weighted `loss_terms` (all but the adversarial one) on LossInputs x; returns (total, {term: value})."""
    w = self.config.loss
    terms = {name: self.loss_terms[name].fn(x) for name in self.active_terms()}
    return sum(w[k] * v for k, v in terms.items()), terms

  def generator_loss(self, output, hr, lr, frozen, d, batch):
    x = self.loss_inputs(output, hr, lr, frozen, batch)
    loss, terms = self.content_loss(x)
    if d is not None:
      terms['adversarial'] = self.g_adversarial(d.train_apply(self.discriminator_input(x.sr, lr))[0])  # G's step
      loss = loss + self.config.loss.adversarial * terms['adversarial']
    return loss, {'loss': loss, **terms}

  def training_pair(self, state, batch, rng):
    """(HR, LR) float images of a training batch; a learned degradation makes the LR here, from the HR."""
    hr = images.to_float(batch['hr'])
    if self.learned_degradation:
      return hr, state.frozen[h2l.LEARNED](hr, rng)
    return hr, images.to_float(batch['lr'])

  def train_step(self, state, batch, rng):
    pair_rng, noise_rng = jax.random.split(rng)
    hr, lr = self.training_pair(state, batch, pair_rng)
    nets, metrics = self.update_networks(state.nets, hr, lr, state.frozen, noise_rng, batch)
    return state.replace(nets=nets), metrics

  def update_networks(self, nets, hr, lr, frozen, rng, batch=None):
    """One step of `generator` (after one of `discriminator`, if any) on float (HR, LR) pairs; `batch` holds what
    loss terms read besides them. Returns (nets, metrics); the joint H2L + L2H pipeline, which makes its own
    pairs, calls this directly."""
    g, x = nets['generator'], self.generator_input(lr, rng, train=True)
    if self.discriminator is None:
      def loss(params):
        output, g_state = g.train_apply(x, params=params)
        value, terms = self.generator_loss(output, hr, lr, frozen, None, batch)
        return value, (g_state, terms)

      grads, (g_state, g_metrics) = jax.grad(loss, has_aux=True)(g.params)
      return {'generator': g.update(grads, g_state)}, base.prefixed('generator', g_metrics)
    g, d, _, g_metrics, d_metrics = gan.adversarial_update(
        g, (x,), nets['discriminator'], self.discriminator_input(hr, lr),
        lambda output, d: self.generator_loss(output, hr, lr, frozen, d, batch), self.d_loss,
        lambda output: self.discriminator_input(sr_image(output), lr), self.simultaneous_update)
    return ({'generator': g, 'discriminator': d},
            {**base.prefixed('generator', g_metrics), **base.prefixed('discriminator', d_metrics)})

  def upscale(self, state, lr, reference=None):
    """LR images in [-1, 1] -> SR images in [-1, 1] (inference: BN running statistics, no input noise)."""
    del reference
    return sr_image(state.nets['generator'](lr))

  def evaluate(self, state, batch, rng):
    """PSNR/SSIM on RGB and on Y with a border of `scale` px, for the output and PIL bicubic, on 8-bit images."""
    del rng
    hr, lr, bicubic = (images.to_float(batch[k]) for k in ('hr', 'lr', 'bicubic'))
    sr = metrics.quantize(self.upscale(state, lr))
    scalars = {f'{metric}/{name}': value for name, x in (('output', sr), ('bicubic', bicubic))
               for metric, value in metrics.fidelity(x, hr, self.config.scale).items()}
    return {'LR': lr, 'bicubic': bicubic, 'output': sr, 'HR': hr}, scalars
