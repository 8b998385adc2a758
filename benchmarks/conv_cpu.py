"""One 3x3 convolution through XLA: GFLOP/s, and whether XLA's threads change it (the evidence behind the CPU step's
speed by jax version in benchmarks/RESULTS.md).

    python benchmarks/conv_cpu.py                                         # and again under each jax
    XLA_FLAGS=--xla_cpu_multi_thread_eigen=false python benchmarks/conv_cpu.py

EDSR's body convolution at the campaign's batch: 16 faces of 64x64 (the bicubic-skip network runs at 16x16; the
larger side gives XLA every chance to split the work), 64 -> 64 channels, NHWC. A row is appended to RESULTS.md.
"""
import os
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
from absl import app, flags

import common

REPO = Path(__file__).resolve().parents[1]
_REPEATS = flags.DEFINE_integer('repeats', 20, 'Timed calls after one warm-up call.')
_RESULTS = flags.DEFINE_string('results', str(REPO / 'benchmarks' / 'RESULTS.md'), 'Markdown file to append to.')


def main(argv):
  del argv
  n, side, channels = 16, 64, 64
  x, w = jnp.ones((n, side, side, channels)), jnp.ones((3, 3, channels, channels))
  conv = jax.jit(lambda x, w: jax.lax.conv_general_dilated(x, w, (1, 1), 'SAME',
                                                           dimension_numbers=('NHWC', 'HWIO', 'NHWC')))
  conv(x, w).block_until_ready()
  start = time.perf_counter()
  for _ in range(_REPEATS.value):
    conv(x, w).block_until_ready()
  seconds = (time.perf_counter() - start) / _REPEATS.value
  gflops = 2 * n * side * side * channels * channels * 9 / seconds / 1e9
  row = f'| {os.environ.get("XLA_FLAGS", "").strip() or "-"} | {seconds * 1e3:.1f} | {gflops:.0f} |'
  print(row)
  common.append_results(Path(_RESULTS.value), common.device_description(), sys.argv,
                        '| XLA_FLAGS | ms per call | GFLOP/s |', [row])


if __name__ == '__main__':
  app.run(main)
