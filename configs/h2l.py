"""High-to-Low degradation GAN (Bulat et al., ECCV 2018).

    python -m jaxsr.main --config=configs/h2l.py --workdir=runs/h2l
    python -m jaxsr.main --config=configs/h2l.py:tiny --workdir=runs/h2l_tiny   # seconds, for trying things

HR faces come from `dataset` (feature `hr_feature`), unpaired real LR faces from `lr_dataset` (`lr_feature`).
By default both come from the embedded procedural faces: HR faces, and the hidden degradation of other faces.
For CelebA + WIDER: --config.dataset=face_folder/celeba --config.hr_feature=image
  --config.lr_dataset=lr_face_folder/wider --config.lr_feature=image (see README, "Your own data").
"""
from jaxsr import config_base


def get_config(arg=''):
  c = config_base.base_config()
  c.method = 'h2l'
  c.lr_dataset = 'procedural_faces'
  c.hr_feature = 'image'
  c.lr_feature = 'real_lr'
  c.batch_size = 32
  c.num_steps = 78_125  # 50 epochs of 50,000 HR faces at batch 32
  c.z_dim = 64
  c.alpha = 1.0  # pixel term: MSE to the 4x4 average-pooled HR face
  c.beta = 0.05  # adversarial term

  c.generator = dict(widths=(96, 96, 128, 128, 256, 256, 512, 512), up_widths=(128, 32), blocks_per_stage=2,
                     optimizer=config_base.optimizer('adam', 1e-4, b1=0.0, b2=0.9))
  c.discriminator = dict(widths=(128, 128, 256, 256, 512, 512), pooled_blocks=2, dense_features=512,
                         optimizer=config_base.optimizer('adam', 1e-4, b1=0.0, b2=0.9))

  if 'tiny' in config_base.variants(__file__, arg, {'tiny'}):  # narrow networks, the 256-face embedded set
    config_base.tiny(c)
    c.lr_dataset = c.dataset
    c.generator.widths = (8, 8, 8, 8, 16, 16, 32, 32)
    c.generator.up_widths = (8, 2)
    c.generator.blocks_per_stage = 1
    c.discriminator.widths = (8, 8, 16, 16, 16, 16)
    c.discriminator.dense_features = 16
  return c
