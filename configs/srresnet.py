"""SRResNet (Ledig et al., CVPR 2017): pixel MSE, x4 (16 -> 64) by default.

    python -m jaxsr.main --config=configs/srresnet.py --workdir=runs/srresnet
    python -m jaxsr.main --config=configs/srresnet.py --workdir=runs/srresnet_x8 --config.scale=8   # 8 -> 64
    python -m jaxsr.main --config=configs/srresnet.py:tiny --workdir=runs/srresnet_tiny

Inputs are HR faces degraded by `degradation` (bicubic, area, blur_noise_jpeg). Your own faces:
--config.dataset=face_folder/celeba --config.eval_dataset=face_folder/celeba (README, "Your own data").
"""
from jaxsr.core import config_base


def get_config(arg=''):
  c = config_base.paired_sr_config()
  c.method = 'srresnet'
  c.num_steps = 100_000
  c.generator = dict(blocks=16, features=64, optimizer=config_base.optimizer('adam', 1e-4, b1=0.9, b2=0.999))
  if 'tiny' in config_base.variants(__file__, arg, {'tiny'}):
    config_base.tiny(c)
    c.generator.update(blocks=2, features=16)
  return c
