"""Learned degradation against bicubic on real low-resolution faces (Bulat et al., ECCV 2018).

    python -m jaxsr.data.build face_folder --path=~/celeba_hr --name=celeba_hr --crop=12,22,64,64 \
        --test_fraction=0.06 --data_dir=/tmp/realdata      # 500 of its 597 test faces are the held-out HR set
    python -m jaxsr.data.build lr_face_folder --path=~/wider_lr --name=wider --test_fraction=0.111 \
        --data_dir=/tmp/realdata                          # its ~300 test faces are the held-out real LR set
    python benchmarks/degradation.py --data_dir=/tmp/realdata --steps=h2l:20000,l2h:20000,l2h_bicubic:20000

Trains, in order, H2L (HR faces against the real LR training faces), L2H on H2L's degradations of the same HR
faces (configs/l2h.py) and L2H on bicubic pairs (configs/l2h_bicubic.py); `degradation_sr:N` adds the joint config.
Then, for every super-resolver and for bicubic upsampling:
  - on the held-out real LR faces, which have no ground truth: the SWD (x 1e3, Laplacian pyramid at 64/32/16 px)
    between the outputs and as many held-out HR faces, its ratio to bicubic's, and LR consistency (dB);
  - on the 500 held-out HR faces with bicubic 16x16 inputs: PSNR/SSIM on Y (4 px border).
`--width_divisor=k` divides every network width by k: a CPU-sized run of the same pipeline, not the paper's
networks. The table is appended to benchmarks/RESULTS.md; the grid (real LR | bicubic | each method) is written
to <workdir>/real_lr.png (it shows dataset faces, so it stays out of the repository).
"""
import sys
import time
from pathlib import Path

import jax
import numpy as np
from absl import app, flags
from PIL import Image

from jaxsr import methods
from jaxsr.core import config_base, images, metrics
from jaxsr.data import pipeline
from jaxsr.training import train

import common

REPO = Path(__file__).resolve().parents[1]
_DATA_DIR = flags.DEFINE_string('data_dir', None, 'tfds data dir holding both datasets.')
_HR = flags.DEFINE_string('hr_dataset', 'face_folder/celeba_hr', 'HR faces: train split trains, test split measures.')
_LR = flags.DEFINE_string('lr_dataset', 'lr_face_folder/wider', 'Real LR faces, split the same way.')
_STEPS = flags.DEFINE_list('steps', ['h2l:20000', 'l2h:20000', 'l2h_bicubic:20000'], 'config:steps, in order.')
_BATCH = flags.DEFINE_integer('batch_size', 32, 'Global batch of every run.')
_DIVISOR = flags.DEFINE_integer('width_divisor', 1, 'Divide every network width by this (CPU-sized runs).')
_HR_SIZE = flags.DEFINE_integer('hr_size', 500, 'Held-out HR faces measured.')
_LR_SIZE = flags.DEFINE_integer('lr_size', 300, 'Held-out real LR faces measured (at most the test split).')
_WORKDIR = flags.DEFINE_string('workdir', 'runs/degradation', 'One run directory per config under it.')
_MINUTES = flags.DEFINE_float('train_minutes', 0.0, 'Also stop each run after this many minutes (config.'
                              'train_minutes); the table gives the steps it reached.')
_RESULTS = flags.DEFINE_string('results', str(REPO / 'benchmarks' / 'RESULTS.md'), 'Markdown file to append to.')
WIDTH_FIELDS = ('widths', 'up_widths', 'head_features', 'dense_features', 'features')


