"""EDSR (Lim et al., CVPRW 2017): the baseline (16 blocks of 64), x4 (16 -> 64), L1, as the paper trains it.

    python -m jaxsr.main --config=configs/edsr.py --workdir=runs/edsr
    python -m jaxsr.main --config=configs/edsr.py:large --workdir=runs/edsr_large     # 32 blocks of 256
    python -m jaxsr.main --config=configs/edsr.py:face_cpu --workdir=runs/edsr_face   # the shipped model's recipe
    python -m jaxsr.main --config=configs/edsr.py:tiny --workdir=runs/edsr_tiny

The paper: Adam (0.9, 0.999, eps 1e-8) at 1e-4, halved every 2e5 steps, batch 16, 3e5 steps (300 epochs of 1,000
updates). Kept different: it trains on 48x48 LR patches of DIV2K; here on whole 16x16 LR faces.

`face_cpu` is the recipe of the x4 face model in pretrained/ (benchmarks/cpu/campaign.py trains it on this CPU;
benchmarks/RESULTS.md compares recipes at equal minutes): the bicubic skip (the network learns the residual to
bicubic upsampling), 2e-4 with 1,000 warmup steps and a cosine to 0 at `decay_steps`, and a moving average of the
weights (0.999) for evaluation and export.
"""
from jaxsr.core import config_base


def get_config(arg=''):
  c = config_base.paired_sr_config()
  c.method = 'edsr'
  c.num_steps = 300_000
  c.loss.update(mse=0.0, l1=1.0)
  opt = config_base.optimizer('adam', 1e-4, b1=0.9, b2=0.999, schedule='step', decay_every=200_000,
                              decay_factor=0.5)
  c.generator = dict(blocks=16, features=64, res_scale=1.0, rgb_range=255.0, bicubic_skip=False,
                     upsampler='x2_stages', optimizer=opt)
  chosen = config_base.variants(__file__, arg, {'large', 'face_cpu', 'tiny'})
  if 'large' in chosen:
    c.generator.update(blocks=32, features=256, res_scale=0.1)
  if 'face_cpu' in chosen:
    c.num_steps = 20_000
    c.ema_decay = 0.999
    c.generator.update(bicubic_skip=True, upsampler='single_shuffle')
    c.generator.optimizer = config_base.optimizer('adam', 2e-4, b1=0.9, b2=0.999, schedule='warmup_cosine',
                                                  warmup_steps=1_000, decay_steps=c.num_steps)
  if 'tiny' in chosen:
    config_base.tiny(c)
    c.generator.update(blocks=2, features=16)
    if c.generator.optimizer.schedule == 'warmup_cosine':
      c.generator.optimizer.update(warmup_steps=5, decay_steps=c.num_steps)
  return c
