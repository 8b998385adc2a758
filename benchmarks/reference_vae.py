"""SISR-VAE against RefSR-VAE with the right and a wrong person's reference (Liu, Siu & Chan 2019).

    python -m jaxsr.data.build identity_folder --path=~/celeba_ids --name=celeba_ids \
        --crop=25,45,128,128 --data_dir=/tmp/realdata        # 200 people: 4,800 train and 600 val photos
    python benchmarks/reference_vae.py --data_dir=/tmp/realdata --steps=sisr_vae:20000,refsr_vae:20000

Trains each config on the train split, then measures bicubic and each model on the first `eval_size` val faces
(x8: 16x16 bicubic inputs), RefSR-VAE with a reference from the train split (another photo of the same person,
fixed per face) and, as the control, a photo of someone else: Y-channel PSNR and SSIM (8 px border), with and
without the x8 self-ensemble, and the sample diversity. `--width_divisor=k` divides every width of the networks
by k (a CPU-sized run). The table is appended to benchmarks/RESULTS.md; the grid LR | bicubic | SISR-VAE |
RefSR-VAE | reference | HR goes to TensorBoard in <workdir> and to <workdir>/samples/ (it shows dataset faces, so
it stays out of the repository).
"""
import sys
import time
from pathlib import Path

import jax
from absl import app, flags

from jaxsr import methods
from jaxsr.core import config_base, images
from jaxsr.methods import base
from jaxsr.training import summary, train

import common

REPO = Path(__file__).resolve().parents[1]
_DATA_DIR = flags.DEFINE_string('data_dir', None, 'tfds data dir holding the identity dataset.')
_DATASET = flags.DEFINE_string('dataset', 'identity_folder/celeba_ids', 'train trains; val is measured.')
_STEPS = flags.DEFINE_list('steps', ['sisr_vae:20000', 'refsr_vae:20000'], 'config:steps, in order.')
_BATCH = flags.DEFINE_integer('batch_size', 16, 'Global batch of both runs.')
_DIVISOR = flags.DEFINE_integer('width_divisor', 1, 'Divide every network width by this (CPU-sized runs).')
_EVAL_SIZE = flags.DEFINE_integer('eval_size', 600, 'Held-out faces measured.')
_WORKDIR = flags.DEFINE_string('workdir', 'runs/reference_vae', 'One run directory per config under it.')
_RESULTS = flags.DEFINE_string('results', str(REPO / 'benchmarks' / 'RESULTS.md'), 'Markdown file to append to.')
WIDTH_FIELDS = ('encoder_widths', 'features', 'head_features', 'encoder_dense', 'noise_dense', 'decoder_dense',
                'code_features', 'up_features')
NAMES = {'sisr_vae': 'SISR-VAE', 'refsr_vae': 'RefSR-VAE'}


def run_config(name, steps):
  c = config_base.sibling_config(REPO / 'configs' / 'x.py', name)
  c.update(dataset=_DATASET.value, eval_dataset=_DATASET.value, data_dir=_DATA_DIR.value, batch_size=_BATCH.value,
           num_steps=steps, log_every=100, eval_every=max(steps // 4, 1), checkpoint_every=max(steps // 4, 1),
           eval_size=32)
  common.narrower(c, _DIVISOR.value, WIDTH_FIELDS)
  return c


def main(argv):
  del argv
  workdir = Path(_WORKDIR.value).absolute()
  rows, columns = [], {}
  for entry in _STEPS.value:
    name, steps = entry.split(':')
    config = run_config(name, int(steps))
    start = time.perf_counter()
    state = train.train_and_evaluate(config, workdir / name)
    minutes = f'{(time.perf_counter() - start) / 60:.1f}'
    method = methods.create(config)
    config.eval_size = _EVAL_SIZE.value
    eval_set = method.eval_data(_DATA_DIR.value)
    scores, outputs = base.evaluate_set(method, state, eval_set)
    print(name, scores, flush=True)
    if not rows:
      rows.append(('bicubic (PIL)', '-', '-', scores['psnr_y/bicubic'], scores['ssim_y/bicubic'], None, None, None))
      columns.update(LR=outputs['LR'], bicubic=outputs['bicubic'])
    label = NAMES.get(name, name)
    rows.append((label, steps, minutes, scores['psnr_y/output'], scores['ssim_y/output'], scores['psnr_y/ensemble'],
                 scores['ssim_y/ensemble'], scores['diversity/std']))
    if 'psnr_y/wrong reference' in scores:
      rows.append((f'{label}, wrong person\'s reference', steps, minutes, scores['psnr_y/wrong reference'],
                   scores['ssim_y/wrong reference'], None, None, None))
      columns['reference'] = outputs['reference']
    columns[label] = outputs['output']
  columns['HR'] = outputs['HR']
  order = ['LR', 'bicubic', *(NAMES.get(e.split(':')[0], e.split(':')[0]) for e in _STEPS.value), 'reference', 'HR']
  writer = summary.Writer(workdir)  # TensorBoard, and <workdir>/samples/comparison_00000000.png
  writer.image(0, 'comparison', images.grid({k: columns[k] for k in order if k in columns}))
  writer.close()

  device = jax.devices()[0]
  fmt = lambda v, spec: '' if v is None else format(v, spec)  # noqa: E731
  lines = [f'\n### Reference-based SR x8 on {_DATASET.value}: {len(eval_set["hr"])} val faces, references from '
           f'train ({jax.device_count()} x {device.device_kind}, jax {jax.__version__}'
           f'{f", widths / {_DIVISOR.value}" if _DIVISOR.value > 1 else ""})\n',
           f'`python benchmarks/{Path(__file__).name} {" ".join(sys.argv[1:])}`\n',
           '| method | steps | train min | PSNR Y | SSIM Y | PSNR Y, x8 ensemble | SSIM Y, x8 ensemble | '
           'sample std |', '|---|---|---|---|---|---|---|---|']
  lines += [f'| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.4f} | {fmt(r[5], ".2f")} | {fmt(r[6], ".4f")} | '
            f'{fmt(r[7], ".4f")} |' for r in rows]
  with open(_RESULTS.value, 'a') as f:
    f.write('\n'.join(lines) + '\n')
  print('\n'.join(lines))
  print(f'grid: {workdir / "samples"}')


if __name__ == '__main__':
  app.run(main)
