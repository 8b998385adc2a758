"""Training throughput per method: compile time, steady-state images/s and model FLOP utilisation.

    python benchmarks/train_step.py --configs=h2l,l2h,degradation_sr --batch_sizes=32,256 \
        --precisions=float32,bfloat16

One full training step (every network of the method updated) on random uint8 batches of the method's input
shapes, so the input pipeline is not measured (benchmarks/input_pipeline.py does that). MFU is XLA's cost
analysis of the compiled step (FLOPs, counted once per device program, times the device count) divided by the
step time and by the devices' peak: PEAK_TFLOPS below, or --peak_tflops. float32 is compared with the TF32 peak,
since XLA runs float32 convolutions on TF32 tensor cores by default. Rows are appended to benchmarks/RESULTS.md
with the device and the command.
"""
import sys
from pathlib import Path

import jax
from absl import app, flags

from jaxsr.core import parallel

import common

REPO = Path(__file__).resolve().parents[1]
_CONFIGS = flags.DEFINE_list('configs', ['h2l'], 'configs/<name>.py, `name:variant` too.')
_BATCH_SIZES = flags.DEFINE_list('batch_sizes', ['32'], 'Global batch sizes.')
_PRECISIONS = flags.DEFINE_list('precisions', ['float32'], 'float32 and/or bfloat16.')
_STEPS = flags.DEFINE_integer('steps', 20, 'Timed steps after two warm-up steps.')
_PEAK = flags.DEFINE_float('peak_tflops', None, 'Peak TFLOP/s of one device (default: PEAK_TFLOPS by device kind).')
_RESULTS = flags.DEFINE_string('results', str(REPO / 'benchmarks' / 'RESULTS.md'), 'Markdown file to append to.')

# Dense peak TFLOP/s of one device by precision (NVIDIA data sheets, SXM parts; float32 = TF32 tensor cores).
PEAK_TFLOPS = {'H100': {'bfloat16': 989.0, 'float32': 494.7}, 'H200': {'bfloat16': 989.0, 'float32': 494.7},
               'A100': {'bfloat16': 312.0, 'float32': 156.0}}


def peak_flops(device, precision):
  """Peak FLOP/s of one device, or None where unknown (CPUs: the MFU column stays empty)."""
  if _PEAK.value:
    return _PEAK.value * 1e12
  return next((p[precision] * 1e12 for kind, p in PEAK_TFLOPS.items() if kind in device.device_kind), None)


def main(argv):
  del argv
  mesh = parallel.make_mesh()
  device = jax.devices()[0]
  where = common.device_description()
  rows = []
  for name in _CONFIGS.value:
    for precision in _PRECISIONS.value:
      for batch_size in map(int, _BATCH_SIZES.value):
        config = common.load_config(REPO / 'configs', name)
        config.batch_size, config.precision = batch_size, precision
        compile_s, steps_s, flops = common.measure_step(config, mesh, _STEPS.value)
        peak = peak_flops(device, precision)
        mfu = f'{100 * flops * steps_s / (peak * mesh.size):.1f}%' if peak else '–'
        rows.append(f'| {name} | {batch_size} | {precision} | {compile_s:.1f} | {steps_s * batch_size:.4g} | '
                    f'{flops / 1e12:.3g} | {mfu} |')
        print(rows[-1], flush=True)
  common.append_results(Path(_RESULTS.value), where, sys.argv,
                        '| config | batch | precision | compile s | images/s | TFLOP/step | MFU |', rows)


if __name__ == '__main__':
  app.run(main)
