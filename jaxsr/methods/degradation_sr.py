"""Degradation learning end to end (Bulat, Yang, Tzimiropoulos, ECCV 2018): H2L, its LR
discriminator, L2H and its HR discriminator, all four updated in one jitted step.

  D_LR step, G_H2L step (jaxsr/methods/h2l.py) on (hr, z) against unpaired real LR faces, then
  D_HR step, G_L2H step (jaxsr/methods/l2h.py) on the pair (hr, sg(H2L(hr, z))).

yoon28/unpaired_face_sr (yoon_train.py) orders a step as both discriminators, then G_H2L, then G_L2H; the order
here gives the same result, since D_HR and G_L2H see the H2L output from before the H2L update, which neither of
the first two touch. The H2L half reads the top-level fields as configs/h2l.py does; the L2H half reads config.l2h
(generator, discriminator, loss, gan_loss as configs/l2h_bicubic.py).
"""
import jax

from jaxsr.core import config_base, images, losses
from jaxsr.data import pipeline
from jaxsr.methods import base, gan
from jaxsr.methods.h2l import HighToLow
from jaxsr.methods.l2h import LowToHigh


def l2h_config(config):
  """The L2H half's full config: paired-SR defaults, the top-level fields (data, sizes, precision, seed) except the
  groups config.l2h holds, then config.l2h (its generator, discriminator, loss, gan_loss)."""
  c = config_base.paired_sr_config()
  c.update({k: v for k, v in config.items() if k != 'l2h' and k not in config.l2h})
  c.method = 'l2h'
  c.update(config.l2h)
  return c


class DegradationSR(base.Method):
  """Networks: `h2l`, `d_lr`, `l2h`, `d_hr`."""

  eval_columns = ('HR', 'H2L(HR)', 'real LR', 'real LR: bicubic', 'real LR: output')
  sr_network = 'l2h'
  fully_convolutional = True  # GEN_DEEP

  def __init__(self, config):
    super().__init__(config)
    self.h2l = HighToLow(config)
    self.l2h = LowToHigh(l2h_config(config))
    if self.l2h.discriminator is None:
      raise ValueError('config.l2h.loss.adversarial: the joint pipeline trains the HR discriminator; set it > 0')
    if config_base.uses_vgg(self.l2h.config):  # the run reads what the top-level config names
      raise ValueError('config.l2h.loss.vgg: the joint pipeline trains L2H on its pixel and adversarial terms; set '
                       'it to 0')

  def train_data(self, data_dir):
    return self.h2l.train_data(data_dir)  # HR faces and unpaired real LR faces

  def eval_data(self, data_dir):
    batch = self.l2h.eval_data(data_dir)  # HR test faces with bicubic LR, real LR test faces
    source = pipeline.data_source(self.config.eval_dataset, 'test', data_dir)
    return {**batch, **pipeline.true_degradations(source, len(batch['hr']))}  # for the H2L half

  def init_networks(self, rng, batch):
    h2l_rng, l2h_rng = jax.random.split(rng)
    return {**self.h2l.init_networks(h2l_rng, batch), **joint_names(self.l2h.init_networks(l2h_rng, batch))}

  def train_step(self, state, batch, rng):
    hr, real_lr = images.to_float(batch['hr']), images.to_float(batch['lr'])
    h2l_rng, l2h_rng = jax.random.split(rng)
    nets = state.nets
    h2l, d_lr, fake_lr, h2l_metrics, d_lr_metrics = gan.adversarial_update(
        nets['h2l'], (hr, self.h2l.noise(h2l_rng, hr)), nets['d_lr'], real_lr,
        lambda fake, d: self.h2l.generator_loss(fake, hr, d), losses.hinge_discriminator)
    l2h_nets, l2h_metrics = self.l2h.update_networks(l2h_names(nets), hr, jax.lax.stop_gradient(fake_lr),
                                                     state.frozen, l2h_rng)
    metrics = {**base.prefixed('h2l', h2l_metrics), **base.prefixed('d_lr', d_lr_metrics),
               **joint_names(l2h_metrics)}
    return state.replace(nets={'h2l': h2l, 'd_lr': d_lr, **joint_names(l2h_nets)}), metrics

  def evaluate(self, state, batch, rng):
    h2l_state = state.replace(nets={'h2l': state.nets['h2l'], 'd_lr': state.nets['d_lr']})
    h2l_images, h2l_scalars = self.h2l.evaluate(h2l_state, {**batch, 'lr': batch['real_lr']}, rng)
    l2h_images, l2h_scalars = self.l2h.evaluate(self._l2h_state(state), batch, rng)
    return {**l2h_images, **h2l_images}, {**h2l_scalars, **{f'l2h/{k}': v for k, v in l2h_scalars.items()}}

  def upscale(self, state, lr, reference=None):
    del reference
    return self.l2h.upscale(self._l2h_state(state), lr)

  def _l2h_state(self, state):
    return state.replace(nets=l2h_names(state.nets))


# The L2H method's names of its networks -> this method's, for networks and their metrics alike.
JOINT_NAMES = {'generator': 'l2h', 'discriminator': 'd_hr'}


def joint_names(tree):
  """{'generator': g, 'discriminator/loss': x} -> {'l2h': g, 'd_hr/loss': x}."""
  renamed = {}
  for key, value in tree.items():
    net, slash, rest = key.partition('/')
    renamed[JOINT_NAMES[net] + slash + rest] = value
  return renamed


def l2h_names(nets):
  return {k: nets[v] for k, v in JOINT_NAMES.items() if v in nets}  # an export holds its L2H alone


METHODS = {'degradation_sr': DegradationSR}
