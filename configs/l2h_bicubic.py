"""Low-to-High (Bulat et al., ECCV 2018) trained on plain bicubic pairs: the ablation that shows
why the learned degradation matters on real low-resolution faces. configs/l2h.py is the same method and network
trained on the degradation an H2L run learned; nothing else differs.

    python -m jaxsr.main --config=configs/l2h_bicubic.py --workdir=runs/l2h_bicubic
    python -m jaxsr.main --config=configs/l2h_bicubic.py --workdir=runs/l2h_bicubic_pixel --config.loss.adversarial=0

Evaluation runs on paired test faces (PSNR/SSIM) and on the real LR test faces of `lr_dataset` (LR consistency,
SWD to the HR test faces): by default the embedded data's hidden degradation; for WIDER faces
--config.lr_dataset=lr_face_folder/wider --config.lr_feature=image.
"""
from jaxsr.core import config_base


def get_config(arg=''):
  c = config_base.paired_sr_config()
  c.method = 'l2h'
  c.lr_dataset = 'procedural_faces'  # real LR faces, for the evaluation without ground truth
  c.lr_feature = 'real_lr'
  c.batch_size = 32
  c.num_steps = 78_125  # 50 epochs of 50,000 HR faces at batch 32
  c.gan_loss = 'hinge'
  c.loss.update(mse=1.0, adversarial=0.05)  # alpha, beta; adversarial = 0: no HR discriminator
  adam = config_base.optimizer('adam', 1e-4, b1=0.0, b2=0.9)
  c.generator = dict(widths=(256, 128), blocks=(12, 3), head_features=96, optimizer=adam)
  c.flip = False  # the authors' and yoon28's loaders do not flip
  # The authors' HR discriminator (Discriminator.py's `Discriminator`, 64x64 faces); :yoon gives yoon28's.
  c.discriminator = dict(architecture='sngan', strides=(2, 2, 2, 2, 1), features=128,
                         optimizer=config_base.optimizer('adam', 1e-4, b1=0.0, b2=0.9))
  chosen = config_base.variants(__file__, arg, {'tiny', 'yoon'})
  if 'yoon' in chosen:
    c.discriminator = dict(architecture='yoon28', widths=(128, 128, 256, 256, 512, 512), pooled_blocks=4,
                           dense_features=512, optimizer=config_base.optimizer('adam', 1e-4, b1=0.0, b2=0.9))
  if 'tiny' in chosen:
    config_base.tiny(c)
    c.lr_dataset = c.dataset
    c.generator.update(widths=(16, 8), blocks=(1, 1), head_features=8)
    if 'yoon' in chosen:
      c.discriminator.update(widths=(8, 8, 16, 16), pooled_blocks=4, dense_features=16)
    else:
      c.discriminator.features = 8
  return c
