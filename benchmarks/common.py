"""What the benchmark scripts share: configs by name, CPU-sized networks, evaluation over a held-out set in batches,
timing a training step, and appending a table to RESULTS.md."""
import os
import time

import jax
import ml_collections
import numpy as np

from jaxsr import methods
from jaxsr.core import config_base, parallel
from jaxsr.training import train


def load_config(configs_dir, name):
  """configs/<name>.py's config; `name:variant` picks a variant."""
  name, _, arg = name.partition(':')
  return config_base.sibling_config(configs_dir / 'x.py', name, arg)


def device_description():
  """'1 x cpu (cpu), jax 0.10.2': what every table's numbers were measured on."""
  device = jax.devices()[0]
  return f'{jax.device_count()} x {device.device_kind} ({device.platform}), jax {jax.__version__}'


def append_results(path, where, argv, header, rows):
  """Appends the command (with the XLA_FLAGS it ran under), the device and a markdown table to `path`."""
  columns = header.count('|') - 1
  env = f"XLA_FLAGS='{os.environ['XLA_FLAGS']}' " if os.environ.get('XLA_FLAGS') else ''
  with path.open('a') as f:
    f.write(f'\n{where}:\n\n`{env}{" ".join(["python"] + argv)}`\n\n{header}\n|{"---|" * columns}\n'
            + '\n'.join(rows) + '\n')


def narrower(c, divisor, fields):
  """Every width field named in `fields`, in every sub-config at any depth, divided by `divisor` (at least 1)."""
  for name, value in c.items():
    if isinstance(value, ml_collections.ConfigDict):
      narrower(value, divisor, fields)
    elif name in fields:
      c[name] = (tuple(max(1, w // divisor) for w in value) if isinstance(value, (tuple, list))
                 else max(1, value // divisor))


def random_batch(method, config):
  """A batch of random faces shaped as the method's example (other features zeros): no dataset is read."""
  rng = np.random.default_rng(0)
  return {k: rng.integers(0, 256, (config.batch_size, *x.shape), np.uint8) if x.dtype == np.uint8
          else np.zeros((config.batch_size, *x.shape), x.dtype) for k, x in method.example().items()}


def measure_step(config, mesh, steps):
  """(compile seconds, steps/s, FLOPs per step over all devices) of `config`'s full training step on a random
  batch (the input pipeline is left out)."""
  method = methods.create(config)
  batch = random_batch(method, config)
  state = train.init_state(method, mesh, config.seed, batch)
  batch = parallel.global_batch(batch, mesh)
  t0 = time.perf_counter()
  compiled = train.make_train_step(method, mesh).lower(state, batch).compile()
  compile_seconds = time.perf_counter() - t0
  for _ in range(2):
    state, metrics = compiled(state, batch)
  jax.block_until_ready(metrics)
  t0 = time.perf_counter()
  for _ in range(steps):
    state, metrics = compiled(state, batch)
  jax.block_until_ready((state, metrics))
  seconds = (time.perf_counter() - t0) / steps
  return compile_seconds, 1.0 / seconds, step_flops(compiled) * mesh.size


def step_flops(compiled):
  analysis = compiled.cost_analysis()
  analysis = analysis[0] if isinstance(analysis, (list, tuple)) else analysis
  return float((analysis or {}).get('flops', float('nan')))
