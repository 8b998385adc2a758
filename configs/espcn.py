"""ESPCN (Shi et al., CVPR 2016): x4 (16 -> 64) on the embedded faces, MSE.

    python -m jaxsr.main --config=configs/espcn.py --workdir=runs/espcn
    python -m jaxsr.main --config=configs/espcn.py:tiny --workdir=runs/espcn_tiny

Kept different: the paper trains with SGD, 0.01 falling to 1e-4, on the luminance channel; here Adam at 1e-3 on
RGB (no schedule to tune; --config.generator.optimizer.* sets another).
"""
from jaxsr.core import config_base


def get_config(arg=''):
  c = config_base.paired_sr_config()
  c.method = 'espcn'
  c.num_steps = 50_000
  c.generator = dict(features=(64, 32), optimizer=config_base.optimizer('adam', 1e-3))
  if 'tiny' in config_base.variants(__file__, arg, {'tiny'}):
    config_base.tiny(c)
    c.generator.update(features=(16, 8))
  return c
