"""The face-SR write-up's degradation pipeline (a7med12345/Face_super-resolution): H2L and L2H U-Nets and an LR
discriminator at 64x64, trained together in one step (jaxsr.methods.unet_degradation).

    python -m jaxsr.main --config=configs/unet_degradation.py --workdir=runs/unet_degradation
    python -m jaxsr.main --config=configs/unet_degradation.py:hr_disc --workdir=runs/unet_hr_disc  # + D on L2H
    python -m jaxsr.main --config=configs/unet_degradation.py:tiny --workdir=runs/unet_tiny

Data as configs/h2l.py: HR faces from `dataset`, unpaired real 16x16 LR faces from `lr_dataset`. The U-Nets'
widths are the figures' (about 21 M parameters each); `tiny` makes them 8 times narrower, on the 256-face embedded
set, for a few steps.
"""
from jaxsr.core import config_base


def get_config(arg=''):
  c = config_base.sibling_config(__file__, 'h2l', 'tiny' if 'tiny' in arg.split(',') else '')
  del c.generator, c.discriminator  # the U-Nets' widths are fixed by the figures
  c.method = 'unet_degradation'
  c.z_dim = 64  # N(0, 1)^64 through a fully connected layer to the 64x64 noise channel, as drawn
  c.width = 64  # the first conv's width; every other scales with it (64: the figures', about 21 M per U-Net)
  c.activation = 'relu'  # relu (Bulat et al.'s) or leaky_relu (0.2)
  c.h2l_target = 'round_trip'  # H2L's pixel target: the HR face's bicubic 64 -> 16 -> 64, or 'hr' (as drawn)
  c.l2h_alpha, c.l2h_beta = 1.0, 0.05  # L2H's pixel and (with hr_discriminator) adversarial weights
  c.l2h_lr_l1 = 0.0  # L1(avgpool4(L2H(x)), avgpool4(x)): not the write-up's; the campaign's model uses 1
  c.hr_discriminator = False

  def adam():  # one optimizer config per network: a shared one would change both with one override
    return config_base.optimizer('adam', 1e-4, b1=0.0, b2=0.9)
  c.h2l, c.d_lr, c.l2h, c.d_hr = ({'optimizer': adam()} for _ in range(4))
  chosen = config_base.variants(__file__, arg, {'tiny', 'hr_disc'})
  c.hr_discriminator = 'hr_disc' in chosen
  if 'tiny' in chosen:
    c.width = 8
    c.batch_size, c.num_steps = 8, 4
    c.log_every = c.eval_every = c.checkpoint_every = 2
    c.eval_size = 4
  return c
