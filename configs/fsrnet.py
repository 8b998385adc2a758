"""FSRNet (Chen et al., CVPR 2018), the baseline of Bulat et al. (ECCV 2018): coarse SR, fine encoder, a prior
network of two stacked hourglasses predicting five landmark heatmaps, fine decoder; MSE on the coarse and fine
outputs and on the heatmaps. `:gan` is FSRGAN: + 0.01 x adversarial (+ a VGG19 term when you give weights).

    python -m jaxsr.main --config=configs/fsrnet.py --workdir=runs/fsrnet
    python -m jaxsr.main --config=configs/fsrnet.py:gan --workdir=runs/fsrgan --config.init_from=runs/fsrnet
    python -m jaxsr.main --config=configs/fsrnet.py:gan --workdir=runs/fsrgan_vgg --config.init_from=runs/fsrnet \
        --config.loss.vgg=0.01 --config.vgg.weights=vgg19.npz

The paper works at x8 on 128x128 faces (--config.image_size=128 --config.scale=8 on a dataset built at 128);
the default is x4 on the 64x64 faces every other config uses. The embedded faces carry landmarks; for your own,
build the dataset with landmarks (detected by MTCNN or read from a CelebA-style file):

    python -m jaxsr.data.build face_folder --path=~/faces --name=faces --landmarks=mtcnn
    python -m jaxsr.main --config=configs/fsrnet.py --config.dataset=face_folder/faces \
        --config.eval_dataset=face_folder/faces

FSRGAN's discriminator is conditional, as the paper's (Eq. 5): SRGAN's network on the face beside the
bicubic-upsampled LR (`conditional_discriminator`). Evaluation adds `fsrnet_protocol/psnr_y|ssim_y`: Y truncated
to 8 bits, no border, as the paper measures (the `psnr_y`/`ssim_y` columns crop `scale` px, as SRGAN's tables).
Deviations, decided where the paper is silent or needs what cannot ship: Adam (the paper trains with RMSprop at
2.5e-4); no parsing maps (no dataset here has them); the discriminator's layers are SRGAN's (the paper names
none).
"""
from jaxsr.core import config_base
from jaxsr.models import discriminators


def get_config(arg=''):
  c = config_base.paired_sr_config()
  c.method = 'fsrnet'
  c.num_steps = 100_000
  c.batch_size = 16  # the paper used 14; 16 splits over 1, 2, 4 and 8 devices
  c.landmarks_feature = 'landmarks'  # (5, 2) pixel (x, y) per face; the prior term's targets
  c.prior_sigma = 1.0  # std in px of the target heatmaps, at the priors' resolution (half the HR side)
  c.conditional_discriminator = True  # FSRGAN's C(image, bicubic LR-up); False: D sees the image alone
  c.loss.update(mse=1.0, coarse=1.0, prior=1.0)
  opt = config_base.optimizer('adam', 2.5e-4, b1=0.9, b2=0.999)
  c.generator = dict(features=64, prior_features=128, coarse_blocks=3, encoder_blocks=12, prior_blocks=3,
                     hourglasses=2, hourglass_depth=4, decoder_blocks=3, landmarks=5, optimizer=opt)
  c.discriminator = dict(units=discriminators.SRGAN_UNITS, dense_features=1024,
                         optimizer=config_base.optimizer('adam', 1e-4, b1=0.9, b2=0.999))
  variants = config_base.variants(__file__, arg, {'gan', 'tiny'})
  if 'gan' in variants:
    c.loss.adversarial = 0.01
  if 'tiny' in variants:
    config_base.tiny(c)
    c.generator.update(features=8, prior_features=8, coarse_blocks=1, encoder_blocks=1, prior_blocks=1,
                       hourglasses=1, hourglass_depth=1, decoder_blocks=1)
    c.discriminator.update(units=((8, 3, 1), (8, 3, 2), (16, 3, 2)), dense_features=16)
  return c
