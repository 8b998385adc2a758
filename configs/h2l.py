"""High-to-Low degradation GAN (Bulat et al., ECCV 2018), with the authors' own networks.

    python -m jaxsr.main --config=configs/h2l.py --workdir=runs/h2l
    python -m jaxsr.main --config=configs/h2l.py:yoon --workdir=runs/h2l_yoon   # yoon28's re-implementation
    python -m jaxsr.main --config=configs/h2l.py:tiny --workdir=runs/h2l_tiny   # seconds, for trying things

--config.generator.architecture picks another generator of the authors' H2L.py: gen_h2l_2, gen_h2l or gen_h2l_cgan
(with --config.z_dim=64, 64 or 8), gen_h2l_0424_32 (x2: --config.scale=2 --config.z_dim=64).

HR faces come from `dataset` (feature `hr_feature`), unpaired real LR faces from `lr_dataset` (`lr_feature`).
By default both come from the embedded procedural faces: HR faces, and the hidden degradation of other faces.
For CelebA + WIDER: --config.dataset=face_folder/celeba --config.hr_feature=image
  --config.lr_dataset=lr_face_folder/wider --config.lr_feature=image (see README, "Your own data").
"""
from jaxsr.core import config_base


def get_config(arg=''):
  c = config_base.base_config()
  c.method = 'h2l'
  c.lr_dataset = 'procedural_faces'
  c.hr_feature = 'image'
  c.lr_feature = 'real_lr'
  c.batch_size = 32
  c.num_steps = 78_125  # 50 epochs of 50,000 HR faces at batch 32
  c.alpha = 1.0  # pixel term: MSE to the 4x4 average-pooled HR face
  c.beta = 0.05  # adversarial term
  c.init_from = ''  # a run or jaxsr.export folder whose networks (h2l, d_lr) start this run

  def adam():  # one optimizer config per network: a shared one would change both with one override
    return config_base.optimizer('adam', 1e-4, b1=0.0, b2=0.9)

  # The authors' networks (H2L.py, Discriminator.py of jingyang2017/Face-and-Image-super-resolution):
  # Gen_h2l_0424 adds one noise image of the HR size, so z_dim is its pixel count; Discriminator_16 judges 16x16.
  c.z_dim = c.image_size ** 2
  c.generator = dict(architecture='gen_h2l_0424', features=64, optimizer=adam())
  c.discriminator = dict(architecture='sngan', strides=(2, 2, 1, 1, 1), features=128, optimizer=adam())

  chosen = config_base.variants(__file__, arg, {'tiny', 'yoon'})
  if 'yoon' in chosen:  # yoon28/unpaired_face_sr's re-implementation (the default before the authors' code)
    c.z_dim = 64
    c.generator = dict(architecture='yoon28', widths=(96, 96, 128, 128, 256, 256, 512, 512), up_widths=(128, 32),
                       blocks_per_stage=2, optimizer=adam())
    c.discriminator = dict(architecture='yoon28', widths=(128, 128, 256, 256, 512, 512), pooled_blocks=2,
                           dense_features=512, optimizer=adam())
  if 'tiny' in chosen:  # narrow networks, the 256-face embedded set
    config_base.tiny(c)
    c.lr_dataset = c.dataset
    if 'yoon' in chosen:
      c.generator.update(widths=(8, 8, 8, 8, 16, 16, 32, 32), up_widths=(8, 2), blocks_per_stage=1)
      c.discriminator.update(widths=(8, 8, 16, 16, 16, 16), dense_features=16)
    else:
      c.generator.features = 8
      c.discriminator.features = 8
  return c
