"""Seconds from a training process's start to the end of its first step, by stage, for every config.

    python benchmarks/compile_time.py --configs=h2l:tiny,edsr:tiny,h2l,edsr

Each config starts twice, each time in a fresh process as `python -m jaxsr.main` would start (a config that reads
files, as l2h.py its H2L, needs them named: l2h_bicubic is the same method on bicubic pairs), with XLA set up as
jaxsr.main sets it (core.cli.set_up_compilation: the `tiny` variants compile with core.xla_flags.fast_compile())
and an empty persistent compilation cache for the first start, which the second start then reads: what a resumed
or repeated run costs. Stages of the first start: `import` (jax, flax and jaxsr's training modules), `data` (the
method's datasets opened, the first batch and the evaluation batch read; a dataset missing is built first,
untimed), `init` (every network initialised: tracing, compiling and running the jitted initialisation), `step` (the
train step traced and compiled, then run once). The table, with the Python and jax versions, is appended to
benchmarks/RESULTS.md.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGES = ('import', 'data', 'init', 'step')


def child(config_name, cache_dir):
  """Runs in the fresh process: times each stage of one start and prints them as JSON."""
  start = time.perf_counter()
  import jax

  from jaxsr import methods
  from jaxsr.core import cli, config_base, parallel
  from jaxsr.data import pipeline
  from jaxsr.training import resources, train
  seconds = {'import': time.perf_counter() - start}
  name, _, variant = config_name.partition(':')
  config = config_base.sibling_config(REPO / 'configs' / 'x.py', name, variant)
  cli.set_up_compilation(config, cache_dir)
  mesh = parallel.make_mesh()
  config_base.validate(config, mesh.size)
  method = methods.create(config)
  files = resources.load(config, method)
  data_dir = config.data_dir or None
  method.train_data(data_dir)  # builds a missing dataset (untimed: "once its data exists")
  t = time.perf_counter()
  batches = pipeline.host_batches(method.train_data(data_dir), config.batch_size, 0, 1)
  batch = next(pipeline.iterator(batches, config.data_threads))
  method.eval_data(data_dir)
  seconds['data'] = time.perf_counter() - t
  t = time.perf_counter()
  state = train.init_state(method, mesh, config.seed, batches[0], files)
  jax.block_until_ready(state)
  seconds['init'] = time.perf_counter() - t
  t = time.perf_counter()
  state, metrics = train.make_train_step(method, mesh)(state, parallel.global_batch(batch, mesh))
  jax.block_until_ready(metrics)
  seconds['step'] = time.perf_counter() - t
  print(json.dumps(seconds))


def start(name, cache, env):
  """{stage: seconds} of one start of config `name` in a fresh process, with the compilation cache in `cache`."""
  result = subprocess.run([sys.executable, __file__, '--child', name, cache], capture_output=True, text=True, env=env,
                          cwd=REPO)
  if result.returncode:
    sys.exit(f'{name} failed:\n{result.stderr[-3000:]}')
  return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv):
  import argparse
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--configs', default='h2l:tiny,l2h_bicubic:tiny,degradation_sr:tiny,unet_degradation:tiny')
  parser.add_argument('--results', default=str(REPO / 'benchmarks' / 'RESULTS.md'))
  args = parser.parse_args(argv)
  env = {k: v for k, v in os.environ.items() if k not in ('JAX_COMPILATION_CACHE_DIR', 'XLA_FLAGS')}
  rows = []
  for name in args.configs.split(','):
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache:
      first, second = (start(name, cache, env) for _ in range(2))
    rows.append(f'| {name} | ' + ' | '.join(f'{first[s]:.1f}' for s in STAGES) + f' | {sum(first.values()):.1f} | '
                f'{sum(second.values()):.1f} |')
    print(rows[-1], f'({time.perf_counter() - t:.0f} s with the untimed builds)', flush=True)
  versions = subprocess.run([sys.executable, '-c', 'import sys, jax; print(sys.version.split()[0], jax.__version__)'],
                            capture_output=True, text=True, env=env).stdout.split()
  with open(args.results, 'a') as f:
    f.write(f'\nPython {versions[0]}, jax {versions[1]}, {os.cpu_count()} CPU cores:\n\n'
            f'`python benchmarks/compile_time.py --configs={args.configs}`\n\n'
            '| config | import s | data s | init s | step s | to the end of step 1, s | second start, s |\n'
            '|---|---|---|---|---|---|---|\n'
            + '\n'.join(rows) + '\n')


if __name__ == '__main__':
  if sys.argv[1:2] == ['--child']:
    sys.path.insert(0, str(REPO))
    child(*sys.argv[2:4])
  else:
    main(sys.argv[1:])