def run_config(name, steps, workdir):
  c = config_base.sibling_config(REPO / 'configs' / 'x.py', name)
  c.update(dataset=_HR.value, eval_dataset=_HR.value, lr_dataset=_LR.value, lr_feature='image',
           data_dir=_DATA_DIR.value, batch_size=_BATCH.value, num_steps=steps, log_every=100,
           eval_every=max(steps // 4, 1), checkpoint_every=max(steps // 4, 1), eval_size=64,
           train_minutes=_MINUTES.value)
  if name == 'l2h':
    c.h2l_workdir = str(workdir / 'h2l')
  common.narrower(c, _DIVISOR.value, WIDTH_FIELDS)
  return c


def in_batches(fn, x, size=100):
  return np.concatenate([np.asarray(fn(x[i:i + size])) for i in range(0, len(x), size)])


def scores(sr_real, real_lr, hr_real, sr_paired, hr_paired):
  """The table's columns for one method: outputs on real LR faces, then on bicubic-degraded HR faces."""
  swd = float(metrics.swd(sr_real, hr_real, jax.random.PRNGKey(0))[0])
  return {'swd': swd, 'lr_consistency': float(metrics.lr_consistency(sr_real, real_lr)),
          'psnr_y': float(metrics.psnr_y(sr_paired, hr_paired, 4)),
          'ssim_y': float(metrics.ssim_y(sr_paired, hr_paired, 4))}


def main(argv):
  del argv
  workdir = Path(_WORKDIR.value).absolute()
  real_source = pipeline.data_source(_LR.value, 'test', _DATA_DIR.value)
  real_lr = images.to_float(pipeline.first_examples(real_source, _LR_SIZE.value, ['image'])['image'])
  paired = pipeline.paired_examples(pipeline.data_source(_HR.value, 'test', _DATA_DIR.value), _HR_SIZE.value,
                                    'image', 'bicubic', 4)
  hr_paired, lr_paired = images.to_float(paired['hr']), images.to_float(paired['lr'])
  hr_real = hr_paired[:len(real_lr)]  # the SWD compares sets of one size
  bicubic = lambda x: metrics.quantize(metrics.bicubic_resize(x, 64))  # noqa: E731
  rows = {'bicubic': ('-', '-', scores(in_batches(bicubic, real_lr), real_lr, hr_real,
                                       images.to_float(paired['bicubic']), hr_paired))}
  columns = {'real LR': real_lr[:8].repeat(4, 1).repeat(4, 2), 'bicubic': bicubic(real_lr[:8])}
  for entry in _STEPS.value:
    name, steps = entry.split(':')
    config = run_config(name, int(steps), workdir)
    start = time.perf_counter()
    state = train.train_and_evaluate(config, workdir / name)
    minutes, steps = f'{(time.perf_counter() - start) / 60:.1f}', int(state.step)
    method = methods.create(config)
    if method.sr_network is None:  # H2L: learns the degradation the next runs train on
      rows[name] = (steps, minutes, None)
      continue
    upscale = jax.jit(lambda lr: metrics.quantize(method.upscale(state.averaged(), lr)))
    sr_real = in_batches(upscale, real_lr)
    rows[name] = (steps, minutes, scores(sr_real, real_lr, hr_real, in_batches(upscale, lr_paired), hr_paired))
    columns[name] = sr_real[:8]
    print(name, rows[name], flush=True)
  Image.fromarray(images.grid(columns)).save(workdir / 'real_lr.png')

  base_swd = rows['bicubic'][2]['swd']
  device = jax.devices()[0]
  lines = [f'\n### Real LR faces: {_LR.value} ({len(real_lr)} held out) and {_HR.value} ({len(hr_paired)} held out), '
           f'x4 ({jax.device_count()} x {device.device_kind}, jax {jax.__version__}'
           f'{f", widths / {_DIVISOR.value}" if _DIVISOR.value > 1 else ""})\n',
           f'`python benchmarks/{Path(__file__).name} {" ".join(sys.argv[1:])}`\n',
           '| method | steps | train min | real LR: SWD | SWD / bicubic | real LR: LR consistency dB '
           '| paired PSNR Y | paired SSIM Y |', '|---|---|---|---|---|---|---|---|']
  for name, (steps, minutes, s) in rows.items():
    if s is None:
      lines.append(f'| {name} (trains the degradation) | {steps} | {minutes} | | | | | |')
    else:
      lines.append(f'| {name} | {steps} | {minutes} | {s["swd"]:.1f} | {s["swd"] / base_swd:.2f} | '
                   f'{s["lr_consistency"]:.2f} | {s["psnr_y"]:.2f} | {s["ssim_y"]:.4f} |')
  with open(_RESULTS.value, 'a') as f:
    f.write('\n'.join(lines) + '\n')
  print('\n'.join(lines))
  print(f'grid: {workdir / "real_lr.png"}')


if __name__ == '__main__':
  app.run(main)
