"""Builds `identity_folder/celeba_ids` from procedural faces, so the VAE configs have data where CelebA is absent
(the GPU benchmark machine): `people` people, each face rendered at 144 px and cropped, mirrored and relit into
`photos` photos of 128 px, in train and val splits. Only the shapes matter to benchmarks/train_step.py.

    python benchmarks/gpu/identity_faces.py --out=/tmp/ids --people=32
"""
from pathlib import Path

import numpy as np
from absl import app, flags
from PIL import Image

from jaxsr.data import builders, pipeline, procedural_faces

_OUT = flags.DEFINE_string('out', '/tmp/procedural_ids', 'Folder for the photos (<split>/<person>/<photo>.png).')
_PEOPLE = flags.DEFINE_integer('people', 32, 'People per split.')
_PHOTOS = flags.DEFINE_integer('photos', 4, 'Photos per person.')
_NAME = flags.DEFINE_string('name', 'celeba_ids', 'Dataset name: identity_folder/<name>.')
_DATA_DIR = flags.DEFINE_string('data_dir', None, 'tfds data dir (default: $TFDS_DATA_DIR or ~/tensorflow_datasets).')


def main(argv):
  del argv
  root, rng = Path(_OUT.value), np.random.default_rng(0)
  for split, first in (('train', 0), ('val', _PEOPLE.value)):
    for person in range(first, first + _PEOPLE.value):
      face = procedural_faces.render_face(person, size=144).astype(np.float32)
      folder = root / split / f'p{person:04d}'
      folder.mkdir(parents=True, exist_ok=True)
      for i in range(_PHOTOS.value):
        y, x = rng.integers(0, 17, 2)
        photo = face[y:y + 128, x:x + 128] * rng.uniform(0.8, 1.2)
        photo = photo[:, ::-1] if rng.random() < 0.5 else photo
        Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).save(folder / f'{i}.png')
  config = builders.IdentityFolderConfig(name=_NAME.value, path=str(root), image_size=128)
  builder = pipeline.build_folder_dataset(builders.IdentityFolder, config,
                                          _DATA_DIR.value or pipeline.default_data_dir())
  print(f'built {builder.data_dir}: ' + ', '.join(f'{s}={builder.info.splits[s].num_examples}'
                                                  for s in builder.info.splits))


if __name__ == '__main__':
  app.run(main)
