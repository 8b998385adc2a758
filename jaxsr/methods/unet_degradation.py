"""The degradation pipeline of the face-SR write-up a7med12345/Face_super-resolution (overall_architecture.png):
Bulat et al.'s H2L -> L2H (ECCV 2018) with the write-up's U-Nets (jaxsr.models.unet), all at 64x64. Real LR
faces enter bicubic-upsampled from 16x16, on the device (metrics.bicubic_resize, PIL's filter), so the 16 -> 64
step belongs to the model: `jaxsr.upscale` and `jaxsr.evaluate` give it 16x16 faces.

One jitted step, as the figure draws it:
  D_LR: hinge on real LR-up faces vs H2L(hr, z)
  H2L : alpha * MSE(H2L(hr, z), target) + beta * hinge_G(D_LR(H2L(hr, z)))            alpha = 1, beta = 0.05
  L2H : l2h_alpha * MSE(L2H(sg(H2L(hr, z))), hr) [+ l2h_beta * hinge_G(D_HR(.)), D_HR's hinge step: :hr_disc,
        the write-up's section 5] [+ l2h_lr_l1 * L1(avgpool4(L2H(x)), avgpool4(x)) for its input x: not in the
        write-up (default 0); it holds the output to explaining its input, as paired methods' loss.lr_l1]
The figure draws H2L's pixel loss against the HR face itself; that would pull H2L towards the identity, which
its LR discriminator pulls away from. The default `h2l_target='round_trip'` is the HR face's bicubic 64 -> 16 -> 64
round trip, what an undegraded LR face looks like at 64x64: the counterpart of Bulat et al.'s MSE to the
average-pooled HR face; 'hr' gives the figure's literal target. The weights, the hinge loss and Adam (1e-4, 0,
0.9) are Bulat et al.'s, as configs/h2l.py has them; the figures give none.
"""
import jax
import jax.numpy as jnp

from jaxsr.core import images, losses, metrics, optim
from jaxsr.core.train_state import Network
from jaxsr.data import pipeline
from jaxsr.methods import base, gan, h2l
from jaxsr.models import layers, unet

H2L_TARGETS = ('round_trip', 'hr')


