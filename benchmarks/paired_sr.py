"""Trains the paired super-resolvers on one face dataset and compares them on held-out faces.

    python -m jaxsr.data.build face_folder --path=~/celeba_hr --name=celeba_hr \
        --crop=12,22,64,64 --test_fraction=0.06 --data_dir=/tmp/realdata
    python benchmarks/paired_sr.py --data_dir=/tmp/realdata --dataset=face_folder/celeba_hr \
        --steps=srresnet:1200,srgan:300,srgan_face:300,srez:250,dcgan_sr:600 --workdir=runs/paired_sr

Each method trains with its own config's defaults (SRGAN and the face SRGAN start from the SRResNet run, as
in the paper) for the given steps; then every method and PIL bicubic are measured on the first `eval_size`
faces of the test split, with bicubic x4 inputs: PSNR/SSIM on RGB and on Y with a 4 px border, on 8-bit
outputs. A table row per method is appended to benchmarks/RESULTS.md; the side-by-side grid goes to
<workdir>/comparison.png (it shows dataset faces, so it stays out of the repository).
"""
import sys
import time
from pathlib import Path

import jax
from absl import app, flags
from PIL import Image

from jaxsr import methods
from jaxsr.core import config_base, images, parallel
from jaxsr.data import pipeline
from jaxsr.methods import base
from jaxsr.storage.checkpointing import Checkpointer
from jaxsr.training import train

REPO = Path(__file__).resolve().parents[1]
_DATA_DIR = flags.DEFINE_string('data_dir', None, 'tfds data dir holding the dataset.')
_DATASET = flags.DEFINE_string('dataset', 'face_folder/celeba_hr', 'Train split trains, test split evaluates.')
_STEPS = flags.DEFINE_list('steps', ['srresnet:1200', 'srgan:300', 'srgan_face:300', 'srez:250', 'dcgan_sr:600'],
                           'method config:steps, in training order (SRGANs after srresnet).')
_EVAL_SIZE = flags.DEFINE_integer('eval_size', 500, 'Held-out faces measured.')
_WORKDIR = flags.DEFINE_string('workdir', 'runs/paired_sr', 'One run directory per method under it.')
_MINUTES = flags.DEFINE_float('train_minutes', 0.0, 'Also stop each run after this many minutes (config.'
                              'train_minutes); the table gives the steps it reached.')
_RESULTS = flags.DEFINE_string('results', str(REPO / 'benchmarks' / 'RESULTS.md'), 'Markdown file to append to.')
METRICS = ('psnr_y', 'ssim_y', 'psnr', 'ssim')


def method_config(name, steps, workdir):
  c = config_base.sibling_config(REPO / 'configs' / 'x.py', name)
  c.update(dataset=_DATASET.value, eval_dataset=_DATASET.value, data_dir=_DATA_DIR.value, num_steps=steps,
           log_every=50, eval_every=steps, checkpoint_every=steps, train_minutes=_MINUTES.value)
  if c.method == 'srgan':
    c.init_from = str(workdir / 'srresnet')
  return c


def main(argv):
  del argv
  workdir = Path(_WORKDIR.value).absolute()
  mesh = parallel.make_mesh()
  source = pipeline.data_source(_DATASET.value, 'test', _DATA_DIR.value)
  eval_set = pipeline.paired_examples(source, _EVAL_SIZE.value, 'image', 'bicubic', 4)
  rows, columns = [], {}
  for entry in _STEPS.value:
    name, steps = entry.split(':')
    config = method_config(name, int(steps), workdir)
    start = time.perf_counter()
    steps = int(train.train_and_evaluate(config, workdir / name).step)
    minutes = (time.perf_counter() - start) / 60
    method = methods.create(config)  # the final state, restored from its last checkpoint
    state = train.init_state(method, mesh, config.seed, {k: v[:1] for k, v in eval_set.items()})
    checkpoints = Checkpointer(workdir / name / 'checkpoints', 1)
    state, _ = checkpoints.restore(checkpoints.latest_step(), state)
    checkpoints.close()
    scores, outputs = base.evaluate_set(method, state, eval_set)
    if not rows:
      rows.append(('bicubic (PIL)', '-', '-', *(scores[f'{m}/bicubic'] for m in METRICS)))
      columns.update(LR=outputs['LR'], bicubic=outputs['bicubic'])
    rows.append((name, steps, f'{minutes:.1f}', *(scores[f'{m}/output'] for m in METRICS)))
    columns[name] = outputs['output']
    print(rows[-1], flush=True)
  columns['HR'] = images.to_float(eval_set['hr'][:8])
  Image.fromarray(images.grid(columns)).save(workdir / 'comparison.png')

  device = jax.devices()[0]
  lines = [f'\n### Paired SR x4 on {_DATASET.value}: {len(eval_set["hr"])} held-out faces, bicubic 16x16 inputs '
           f'({jax.device_count()} x {device.device_kind}, jax {jax.__version__})\n',
           f'`python benchmarks/{Path(__file__).name} {" ".join(sys.argv[1:])}`\n',
           '| method | steps | train min | PSNR Y | SSIM Y | PSNR RGB | SSIM RGB |', '|---|---|---|---|---|---|---|']
  lines += [f'| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.4f} | {r[5]:.2f} | {r[6]:.4f} |' for r in rows]
  with open(_RESULTS.value, 'a') as f:
    f.write('\n'.join(lines) + '\n')
  print('\n'.join(lines))
  print(f'grid: {workdir / "comparison.png"}')


if __name__ == '__main__':
  app.run(main)
