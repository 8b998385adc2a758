"""Low-to-High, two-stage (Bulat et al., ECCV 2018): a trained H2L run, frozen, degrades HR faces
on the fly into realistic LR inputs; L2H learns to undo that with pixel MSE plus the HR discriminator.

    python -m jaxsr.main --config=configs/h2l.py --workdir=runs/h2l
    python -m jaxsr.main --config=configs/l2h.py --workdir=runs/l2h --config.h2l_workdir=runs/h2l
    ... --config.loss.adversarial=0     # pixel loss only

Every other field is configs/l2h_bicubic.py's. The H2L step used is recorded at the first start and kept by every
resume (--config.h2l_step chooses one). Any paired method trains on a learned degradation the same way:
--config.degradation=h2l --config.h2l_workdir=runs/h2l.
"""
from jaxsr.core import config_base


def get_config(arg=''):
  c = config_base.sibling_config(__file__, 'l2h_bicubic', arg)
  c.degradation = 'h2l'  # LR inputs made by the generator of the H2L run in --config.h2l_workdir
  return c
