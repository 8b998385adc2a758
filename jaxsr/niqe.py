"""NIQE scores of a folder of images, or a NIQE model fitted to pristine ones (jaxsr.evaluation.niqe).

    python -m jaxsr.niqe --images=sr/                                   # each image, and the mean
    python -m jaxsr.niqe --fit --images=hr_faces/ --crop=12,22,64,64 --patch=32 --out=faces_niqe.npz
"""
import json

import numpy as np
import tqdm
from absl import app, flags

from jaxsr.core import cli
from jaxsr.evaluation.niqe import default_model, fit, load, read_images, score, score_set

FLAGS = flags.FLAGS


def define_flags():
  """The command line's flags, defined only when this module runs as the program (the module is a library too)."""
  cli.define_path('images', None, 'A folder of images (searched recursively).', required=True)
  cli.define_path('model', None, 'A model from --fit (default: the release\'s pristine model, 96 px patches).')
  flags.DEFINE_bool('fit', False, 'Fit a model to --images (pristine images) and write it to --out.')
  flags.DEFINE_integer('patch', 96, '--fit: the patch side (even); images need at least one patch.', lower_bound=8)
  cli.define_path('out', None, '--fit: where the model goes (.npz).')
  flags.DEFINE_list('crop', None, 'x,y,w,h: cut every image to this box first (celeba_hr faces: 12,22,64,64).')
  flags.DEFINE_bool('as_set', False, 'Score the images together (all their patches) instead of each alone.')


def main(argv):
  del argv
  cli.setup_logging()
  crop = tuple(int(v) for v in FLAGS.crop) if FLAGS.crop else None
  if crop is not None and len(crop) != 4:
    raise ValueError(f'--crop={",".join(FLAGS.crop)}: give x,y,w,h')
  if FLAGS.fit:
    if not FLAGS.out:
      raise app.UsageError('--fit writes the model to --out; name a file')
    if FLAGS.patch % 2:
      raise ValueError(f'--patch={FLAGS.patch}: the second scale halves it; give an even side')
    model = fit(tqdm.tqdm(read_images(FLAGS.images, crop)[1], desc='fitting', unit='image'), FLAGS.patch)
    model.save(FLAGS.out)
    print(f'wrote {FLAGS.out}: a NIQE model of {FLAGS.patch} px patches')
    return
  model = load(FLAGS.model, '--model') if FLAGS.model else default_model()
  names, images = read_images(FLAGS.images, crop)
  if FLAGS.as_set:
    print(json.dumps({'images': len(images), 'niqe': score_set(images, model)}))
    return
  scores = {name: score(image, model) for name, image in zip(names, tqdm.tqdm(images, desc='NIQE', unit='image'))}
  for name, value in scores.items():
    print(f'{value:8.4f}  {name}')
  print(json.dumps({'images': len(scores), 'mean_niqe': float(np.mean(list(scores.values())))}))


def run():
  """The command: `python -m jaxsr.niqe`, or `jaxsr-niqe` once installed."""
  define_flags()
  cli.run(main)


if __name__ == '__main__':
  run()
