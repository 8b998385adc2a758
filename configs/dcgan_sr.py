"""DCGAN super-resolution x4 (seed 004; METHODS.md D): residual generator, strided-conv discriminator with
global average pooling, 1 * MSE + 1e-3 * BCE, Adam 2e-4 (beta1 0.5). The seed gives no counts or weights:
these defaults are METHODS.md's.

    python -m jaxsr.main --config=configs/dcgan_sr.py --workdir=runs/dcgan_sr
"""
from jaxsr import config_base
from jaxsr.models import discriminators


def get_config(arg=''):
  c = config_base.paired_sr_config()
  c.method = 'dcgan_sr'
  c.num_steps = 100_000
  c.loss.update(mse=1.0, adversarial=1e-3)
  opt = config_base.optimizer('adam', 2e-4, b1=0.5, b2=0.999)
  c.generator = dict(blocks=8, features=64, optimizer=opt)
  c.discriminator = dict(units=discriminators.DCGAN_UNITS, optimizer=opt)
  if arg == 'tiny':
    config_base.tiny(c)
    c.generator.update(blocks=2, features=16)
    c.discriminator.units = ((8, 3, 2), (16, 3, 2))
  elif arg:
    raise ValueError(f"configs/dcgan_sr.py: unknown variant '{arg}' (known: tiny)")
  return c
