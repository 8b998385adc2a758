"""Input pipeline throughput: images/s from a tfds dataset of 64x64 faces through a method's training
augmentations (shuffle, flip, degradation, batching), per reading thread, against the rate of its training step.

    python benchmarks/input_pipeline.py --config=degradation_sr --threads=1,2,4,8,16 --batch_size=32

The step rate is measured in the same run (common.measure_step: random batches), so "keeps
up" compares the two on this machine: the pipeline must deliver at least the step's images/s with the threads
the machine's cores allow. Rows are appended to benchmarks/RESULTS.md.
"""
import os
import sys
import time
from pathlib import Path

import jax
from absl import app, flags

from jaxsr import methods
from jaxsr.core import parallel
from jaxsr.data import pipeline

import common

REPO = Path(__file__).resolve().parents[1]
_CONFIG = flags.DEFINE_string('config', 'degradation_sr', 'configs/<name>.py whose training data is read.')
_DATASET = flags.DEFINE_string('dataset', None, "Replaces the config's HR dataset (e.g. face_folder/celeba_hr).")
_DATA_DIR = flags.DEFINE_string('data_dir', None, 'tfds data dir.')
_THREADS = flags.DEFINE_list('threads', ['1', str(os.cpu_count())], 'Reading threads to try.')
_BATCH = flags.DEFINE_integer('batch_size', 32, 'Global batch size.')
_BATCHES = flags.DEFINE_integer('batches', 100, 'Batches timed after 10 warm-up batches.')
_STEPS = flags.DEFINE_integer('steps', 10, 'Training steps timed for the comparison.')
_PRECISION = flags.DEFINE_string('precision', 'bfloat16', 'Precision of the training step it is compared with.')
_RESULTS = flags.DEFINE_string('results', str(REPO / 'benchmarks' / 'RESULTS.md'), 'Markdown file to append to.')


def images_per_second(dataset, batch_size, threads, batches):
  data = pipeline.iterator(pipeline.host_batches(dataset, batch_size, 0, 1), threads)
  for _ in range(10):
    next(data)
  t0 = time.perf_counter()
  for _ in range(batches):
    next(data)
  return batches * batch_size / (time.perf_counter() - t0)


def main(argv):
  del argv
  config = common.load_config(REPO / 'configs', _CONFIG.value)
  config.update(batch_size=_BATCH.value, precision=_PRECISION.value, data_dir=_DATA_DIR.value or '')
  if _DATASET.value:
    config.dataset = _DATASET.value
  dataset = methods.create(config).train_data(config.data_dir or None)
  mesh = parallel.make_mesh()
  _, steps_per_second, _ = common.measure_step(config, mesh, _STEPS.value)
  step_rate = steps_per_second * config.batch_size
  device = jax.devices()[0]
  where = (f'{os.cpu_count()} CPU cores; step on {jax.device_count()} x {device.device_kind} ({device.platform}), '
           f'jax {jax.__version__}')
  rows = []
  for threads in map(int, _THREADS.value):
    rate = images_per_second(dataset, config.batch_size, threads, _BATCHES.value)
    rows.append(f'| {_CONFIG.value} | {config.dataset} | {config.batch_size} | {threads} | {rate:.0f} | '
                f'{rate / threads:.0f} | {step_rate:.0f} | {"yes" if rate >= step_rate else "no"} |')
    print(rows[-1], flush=True)
  common.append_results(Path(_RESULTS.value), where, sys.argv, '| config | dataset | batch | threads | images/s | '
                        'images/s per thread | step images/s | keeps up |', rows)


if __name__ == '__main__':
  app.run(main)
