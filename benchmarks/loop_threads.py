"""The training loop's step rate by config.data_threads: whether the input pipeline's reading threads take the
cores XLA's step needs (issue: data_threads=4 on a 2-core machine).

    python benchmarks/loop_threads.py --config=edsr:face_cpu --dataset=face_folder/celeba_hr \
        --data_dir=runs/campaign/tfds --threads=1,2,4 --steps=300 --repeats=2

Each setting trains a fresh run of `--steps` through the real loop (train.train_and_evaluate: pipeline, step,
logging), the settings interleaved `--repeats` times so that a drift of the machine's load falls on all of them;
the rate is the median of the logged steps/s after the first log interval (compilation left out). Rows are
appended to benchmarks/RESULTS.md.
"""
import json
import statistics
import sys
import tempfile
from pathlib import Path

from absl import app, flags

from jaxsr.training import train

import common

REPO = Path(__file__).resolve().parents[1]
_CONFIG = flags.DEFINE_string('config', 'edsr:face_cpu', 'configs/<name>.py[:variant] to train.')
_DATASET = flags.DEFINE_string('dataset', None, "Replaces the config's dataset (e.g. face_folder/celeba_hr).")
_DATA_DIR = flags.DEFINE_string('data_dir', None, 'tfds data dir.')
_THREADS = flags.DEFINE_list('threads', ['1', '2', '4'], 'config.data_threads values to compare.')
_STEPS = flags.DEFINE_integer('steps', 300, 'Training steps per run.')
_REPEATS = flags.DEFINE_integer('repeats', 2, 'Runs per setting, interleaved.')
_RESULTS = flags.DEFINE_string('results', str(REPO / 'benchmarks' / 'RESULTS.md'), 'Markdown file to append to.')


def loop_rate(threads, workdir):
  """Median logged steps/s of a fresh run with `threads` reading threads, its first log interval left out."""
  config = common.load_config(REPO / 'configs', _CONFIG.value)
  if _DATASET.value:
    config.dataset = config.eval_dataset = _DATASET.value
  config.update(data_dir=_DATA_DIR.value or '', data_threads=threads, num_steps=_STEPS.value, log_every=25,
                eval_every=_STEPS.value, checkpoint_every=_STEPS.value)
  train.train_and_evaluate(config, workdir)
  rates = [json.loads(line)['perf/steps_per_second'] for line in (workdir / 'metrics.jsonl').read_text().splitlines()
           if 'perf/steps_per_second' in line]
  return statistics.median(rates[1:])


def main(argv):
  del argv
  rates = {int(t): [] for t in _THREADS.value}
  with tempfile.TemporaryDirectory() as tmp:
    for repeat in range(_REPEATS.value):
      for threads in rates:
        rates[threads].append(loop_rate(threads, Path(tmp) / f'{threads}-{repeat}'))
        print(f'data_threads={threads}: {rates[threads][-1]:.3f} steps/s', flush=True)
  config = common.load_config(REPO / 'configs', _CONFIG.value)
  fastest = max(statistics.mean(r) for r in rates.values())
  rows = [f'| {_CONFIG.value} | {config.batch_size} | {threads} | {", ".join(f"{r:.2f}" for r in runs)} | '
          f'{statistics.mean(runs) * config.batch_size:.1f} | {statistics.mean(runs) / fastest:.1%} |'
          for threads, runs in rates.items()]
  common.append_results(Path(_RESULTS.value), common.device_description(), sys.argv,
                        '| config | batch | data_threads | steps/s per run | images/s | of the fastest |', rows)


if __name__ == '__main__':
  app.run(main)
