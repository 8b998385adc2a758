"""launch/local.sh: N processes on one machine train like one process, and one failing stops them all."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jax
from conftest import FAST_COMPILE, assert_same_training, tiny

from jaxsr.storage import checkpointing
from jaxsr.training import train

REPO = Path(__file__).resolve().parents[1]
LOCAL = REPO / 'launch' / 'local.sh'


def test_two_processes_end_with_the_parameters_of_one_process(data_dir, tmp_path):
  args = [f'--config={REPO}/configs/h2l.py:tiny', '--config.num_steps=3', '--config.log_every=1',
          '--config.eval_every=3',
          '--config.checkpoint_every=3']
  env = {**os.environ, 'XLA_FLAGS': FAST_COMPILE, 'PYTHON': sys.executable}  # one CPU device per process
  two = subprocess.run(['bash', LOCAL, '2', '--', *args, f'--workdir={tmp_path / "two"}'], env=env,
                       capture_output=True, text=True, timeout=400, cwd=REPO)
  assert two.returncode == 0, two.stderr[-3000:]
  assert 'process 1 of 2; 1 local / 2 global devices' in two.stderr
  # The one-process run in this process: the same loop as jaxsr.main's, without a third start-up to pay for.
  train.train_and_evaluate(tiny('h2l', data_dir, num_steps=3, log_every=1, eval_every=3, checkpoint_every=3),
                           tmp_path / 'one', jax.devices()[:1])

  # Logs written once: one TensorBoard file, one line per logged step.
  assert len(list((tmp_path / 'two').glob('events.out.tfevents.*'))) == 1
  lines = [json.loads(line) for line in (tmp_path / 'two' / 'metrics.jsonl').read_text().splitlines()]
  assert [m['step'] for m in lines if 'h2l/loss' in m] == [1, 2, 3]
  a, b = (checkpointing.read_saved_state(tmp_path / run / 'checkpoints', 3)['nets'] for run in ('one', 'two'))
  assert_same_training(a, b)  # same global batch, split 4 + 4


def test_a_failing_process_stops_the_others(tmp_path):
  fake_python = tmp_path / 'python'  # process 1 fails at once; process 0 would wait forever and ignores SIGTERM
  fake_python.write_text(f'#!{sys.executable}\n'
                         'import os, signal, sys, time\n'
                         'if os.environ["JAX_PROCESS_ID"] == "1":\n'
                         '  sys.exit(3)\n'
                         'signal.signal(signal.SIGTERM, signal.SIG_IGN)\n'
                         'time.sleep(300)\n')
  fake_python.chmod(0o755)
  started = time.monotonic()
  result = subprocess.run(['bash', LOCAL, '2', '--', '--workdir=x'], capture_output=True, text=True, timeout=60,
                          env={**os.environ, 'PYTHON': str(fake_python), 'JAX_COORDINATOR_PORT': '1',
                               'GRACE_SECONDS': '2'})
  assert result.returncode == 3
  assert 'exited with 3; stopping the others' in result.stderr
  assert time.monotonic() - started < 30
