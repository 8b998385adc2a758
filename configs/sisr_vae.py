"""SISR-VAE (Liu, Siu & Chan, IEEE Access 2019; Holmes-Alan/RefSR, SISR_VAE.prototxt): a conditional VAE for x8 face SR
(16 -> 128) whose encoder sees the LR and, in training, the HR face; at test time z is drawn from the prior N(0,
0.1^2).

    python -m jaxsr.main --config=configs/sisr_vae.py --workdir=runs/sisr_vae     # embedded procedural people
    python -m jaxsr.data.build identity_folder --path=~/celeba_ids --name=celeba_ids \\
        --crop=25,45,128,128                                   # the centre 128x128 face of 178x218 CelebA photos
    python -m jaxsr.main --config=configs/sisr_vae.py --workdir=runs/sisr_celeba \\
        --config.dataset=identity_folder/celeba_ids --config.eval_dataset=identity_folder/celeba_ids
    python -m jaxsr.main --config=configs/sisr_vae.py --workdir=runs/sisr_vae_x4 --config.scale=4
    python -m jaxsr.main --config=configs/sisr_vae.py:tiny --workdir=runs/sisr_vae_tiny   # the embedded faces

It reads only `image`, so any face dataset serves (--config.dataset=face_folder/<name> --config.eval_split=test).
The loss is the prototxt's, L1 + 10 VGG + KL, each summed per face as Caffe does (jaxsr.methods.reference_vae),
once given a VGG19 file (from `python -m jaxsr.convert_vgg`): --config.loss.vgg=10 --config.vgg.weights=vgg19.npz.
Without one, the default, the perceptual term is 0.
Decided where the paper and prototxt are silent (no solver file): Adam at 1e-4, batch 16.
"""
from jaxsr.core import config_base


def get_config(arg=''):
  c = config_base.reference_vae_config()
  c.method = 'sisr_vae'
  if 'tiny' in config_base.variants(__file__, arg, {'tiny'}):
    config_base.tiny_reference_vae(c)
    c.dataset = c.eval_dataset = 'procedural_faces/tiny'  # SISR needs no identities: any face dataset
    c.eval_split = 'test'
  return c
