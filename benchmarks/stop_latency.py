"""How long a run takes to save and exit after SIGTERM, and what bounding the steps in flight costs in step rate.

    python benchmarks/stop_latency.py --config=h2l --steps_in_flight=2,1000 --after_steps=20

For each `steps_in_flight` (1000 stands for the old unbounded loop, which fetched metrics only every log_every
steps), `python -m jaxsr.main` trains --config in a fresh workdir, logging every `log_every` steps; once
`after_steps` are logged the benchmark sends SIGTERM and times the exit (a checkpoint is saved on the way out),
and reads the logged steps/s. Rows are appended to benchmarks/RESULTS.md with the device and the command.
"""
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from absl import app, flags

import common

REPO = Path(__file__).resolve().parents[1]
_CONFIG = flags.DEFINE_string('config', 'h2l', 'configs/<name>.py, `name:variant` too.')
_IN_FLIGHT = flags.DEFINE_list('steps_in_flight', ['2', '1000'], 'Values of config.steps_in_flight to compare.')
_AFTER = flags.DEFINE_integer('after_steps', 20, 'SIGTERM once this many steps are logged.')
_LOG_EVERY = flags.DEFINE_integer('log_every', 10, 'config.log_every of the runs.')
_OVERRIDES = flags.DEFINE_list('overrides', [], 'More --config.x=y overrides, e.g. batch_size=8.')
_RESULTS = flags.DEFINE_string('results', str(REPO / 'benchmarks' / 'RESULTS.md'), 'Markdown file to append to.')


def logged(workdir):
  """The scalars of every complete line of metrics.jsonl."""
  path = Path(workdir) / 'metrics.jsonl'
  lines = path.read_text().splitlines(keepends=True) if path.is_file() else []
  return [json.loads(line) for line in lines if line.endswith('\n')]


def stop_latency(in_flight, workdir):
  """(seconds from SIGTERM to exit, the step it stopped at, the steps/s logged before the signal)."""
  name, _, variant = _CONFIG.value.partition(':')
  command = [sys.executable, '-m', 'jaxsr.main', f'--config={REPO}/configs/{name}.py' + (f':{variant}' * bool(variant)),
             f'--workdir={workdir}', '--config.num_steps=1000000', f'--config.log_every={_LOG_EVERY.value}',
             '--config.eval_every=1000000', '--config.checkpoint_every=1000000',
             f'--config.steps_in_flight={in_flight}', *(f'--config.{o}' for o in _OVERRIDES.value)]
  with open(Path(workdir).with_suffix('.log'), 'w') as log:
    run = subprocess.Popen(command, stdout=log, stderr=log)
    while max((m['step'] for m in logged(workdir)), default=0) < _AFTER.value:
      if run.poll() is not None:
        raise RuntimeError(f'the run exited with {run.returncode}; see {Path(workdir).with_suffix(".log")}')
      time.sleep(0.2)
    rates = [m['perf/steps_per_second'] for m in logged(workdir) if 'perf/steps_per_second' in m]
    signalled = time.perf_counter()
    run.send_signal(signal.SIGTERM)
    run.wait()
  seconds = time.perf_counter() - signalled
  stopped = max(int(p.name) for p in (Path(workdir) / 'checkpoints').iterdir() if p.name.isdigit())
  return seconds, stopped, rates[-1] if rates else float('nan')


def main(argv):
  del argv
  where = common.device_description()
  rows = []
  with tempfile.TemporaryDirectory() as tmp:
    for in_flight in map(int, _IN_FLIGHT.value):
      seconds, stopped, rate = stop_latency(in_flight, Path(tmp) / f'in_flight_{in_flight}')
      rows.append(f'| {_CONFIG.value} | {in_flight} | {rate:.3g} | {_AFTER.value} | {stopped} | {seconds:.1f} |')
      print(rows[-1], flush=True)
  common.append_results(Path(_RESULTS.value), where, sys.argv, '| config | steps in flight | steps/s | SIGTERM after '
                        'step | checkpoint step | SIGTERM to exit, s |', rows)


if __name__ == '__main__':
  app.run(main)
