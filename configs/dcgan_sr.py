"""DCGAN super-resolution x4 as its notebook ran it (dwipddalal/Image-super-resolution-using-GANs,
Super_Resolution_DCGAN.ipynb; jaxsr.methods.dcgan_sr): 32 -> 128 faces, bilinear LR without antialiasing,
0.8 MSE + 0.2 BCE with noisy labels, Adam 2e-4 (beta1 0.5) for G, RMSprop 1e-4 clipped to 1 for D, batch 128,
15 epochs of the notebook's 182,340 CelebA faces.

    python -m jaxsr.main --config=configs/dcgan_sr.py --workdir=runs/dcgan_sr
    python -m jaxsr.main --config=configs/dcgan_sr.py:x16 --workdir=runs/dcgan_sr16     # 16 -> 64 faces

Default data: the embedded procedural faces at 128x128 (`procedural_faces/x128`, built on first use); CelebA as
the notebook: --config.dataset=face_folder/celeba128 after `python -m jaxsr.data.build face_folder
--path=~/img_align_celeba --name=celeba128 --image_size=128 --crop=0,15,178,178` (the notebook's box).
`--config.generator.bn_activations=True --config.discriminator.bn_activations=True` adds the LeakyReLUs the
notebook writes after its BatchNorms but never adds to the model.
"""
from jaxsr.core import config_base


def get_config(arg=''):
  c = config_base.paired_sr_config()
  c.method = 'dcgan_sr'
  c.dataset = c.eval_dataset = 'procedural_faces/x128'
  c.image_size = 128
  c.degradation = 'bilinear'  # tf.image.resize's default: bilinear, no antialiasing
  c.flip = False  # the notebook feeds its faces as they are
  c.batch_size = 128
  c.num_steps = 21_360  # 15 epochs of 182,340 faces at batch 128
  c.label_noise = 0.1  # fake labels 0 + 0.1 u, real and G's target 1 - 0.1 u, u ~ U(0, 1)
  c.loss.update(mse=0.8, adversarial=0.2)
  c.generator = dict(widths=(256, 256, 128, 128, 64, 64), bn_activations=False,
                     optimizer=config_base.optimizer('adam', 2e-4, b1=0.5, b2=0.999))
  c.discriminator = dict(widths=(64, 128, 256, 512), features=256, dense_features=1024, bn_activations=False,
                         optimizer=config_base.optimizer('rmsprop', 1e-4, b2=0.9, clip_value=1.0))
  variants = config_base.variants(__file__, arg, {'x16', 'tiny'})
  if 'x16' in variants:  # 16 -> 64 on the embedded 64x64 faces
    c.dataset = c.eval_dataset = 'procedural_faces'
    c.image_size = 64
  if 'tiny' in variants:
    config_base.tiny(c)
    c.image_size = 64
    c.generator.widths = (16, 8)
    c.discriminator.update(widths=(8, 16), features=16, dense_features=16)
  return c
