"""Builds `identity_folder/celeba_ids` from procedural faces, so the VAE configs have data where CelebA is absent
(the GPU benchmark machine): `people` people, each with `photos` photos of 128 px in train and in val (the same
people, so RefSR-VAE's evaluation finds references). Only the shapes matter to benchmarks/train_step.py.

    python benchmarks/gpu/identity_faces.py --out=/tmp/ids --people=32
"""
from pathlib import Path

from absl import app, flags

from jaxsr.data import builders, pipeline, procedural_faces

_OUT = flags.DEFINE_string('out', '/tmp/procedural_ids', 'Folder for the photos (<split>/<person>/<photo>.png).')
_PEOPLE = flags.DEFINE_integer('people', 32, 'People (each in both splits).')
_PHOTOS = flags.DEFINE_integer('photos', 4, 'Photos per person.')
_NAME = flags.DEFINE_string('name', 'celeba_ids', 'Dataset name: identity_folder/<name>.')
_DATA_DIR = flags.DEFINE_string('data_dir', None, 'tfds data dir (default: $TFDS_DATA_DIR or ~/tensorflow_datasets).')


def main(argv):
  del argv
  root = Path(_OUT.value)
  procedural_faces.write_identity_photos(root, _PEOPLE.value, (('train', _PHOTOS.value), ('val', _PHOTOS.value)),
                                         size=128, margin=16)
  config = builders.IdentityFolderConfig(name=_NAME.value, path=str(root), image_size=128)
  builder = pipeline.build_folder_dataset(builders.IdentityFolder, config,
                                          _DATA_DIR.value or pipeline.default_data_dir())
  print(f'built {builder.data_dir}: ' + ', '.join(f'{s}={builder.info.splits[s].num_examples}'
                                                  for s in builder.info.splits))


if __name__ == '__main__':
  app.run(main)
