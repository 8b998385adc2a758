"""The face SRGAN of Sada, Courbot & Popovic ("Single-Image Facial Super-Resolution Using GANs"): SRGAN with
AdaBelief (Zhuang et al. 2020) instead of Adam and a content loss of MSE + DSSIM, DSSIM = (1 - SSIM) / 2.

    python -m jaxsr.main --config=configs/srgan_face.py --workdir=runs/srgan_face [--config.init_from=runs/srresnet]

The write-up gives neither term's weight: both are 1 (config.loss.mse, config.loss.dssim), the plain sum it names.
"""
from jaxsr.core import config_base


def get_config(arg=''):
  c = config_base.sibling_config(__file__, 'srgan', arg)
  c.loss.mse, c.loss.dssim = 1.0, 1.0
  for net in (c.generator, c.discriminator):
    net.optimizer.name = 'adabelief'
  return c
