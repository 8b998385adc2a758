"""SISR-VAE and RefSR-VAE (Liu, Siu & Chan, "Reference Based Face Super-Resolution", IEEE Access 2019): conditional
VAEs for face SR, the second guided by a photo of the same person (jaxsr.models.vae). One network, `vae`,
trained on the loss of RefSR_VAE.prototxt / SISR_VAE.prototxt (Holmes-Alan/RefSR), whose Caffe `Reduction`s sum:

  L = l1 * sum |SR - HR| + vgg * sum |phi(SR) - phi(HR)| / 256 + kl * sum KL(N(mu, sigma^2) || N(0, prior_std^2))

summed over each face's pixels ([0, 1] images), features and latent dimensions, then averaged over the batch (Caffe
sums the batch too: a constant factor). The weights 1, 10, 1 are the prototxts'; the sums make the pixel term
count 49,152 elements per 128x128 face, the VGG term 32,768 and the KL 1,024. phi is VGG19's conv5_4 before its
ReLU, with average pooling (config.vgg: a VGG19 file from `python -m jaxsr.convert_vgg`; the configs leave the
term at 0, the prototxts' 10 needs that file: --config.loss.vgg=10 --config.vgg.weights=...). No adversarial
term. At test time z = mu + temperature * sigma * eps (SISR: mu = 0, sigma = prior_std; with
config.test_noise='prototxt', sigma ~ N(0, 1) per latent dimension as SISR_VAE's deploy prototxt draws it, from a
key fixed by config.seed so that an output is reproducible).

Evaluation, on 8-bit images: PSNR and SSIM (RGB, and Y with an `eval_border` px border, as the paper measures) for
the output, PIL bicubic and the x8 self-ensemble; for RefSR also with a reference photo of a different person (how
much the right identity helps); sample diversity, the per-pixel standard deviation over `diversity_samples`
outputs with eps ~ N(0, 1) instead of the noise drawn from the LR.
"""
import jax
import jax.numpy as jnp

from jaxsr.core import images, losses, metrics, optim, self_ensemble
from jaxsr.core.train_state import Network
from jaxsr.data import pipeline
from jaxsr.methods import base
from jaxsr.models import vae

LOSS_TERMS = ('l1', 'vgg', 'kl')
TEST_NOISE = ('prior', 'prototxt')  # SISR's test-time sigma: prior_std, or N(0, 1) draws
STD_WHITE = 0.25  # the sample-std image is white from this std (in [-1, 1] units) up


