"""Images/s of a method's full training step (every network updated), after compilation, and compile time.

    python benchmarks/train_step.py --config=configs/h2l.py --batch_sizes=32,256 --precisions=float32,bfloat16

Batches are random uint8 arrays of the method's input shapes, so the input pipeline is not measured. Rows are
appended to benchmarks/RESULTS.md with the device and the command.
"""
import sys
import time
from pathlib import Path

import jax
import numpy as np
from absl import app, flags
from ml_collections import config_flags

from jaxsr import methods, parallel, train

_CONFIG = config_flags.DEFINE_config_file('config', None, 'A configs/<method>.py file.')
_BATCH_SIZES = flags.DEFINE_list('batch_sizes', ['32'], 'Global batch sizes.')
_PRECISIONS = flags.DEFINE_list('precisions', ['float32'], 'float32 and/or bfloat16.')
_STEPS = flags.DEFINE_integer('steps', 20, 'Timed steps after two warm-up steps.')
_RESULTS = flags.DEFINE_string('results', str(Path(__file__).with_name('RESULTS.md')), 'Markdown file to append to.')


def measure(config, mesh, steps):
  method = methods.create(config)
  example = method.train_data(config.data_dir or None)[0]
  rng = np.random.default_rng(0)
  batch = {k: rng.integers(0, 256, (config.batch_size, *x.shape), x.dtype) for k, x in example.items()}
  state = train.init_state(method, mesh, config.seed, batch)
  batch = parallel.global_batch(batch, mesh)
  step = train.make_train_step(method, mesh)
  t0 = time.perf_counter()
  compiled = step.lower(state, batch).compile()
  compile_seconds = time.perf_counter() - t0
  for _ in range(2):
    state, metrics = compiled(state, batch)
  jax.block_until_ready(metrics)
  t0 = time.perf_counter()
  for _ in range(steps):
    state, metrics = compiled(state, batch)
  jax.block_until_ready((state, metrics))
  seconds = (time.perf_counter() - t0) / steps
  return compile_seconds, 1.0 / seconds, config.batch_size / seconds


def main(argv):
  del argv
  mesh = parallel.make_mesh()
  device = f'{jax.device_count()} x {jax.devices()[0].device_kind} ({jax.devices()[0].platform}), jax {jax.__version__}'
  rows = []
  for precision in _PRECISIONS.value:
    for batch_size in map(int, _BATCH_SIZES.value):
      config = _CONFIG.value
      config.unlock()
      config.batch_size, config.precision = batch_size, precision
      compile_s, steps_s, images_s = measure(config, mesh, _STEPS.value)
      rows.append(f'| {config.method} | {device} | {batch_size} | {precision} | {compile_s:.1f} | '
                  f'{steps_s:.3g} | {images_s:.4g} |')
      print(rows[-1], flush=True)
  results = Path(_RESULTS.value)
  if not results.exists():
    results.write_text('# Benchmarks\n')
  with results.open('a') as f:
    f.write(f'\n`{" ".join(["python"] + sys.argv)}`\n\n| method | device | batch | precision | compile s | steps/s |'
            f' images/s |\n|---|---|---|---|---|---|---|\n' + '\n'.join(rows) + '\n')


if __name__ == '__main__':
  app.run(main)
