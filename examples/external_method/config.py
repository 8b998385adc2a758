"""configs/<name>.py's shape for a method of another package: `method` is its entry-point name.

    python -m jaxsr.main --config=examples/external_method/config.py --workdir=runs/tiny_sr
    python -m jaxsr.main --config=examples/external_method/config.py:tiny --workdir=runs/tiny_sr_tiny
"""
from jaxsr.core import config_base


def get_config(arg=''):
  c = config_base.paired_sr_config()
  c.method = 'tiny_sr'
  c.loss.update(mse=0.0, l1=1.0)
  c.generator = dict(features=32, depth=3, optimizer=config_base.optimizer('adam', 1e-3))
  if 'tiny' in config_base.variants(__file__, arg, {'tiny'}):
    config_base.tiny(c)
    c.generator.update(features=8, depth=2)
  return c