class SISRVAE(base.Method):
  """SISR-VAE; `RefSRVAE` adds the reference photo."""

  eval_columns = ('LR', 'bicubic', 'output', 'sample std', 'HR')
  sr_network = 'vae'

  def __init__(self, config):
    super().__init__(config)
    c = config
    unknown = sorted(set(c.loss) - set(LOSS_TERMS))
    if unknown:
      raise ValueError(f'config.loss: unknown terms {unknown}; known: {LOSS_TERMS}')
    in_range = {'prior_std': c.prior_std > 0, 'temperature': c.temperature >= 0,
                'diversity_samples': c.diversity_samples > 1, 'test_noise': c.test_noise in TEST_NOISE}
    for field, ok in in_range.items():
      if not ok:
        raise ValueError(f'config.{field}: out of range, got {c[field]}')
    self.model = self.network(vae.ConditionalVAE, c.model, scale=c.scale, reference=self.needs_reference,
                              prior_std=c.prior_std)

  # Data: HR faces (and a reference photo of the same person), LR made on the host by `degradation`.

  def train_data(self, data_dir):
    c = self.config
    source = pipeline.data_source(c.dataset, 'train', data_dir)
    return pipeline.paired(source, 'image', c.degradation, c.scale, c.seed, c.flip)

  def eval_data(self, data_dir):
    c = self.config
    return pipeline.paired_examples(pipeline.data_source(c.eval_dataset, c.eval_split, data_dir), c.eval_size,
                                    'image', c.degradation, c.scale)

  def guide(self, batch, hr):
    """What the network sees besides the LR in training: SISR-VAE's encoder sees the HR face."""
    del batch
    return hr

  def init_networks(self, rng, batch):
    c = self.config
    hr = images.to_float(batch['hr'])
    n, h, w, _ = hr.shape
    lr = jnp.zeros((n, h // c.scale, w // c.scale, 3))
    return {'vae': Network.create(self.model, optim.make(c.model.optimizer), rng, lr, self.guide(batch, hr),
                                  ema_decay=c.ema_decay)}

  # The loss and the step.

  def loss(self, output, hr, frozen):
    """The weighted per-face sums of the module docstring; returns (total, {term: value})."""
    w = self.config.loss
    terms = {'l1': losses.sum_per_example(jnp.abs(output['sr'] - hr) / 2.0),  # / 2: on [0, 1] images
             'kl': losses.sum_per_example(losses.gaussian_kl(output['mu'], output['log_sigma'],
                                                             self.config.prior_std))}
    if w.vgg:
      features = lambda x: frozen['vgg'](x)[self.config.vgg.layer]  # noqa: E731
      terms['vgg'] = losses.sum_per_example(jnp.abs(features(output['sr']) - features(hr)) / 256.0)
    return sum(w[k] * v for k, v in terms.items()), terms

  def train_step(self, state, batch, rng):
    del rng  # the noise is drawn from the LR image (the paper's conditional sampling)
    hr, lr = images.to_float(batch['hr']), images.to_float(batch['lr'])
    net = state.nets['vae']

    def loss(params):
      output, _ = net.train_apply(lr, self.guide(batch, hr), params=params)
      value, terms = self.loss(output, hr, state.frozen)
      return value, {'loss': value, **terms, 'sigma': jnp.mean(jnp.exp(output['log_sigma']))}

    grads, terms = jax.grad(loss, has_aux=True)(net.params)
    return state.replace(nets={'vae': net.update(grads, {})}), base.prefixed('vae', terms)

  def upscale(self, state, lr, reference=None, eps=None):
    """LR (and for RefSR the reference photo) in [-1, 1] -> SR in [-1, 1], at config.temperature."""
    sigma = None
    if self.config.test_noise == 'prototxt':
      sigma = jax.random.normal(jax.random.key(self.config.seed), (lr.shape[0], self.config.model.latent))
    return state.nets['vae'](lr, reference, eps, self.config.temperature, sigma=sigma)['sr']

  def evaluate(self, state, batch, rng):
    c = self.config
    hr, lr, bicubic = (images.to_float(batch[k]) for k in ('hr', 'lr', 'bicubic'))
    reference = images.to_float(batch['reference']) if self.needs_reference else None
    guides = (reference,) if self.needs_reference else ()
    upscale = lambda x, *g, eps=None: metrics.quantize(self.upscale(state, x, *g, eps=eps))  # noqa: E731
    outputs = {'output': upscale(lr, *guides), 'bicubic': bicubic,
               'ensemble': metrics.quantize(self_ensemble.self_ensemble(upscale, lr, *guides))}
    if self.needs_reference:
      outputs['wrong reference'] = upscale(lr, images.to_float(batch['wrong_reference']))
    scalars = {f'{metric}/{name}': value for name, x in outputs.items()
               for metric, value in metrics.fidelity(x, hr, c.eval_border).items()}
    noise = jax.random.normal(rng, (c.diversity_samples, lr.shape[0], c.model.latent))
    samples = jnp.stack([upscale(lr, *guides, eps=eps) for eps in noise])
    std = samples.std(axis=0).mean(-1, keepdims=True)
    scalars['diversity/std'] = jnp.mean(std)
    columns = {'LR': lr, 'HR': hr, 'sample std': jnp.tile(jnp.clip(std / STD_WHITE, 0, 1) * 2 - 1, 3), **outputs}
    if self.needs_reference:
      columns['reference'] = reference
    return {k: columns[k] for k in self.eval_columns}, scalars


class RefSRVAE(SISRVAE):
  """RefSR-VAE: trained on (face, another photo of the same person) pairs; evaluated with references from
  `reference_split` and, as the control, with a reference of another person."""

  needs_reference = True
  eval_columns = ('LR', 'bicubic', 'reference', 'output', 'wrong reference', 'sample std', 'HR')

  def example(self):
    return {**super().example(), 'reference': base.face(self.config.image_size)}

  def train_data(self, data_dir):
    c = self.config
    source = pipeline.data_source(c.dataset, 'train', data_dir)
    return pipeline.degraded_reference_pairs(source, c.degradation, c.scale, c.seed, c.flip)

  def eval_data(self, data_dir):
    c = self.config
    source = pipeline.data_source(c.eval_dataset, c.eval_split, data_dir)
    references = pipeline.data_source(c.eval_dataset, c.reference_split, data_dir)
    right = pipeline.reference_examples(source, c.eval_size, references)
    wrong = pipeline.reference_examples(source, c.eval_size, references, same_identity=False)
    return {**pipeline.degraded(right['hr'], c.degradation, c.scale), 'reference': right['reference'],
            'wrong_reference': wrong['reference']}

  def guide(self, batch, hr):
    del hr
    return images.to_float(batch['reference'])


METHODS = {'sisr_vae': SISRVAE, 'refsr_vae': RefSRVAE}
