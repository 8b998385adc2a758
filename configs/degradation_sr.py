"""Degradation learning, joint (Bulat et al., ECCV 2018): H2L + LR discriminator and L2H + HR
discriminator, all four networks updated in one jitted step, L2H fed stop-gradient H2L outputs.

    python -m jaxsr.main --config=configs/degradation_sr.py --workdir=runs/degradation_sr

Top-level fields are configs/h2l.py's (data, H2L networks, alpha, beta); config.l2h holds the L2H half's
generator, discriminator, loss and gan_loss, as in configs/l2h_bicubic.py.
"""
import ml_collections

from jaxsr.core import config_base


def get_config(arg=''):
  c = config_base.sibling_config(__file__, 'h2l', arg)
  c.method = 'degradation_sr'
  l2h = config_base.sibling_config(__file__, 'l2h_bicubic', arg)
  c.l2h = ml_collections.ConfigDict(dict(generator=l2h.generator, discriminator=l2h.discriminator, loss=l2h.loss,
                                         gan_loss=l2h.gan_loss))
  return c
