"""RefSR-VAE (Liu, Siu & Chan, IEEE Access 2019; Holmes-Alan/RefSR, RefSR_VAE.prototxt): x8 face SR (16 -> 128) guided
by another photo of the same person; the encoder sees the bicubic-upsampled LR plus the reference, in training and
at test time.

    python -m jaxsr.main --config=configs/refsr_vae.py --workdir=runs/refsr_vae     # embedded procedural people
    python -m jaxsr.data.build identity_folder --path=~/celeba_ids --name=celeba_ids \\
        --crop=25,45,128,128                                   # <split>/<person>/<photo>: train and val here
    python -m jaxsr.main --config=configs/refsr_vae.py --workdir=runs/refsr_celeba \\
        --config.dataset=identity_folder/celeba_ids --config.eval_dataset=identity_folder/celeba_ids
    python -m jaxsr.main --config=configs/refsr_vae.py --workdir=runs/refsr_vae_x4 --config.scale=4

Evaluation faces come from `eval_split` (val), their references from `reference_split` (train): another photo of
the same person, fixed per face, and, as the control, a photo of someone else. VGGFace2 or the paper's RefSR-Face
dataset work the same way once arranged as <split>/<person>/<photo>. The default data is the embedded
`procedural_identities` (200 people, 24 train + 3 val photos each, built on first use); `:tiny` uses 8 people of
64 px and shrinks everything else.
"""
from jaxsr.core import config_base


def get_config(arg=''):
  c = config_base.reference_vae_config()
  c.method = 'refsr_vae'
  if 'tiny' in config_base.variants(__file__, arg, {'tiny'}):
    config_base.tiny_reference_vae(c)
  return c