class UNetDegradation(base.Method):
  """Networks: `h2l`, `d_lr`, `l2h`, and `d_hr` when config.hr_discriminator."""

  eval_columns = ('HR', 'H2L(HR)', 'L2H(H2L(HR))', 'real LR', 'real LR: bicubic', 'real LR: output')
  sr_network = 'l2h'

  def __init__(self, config):
    super().__init__(config)
    c = config
    if (c.image_size, c.scale) != (64, 4):
      raise ValueError(f'config.image_size, scale: the write-up U-Nets take 16x16 faces to 64x64 (64, 4), got '
                       f'({c.image_size}, {c.scale})')
    if c.activation not in unet.ACTIVATIONS:
      raise ValueError(f"config.activation: unknown '{c.activation}' (known: {', '.join(unet.ACTIVATIONS)})")
    if c.h2l_target not in H2L_TARGETS:
      raise ValueError(f"config.h2l_target: unknown '{c.h2l_target}' (known: {', '.join(H2L_TARGETS)})")
    self.h2l = unet.UNetHighToLow(width=c.width, activation=c.activation, dtype=self.dtype)
    self.l2h = unet.UNetLowToHigh(width=c.width, activation=c.activation, dtype=self.dtype)
    self.discriminator = unet.UNetDiscriminator(width=c.width, activation=c.activation, dtype=self.dtype)

  def lr_up(self, lr):
    """16x16 faces -> 64x64, bicubic: the form in which every network here sees an LR face."""
    return metrics.bicubic_resize(lr, self.config.image_size)

  def train_data(self, data_dir):
    return h2l.unpaired_faces(self.config, data_dir)

  def eval_data(self, data_dir):
    c = self.config
    hr_source = pipeline.data_source(c.eval_dataset, 'test', data_dir)
    batch = pipeline.paired_examples(hr_source, c.eval_size, c.hr_feature, 'bicubic', c.scale)
    real = pipeline.first_examples(pipeline.data_source(c.lr_dataset, 'test', data_dir), c.eval_size,
                                   [c.lr_feature])[c.lr_feature]
    n = min(len(real), len(batch['hr']))  # the SWD compares equal-sized sets
    return {**{k: v[:n] for k, v in batch.items()}, 'real_lr': real[:n]}

  def init_networks(self, rng, batch):
    c = self.config
    hr = images.to_float(batch['hr'])
    rngs = dict(zip(('h2l', 'd_lr', 'l2h', 'd_hr'), jax.random.split(rng, 4)))
    ema = c.ema_decay
    nets = {'h2l': Network.create(self.h2l, optim.make(c.h2l.optimizer), rngs['h2l'], hr, self.noise(rng, hr)),
            'd_lr': Network.create(self.discriminator, optim.make(c.d_lr.optimizer), rngs['d_lr'], hr),
            'l2h': Network.create(self.l2h, optim.make(c.l2h.optimizer), rngs['l2h'], hr, ema_decay=ema)}
    if c.hr_discriminator:
      nets['d_hr'] = Network.create(self.discriminator, optim.make(c.d_hr.optimizer), rngs['d_hr'], hr)
    return nets

  def noise(self, rng, hr):
    return jax.random.normal(rng, (hr.shape[0], self.config.z_dim), jnp.float32)

  def h2l_target(self, hr):
    if self.config.h2l_target == 'hr':
      return hr
    return self.lr_up(metrics.bicubic_resize(hr, self.config.image_size // self.config.scale))

  def h2l_loss(self, fake, hr, d):
    c = self.config
    pixel = losses.mse(fake, self.h2l_target(hr))
    adversarial = losses.hinge_generator(d.train_apply(fake)[0])
    loss = c.alpha * pixel + c.beta * adversarial
    return loss, {'loss': loss, 'pixel': pixel, 'adversarial': adversarial}

  def l2h_loss(self, sr, hr, lr_up, d=None):
    c = self.config
    pixel = losses.mse(sr, hr)
    terms = {'pixel': pixel}
    loss = c.l2h_alpha * pixel
    if c.get('l2h_lr_l1', 0.0):
      terms['lr_l1'] = losses.l1(layers.avg_pool(sr, c.scale), layers.avg_pool(lr_up, c.scale))
      loss = loss + c.l2h_lr_l1 * terms['lr_l1']
    if d is not None:
      terms['adversarial'] = losses.hinge_generator(d.train_apply(sr)[0])
      loss = loss + c.l2h_beta * terms['adversarial']
    return loss, {'loss': loss, **terms}

  def train_step(self, state, batch, rng):
    hr, real_lr = images.to_float(batch['hr']), self.lr_up(images.to_float(batch['lr']))
    nets = dict(state.nets)
    nets['h2l'], nets['d_lr'], fake_lr, h2l_metrics, d_lr_metrics = gan.adversarial_update(
        nets['h2l'], (hr, self.noise(rng, hr)), nets['d_lr'], real_lr, lambda fake, d: self.h2l_loss(fake, hr, d),
        losses.hinge_discriminator)
    fake_lr = jax.lax.stop_gradient(fake_lr)
    out = {**base.prefixed('h2l', h2l_metrics), **base.prefixed('d_lr', d_lr_metrics)}
    if 'd_hr' in nets:
      nets['l2h'], nets['d_hr'], _, l2h_metrics, d_hr_metrics = gan.adversarial_update(
          nets['l2h'], (fake_lr,), nets['d_hr'], hr, lambda sr, d: self.l2h_loss(sr, hr, fake_lr, d),
          losses.hinge_discriminator)
      out.update(base.prefixed('d_hr', d_hr_metrics))
    else:
      l2h = nets['l2h']

      def loss(params):
        sr, l2h_state = l2h.train_apply(fake_lr, params=params)
        value, terms = self.l2h_loss(sr, hr, fake_lr)
        return value, (l2h_state, terms)

      grads, (l2h_state, l2h_metrics) = jax.grad(loss, has_aux=True)(l2h.params)
      nets['l2h'] = l2h.update(grads, l2h_state)
    return state.replace(nets=nets), {**out, **base.prefixed('l2h', l2h_metrics)}

  def upscale(self, state, lr, reference=None):
    del reference
    return state.nets['l2h'](self.lr_up(lr))

  def evaluate(self, state, batch, rng):
    """PSNR/SSIM of L2H on bicubic LR test faces and of L2H(H2L(HR)), both against HR; on real LR test faces
    LR consistency and SWD to the HR test faces, for L2H and bicubic (no ground truth there)."""
    hr, lr, bicubic = (images.to_float(batch[k]) for k in ('hr', 'lr', 'bicubic'))
    real_lr = images.to_float(batch['real_lr'])
    fake_lr = state.nets['h2l'](hr, self.noise(rng, hr))
    candidates = {'output': metrics.quantize(self.upscale(state, lr)), 'bicubic': bicubic,
                  'l2h_of_h2l': metrics.quantize(state.nets['l2h'](fake_lr))}
    scalars = {f'{metric}/{name}': value for name, x in candidates.items()
               for metric, value in metrics.fidelity(x, hr, self.config.scale).items()}
    d = state.nets['d_lr']
    scalars.update({'d_lr/score_real': d(self.lr_up(real_lr)).mean(), 'd_lr/score_fake': d(fake_lr).mean()})
    real = {'output': metrics.quantize(self.upscale(state, real_lr)),
            'bicubic': metrics.quantize(metrics.bicubic_resize(real_lr, self.config.image_size))}
    for name, sr in real.items():
      scalars[f'real_lr/lr_consistency/{name}'] = metrics.lr_consistency(sr, real_lr)
      scalars[f'real_lr/swd/{name}'] = metrics.swd(sr, hr, jax.random.PRNGKey(0))[0]
    return {'HR': hr, 'H2L(HR)': fake_lr, 'L2H(H2L(HR))': candidates['l2h_of_h2l'], 'real LR': real_lr,
            'real LR: bicubic': real['bicubic'], 'real LR: output': real['output']}, scalars


METHODS = {'unet_degradation': UNetDegradation}
