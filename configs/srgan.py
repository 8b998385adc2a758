"""SRGAN (Ledig et al., CVPR 2017): SRResNet's generator, the SRGAN discriminator,
content + 1e-3 * -log D(G(x)), started from a trained SRResNet, lr 1e-4 then 1e-5 after 1e5 steps.

    python -m jaxsr.main --config=configs/srgan.py --workdir=runs/srgan --config.init_from=runs/srresnet
    python -m jaxsr.main --config=configs/srgan.py:vgg --workdir=runs/srgan_vgg --config.init_from=runs/srresnet \
        --config.vgg.weights=vgg19.npz        # SRGAN-VGG54: content = MSE of conv5_4 features / 12.75

The default content term is pixel MSE (SRGAN-MSE), since VGG19 weights cannot ship with jaxsr: make the .npz
from torchvision or Keras weights with `python -m jaxsr.convert_vgg`.

SRGAN-VGG54 rescales the conv5_4 *features* by 1/12.75 (Ledig et al., "Training details and parameters"), so their MSE
is weighted 1/12.75^2 ~ 0.0062 (leftthomas/SRGAN, loss.py, uses 0.006). 12.75 was calibrated on the Caffe VGG19
(BGR inputs in 0..255 minus the mean pixel: the original and Keras weights, `caffe` preprocessing). torchvision's
VGG19 (`torch` preprocessing) takes inputs normalised to unit variance and has other weights, so its conv5_4
features are on another scale and the same weight gives another content / adversarial balance than the paper's:
with such a file, compare the logged `generator/vgg` term with the pixel MSE and adjust --config.loss.vgg.
"""
from jaxsr.core import config_base
from jaxsr.models import discriminators


def get_config(arg=''):
  c = config_base.paired_sr_config()
  c.method = 'srgan'
  c.num_steps = 200_000
  c.loss.adversarial = 1e-3
  def adam():  # one optimizer config per network: a shared one would change both with one override
    return config_base.optimizer('adam', 1e-4, b1=0.9, b2=0.999, schedule='step', decay_every=100_000,
                                 decay_factor=0.1)
  c.generator = dict(blocks=16, features=64, optimizer=adam())
  c.discriminator = dict(units=discriminators.SRGAN_UNITS, dense_features=1024, optimizer=adam())
  variants = config_base.variants(__file__, arg, {'vgg', 'tiny'})
  if 'vgg' in variants:
    c.loss.mse, c.loss.vgg = 0.0, 1 / 12.75**2  # features / 12.75, so their squared error / 12.75^2
  if 'tiny' in variants:
    config_base.tiny(c)
    c.generator.update(blocks=2, features=16)
    c.discriminator.update(units=((8, 3, 1), (8, 3, 2), (16, 3, 2)), dense_features=16)
  return c
