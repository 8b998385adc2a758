"""One 3x3 convolution through XLA, forward and both gradients (to its input, to its kernel): GFLOP/s, beside
PyTorch's (oneDNN) where torch is installed, and whether XLA's threads change it (the evidence behind the CPU
step's speed by jax version and against PyTorch in benchmarks/RESULTS.md).

    python benchmarks/conv_cpu.py                                         # and again under each jax
    XLA_FLAGS=--xla_cpu_multi_thread_eigen=false python benchmarks/conv_cpu.py

EDSR's body convolution at the campaign's batch: 16 faces of 64x64 (the bicubic-skip network runs at 16x16; the
larger side gives XLA every chance to split the work), 64 -> 64 channels, NHWC (PyTorch: NCHW, its own layout).
Each pass is the same number of multiply-adds; the next rows write the kernel gradient in three other ways XLA
could run faster (it does not), and the last times the matrix product of the third alone, its operands given:
what a kernel gradient could reach if XLA built the patches as fast as it multiplies them. Rows are appended to
RESULTS.md.
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


def timed(call, *args):
  """Seconds per call of `call(*args)` after one warm-up call."""
  jax.block_until_ready(call(*args))
  start = time.perf_counter()
  for _ in range(_REPEATS.value):
    jax.block_until_ready(call(*args))
  return (time.perf_counter() - start) / _REPEATS.value


def torch_seconds(n, side, channels):
  """{pass: seconds per call} of PyTorch's same convolution, or {} without torch."""
  try:
    import torch
  except ImportError:
    return {}
  x, w = torch.ones(n, channels, side, side), torch.ones(channels, channels, 3, 3)
  g = torch.ones(n, channels, side, side)
  calls = {'forward': lambda: torch.nn.functional.conv2d(x, w, padding=1),
           'input gradient': lambda: torch.nn.grad.conv2d_input(x.shape, w, g, padding=1),
           'kernel gradient': lambda: torch.nn.grad.conv2d_weight(x, w.shape, g, padding=1)}
  return {name: timed(call) for name, call in calls.items()}


def main(argv):
  del argv
  n, side, channels = 16, 64, 64
  x, w = jnp.ones((n, side, side, channels)), jnp.ones((3, 3, channels, channels))

  def conv(x, w):
    return jax.lax.conv_general_dilated(x, w, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'))

  def patches_kernel_gradient(x, w, g):
    """The kernel gradient as im2col patches and one matrix product."""
    del w
    p = jax.lax.conv_general_dilated_patches(x, (3, 3), (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
    return jnp.einsum('nhwk,nhwo->ko', p, g)

  def shifted_kernel_gradient(x, w, g):
    """The kernel gradient as nine matrix products of shifted inputs, batched over image rows."""
    del w
    xp, rows = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))), g.reshape(n * side, side, channels)
    return jnp.stack([jnp.einsum('bwi,bwo->io', xp[:, ky:ky + side, kx:kx + side].reshape(n * side, side, channels),
                                 rows) for ky in range(3) for kx in range(3)]).reshape(3, 3, channels, channels)

  def channel_major_patches(x):
    """The nine shifted inputs as one (9 C, N H W) matrix, the layout in which XLA's matrix product is fastest."""
    xp = jnp.transpose(jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))), (3, 0, 1, 2))
    return jnp.concatenate([xp[:, :, ky:ky + side, kx:kx + side].reshape(channels, -1)
                            for ky in range(3) for kx in range(3)])

  def channel_major_kernel_gradient(x, w, g):
    """The kernel gradient as those patches and one matrix product."""
    del w
    return (channel_major_patches(x) @ g.reshape(-1, channels)).reshape(3, 3, channels, channels)

  g = conv(x, w)
  patches, rows_of_g = jax.jit(channel_major_patches)(x), g.reshape(-1, channels)
  calls = {'forward': (jax.jit(conv), (x, w)),
           'input gradient': (jax.jit(lambda x, w, g: jax.vjp(lambda x: conv(x, w), x)[1](g)[0]), (x, w, g)),
           'kernel gradient': (jax.jit(lambda x, w, g: jax.vjp(lambda w: conv(x, w), w)[1](g)[0]), (x, w, g)),
           'kernel gradient, patches + einsum': (jax.jit(patches_kernel_gradient), (x, w, g)),
           'kernel gradient, 9 shifted einsums': (jax.jit(shifted_kernel_gradient), (x, w, g)),
           'kernel gradient, channel-major patches + one matrix product': (
               jax.jit(channel_major_kernel_gradient), (x, w, g)),
           "that matrix product alone, the patches given": (jax.jit(jnp.matmul), (patches, rows_of_g))}
  flops = 2 * n * side * side * channels * channels * 9
  theirs = torch_seconds(n, side, channels)
  rows = []
  for name, (call, args) in calls.items():
    seconds = timed(call, *args)
    torch_gflops = f'{flops / theirs[name] / 1e9:.0f}' if name in theirs else '-'
    rows.append(f'| {os.environ.get("XLA_FLAGS", "").strip() or "-"} | {name} | {seconds * 1e3:.1f} | '
                f'{flops / seconds / 1e9:.0f} | {torch_gflops} |')
    print(rows[-1])
  common.append_results(Path(_RESULTS.value), common.device_description(), sys.argv,
                        '| XLA_FLAGS | pass | ms per call | GFLOP/s | PyTorch GFLOP/s |', rows)


if __name__ == '__main__':
  app.run(main)
