"""srez (David Garcia; david-gpu/srez): 16 -> 64, area-downscaled inputs with noise, 0.1 adversarial + 0.9 L1
between the 4x4-pooled output and the clean input, G and D updated from the same parameters, Adam 2e-4 (beta1 0.5)
halved every 5k steps, batch 16.

    python -m jaxsr.main --config=configs/srez.py --workdir=runs/srez

The original works on [0, 1] images and jaxsr on [-1, 1]: the same loss there is lr_l1 = 0.45 here (L1 doubles),
and input_noise keeps the original's 0.03 on [0, 1] (the method doubles it). Augmentation as srez_input.py: flips,
saturation, brightness and contrast jitter, and a +-8 px move of its 128 px crop, here +-4 px of the 64 px face
(jaxsr.data.augment).
"""
from jaxsr.core import config_base
from jaxsr.models import discriminators


def get_config(arg=''):
  c = config_base.paired_sr_config()
  c.method = 'srez'
  c.degradation = 'area'
  c.num_steps = 40_000  # the lr halves every 5k steps: 2e-4 / 256 after 40k, little moves after that
  c.input_noise = 0.03
  c.jitter, c.jitter_px = 'srez', 4
  c.loss.update(mse=0.0, lr_l1=0.45, adversarial=0.1)
  def adam():  # one optimizer config per network: a shared one would change both with one override
    return config_base.optimizer('adam', 2e-4, b1=0.5, b2=0.999, schedule='step', decay_every=5_000,
                                 decay_factor=0.5)
  c.generator = dict(widths=(256, 128), blocks=2, head_features=96, residual_stddev_factor=1e-3,
                     optimizer=adam())
  c.discriminator = dict(units=discriminators.SREZ_UNITS, optimizer=adam())
  if 'tiny' in config_base.variants(__file__, arg, {'tiny'}):
    config_base.tiny(c)
    c.generator.update(widths=(16, 8), blocks=1, head_features=8)
    c.discriminator.units = ((8, 3, 2), (16, 3, 2), (16, 1, 1))
  return c
