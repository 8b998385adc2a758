"""Preemption, crashes, damaged checkpoints, full disks, determinism: a run survives them or says clearly why not."""
import errno
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
import pytest
from conftest import FAST_COMPILE, tiny
from test_train import ONE_DEVICE, assert_same_state

from jaxsr import methods
from jaxsr.storage import checkpointing, run_record
from jaxsr.training import preemption, summary, train
from jaxsr.training import workdir as workdir_lib

REPO = Path(__file__).resolve().parents[1]
ENDLESS = 1_000_000  # num_steps of the subprocess runs: they end by signal


@pytest.fixture
def loop_config(data_dir):
  """edsr:tiny, for the tests whose point is the training loop's files and refusals, not a model: the GAN runs
  (h2l:tiny) check resuming, determinism and damaged checkpoints, where more state can go wrong."""
  return tiny('edsr', data_dir)


def losses(workdir):
  """{step: {name: value}} of every logged '/loss' scalar in metrics.jsonl (a step redone after a resume keeps
  the later line)."""
  lines = [json.loads(line) for line in (Path(workdir) / 'metrics.jsonl').read_text().splitlines()]
  return {m['step']: {k: v for k, v in m.items() if k.endswith('/loss')} for m in lines}


def start(workdir, checkpoint_every, config='h2l.py:tiny'):
  """An endless tiny run (H2L's by default) in a subprocess on one CPU device, logging every step."""
  command = [sys.executable, '-m', 'jaxsr.main', f'--config={REPO}/configs/{config}', f'--workdir={workdir}',
             f'--config.num_steps={ENDLESS}', '--config.log_every=1', f'--config.checkpoint_every={checkpoint_every}',
             f'--config.eval_every={ENDLESS}']
  with open(Path(workdir).with_suffix('.log'), 'a') as log:  # the child keeps its own copy of the descriptor
    return subprocess.Popen(command, env={**os.environ, 'XLA_FLAGS': FAST_COMPILE}, stdout=log, stderr=log,
                            text=True)


def wait_for(condition, process, timeout=240):
  deadline = time.monotonic() + timeout
  while not condition():
    assert process.poll() is None, f'the run exited early with {process.returncode}'
    assert time.monotonic() < deadline, 'timed out'
    time.sleep(0.05)


def logged_steps(workdir):
  path = Path(workdir) / 'metrics.jsonl'
  return max(losses(workdir), default=0) if path.is_file() and path.read_text().endswith('\n') else 0


def terminated_run(workdir, after_step, checkpoint_every=ENDLESS):
  """Runs until `after_step` is logged, sends SIGTERM, returns (exit code, log text)."""
  run = start(workdir, checkpoint_every)
  wait_for(lambda: logged_steps(workdir) >= after_step, run)
  run.send_signal(signal.SIGTERM)
  code = run.wait(timeout=120)
  return code, Path(workdir).with_suffix('.log').read_text()


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
  """An uninterrupted run stopped by SIGTERM after step 40 and never checkpointed before: (workdir, exit code,
  log)."""
  workdir = tmp_path_factory.mktemp('staying') / 'reference'
  return (workdir, *terminated_run(workdir, after_step=40))


def test_sigterm_saves_a_checkpoint_and_exits_cleanly(reference):
  workdir, code, log = reference
  assert code == 0, log[-3000:]
  stopped = max(losses(workdir))
  assert 40 <= stopped < ENDLESS
  assert f'Stopped at step {stopped} on SIGTERM' in log
  assert checkpointing.Checkpointer(workdir / 'checkpoints', 3).latest_step() == stopped


def test_run_killed_mid_way_restarts_from_its_checkpoint_and_continues_the_same_curve(reference, tmp_path):
  workdir = tmp_path / 'killed'
  run = start(workdir, checkpoint_every=4)
  wait_for(lambda: logged_steps(workdir) >= 10, run)
  run.send_signal(signal.SIGKILL)
  run.wait(timeout=60)
  resumed_from = checkpointing.Checkpointer(workdir / 'checkpoints', 3).latest_step()
  assert 4 <= resumed_from <= 32, 'the kill came too late to leave steps to compare'

  code, log = terminated_run(workdir, after_step=40, checkpoint_every=4)
  assert code == 0 and f'Resumed from step {resumed_from}' in log, log[-3000:]
  expected, got = losses(reference[0]), losses(workdir)
  steps = range(1, 41)
  np.testing.assert_allclose([list(got[s].values()) for s in steps], [list(expected[s].values()) for s in steps],
                             rtol=1e-6)


def test_half_written_newest_checkpoint_is_skipped_with_a_warning(tiny_config, tmp_path, caplog):
  tiny_config.num_steps, tiny_config.checkpoint_every = 4, 2
  whole = train.train_and_evaluate(tiny_config, tmp_path, ONE_DEVICE)
  newest = tmp_path / 'checkpoints' / '4'
  for array_file in (newest / 'state').rglob('*'):  # cut every array file short, as a crash mid-copy would
    if array_file.is_file() and 'ocdbt' in str(array_file.relative_to(newest)):
      array_file.write_bytes(array_file.read_bytes()[:7])

  with caplog.at_level(logging.WARNING):
    resumed = train.train_and_evaluate(tiny_config, tmp_path, ONE_DEVICE)
  assert 'cannot be read' in caplog.text and 'resuming from step 2' in caplog.text
  assert (tmp_path / 'checkpoints' / '4.unreadable').is_dir()  # kept for inspection, not deleted
  assert_same_state(whole, resumed)  # steps 3 and 4 redone from step 2 give the same networks


def test_checkpoint_that_does_not_fit_the_config_is_an_error_not_a_fresh_start(tiny_config, tmp_path):
  tiny_config.num_steps = 2
  train.train_and_evaluate(tiny_config, tmp_path, ONE_DEVICE)
  record = (tmp_path / 'config.json').read_text()
  tiny_config.discriminator.features = 12
  with pytest.raises(checkpointing.CheckpointMismatchError,
                     match=r'checkpoint 2 .* does not fit this config: nets/d_lr/params/fc/kernel: \(8, 1\) saved, '
                           r"\(12, 1\) here.*fields that differ from the run's config.json: "
                           r'discriminator.features: 8 -> 12'):
    train.train_and_evaluate(tiny_config, tmp_path, ONE_DEVICE)
  assert sorted(p.name for p in (tmp_path / 'checkpoints').iterdir()) == ['2']  # nothing moved aside
  assert (tmp_path / 'config.json').read_text() == record  # the run's record still describes its checkpoints
  assert len((tmp_path / 'config_history.jsonl').read_text().splitlines()) == 1


def test_full_disk_fails_clearly_and_keeps_the_previous_checkpoint(tiny_config, tmp_path, monkeypatch):
  tiny_config.num_steps, tiny_config.checkpoint_every = 2, 2
  saved = train.train_and_evaluate(tiny_config, tmp_path, ONE_DEVICE)
  checkpoints = checkpointing.Checkpointer(tmp_path / 'checkpoints', 3)

  real_usage = checkpointing.shutil.disk_usage
  monkeypatch.setattr(checkpointing.shutil, 'disk_usage', lambda path: real_usage(path)._replace(free=2**20))
  with pytest.raises(checkpointing.CheckpointSaveError,
                     match=r'not enough disk space to save step 4: it needs about \d+ MiB and 1 MiB are free; the '
                           r'previous checkpoint \(2\) is intact'):
    checkpoints.save(4, saved, {})
  monkeypatch.undo()

  def no_space(*args, **kwargs):  # the disk fills up while orbax writes
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
  monkeypatch.setattr(ocp.CheckpointManager, 'save', no_space)
  with pytest.raises(checkpointing.CheckpointSaveError, match='saving checkpoint 4 failed .No space left on device'):
    checkpoints.save(4, saved, {})
  monkeypatch.undo()

  step, state, _ = checkpoints.restore_latest(saved)
  checkpoints.close()
  assert step == 2 and sorted(p.name for p in (tmp_path / 'checkpoints').iterdir()) == ['2']
  assert_same_state(saved, state)


def test_same_seed_gives_the_same_first_20_losses(tiny_config, tmp_path):
  tiny_config.num_steps, tiny_config.log_every = 20, 1
  for name in ('a', 'b'):
    train.train_and_evaluate(tiny_config, tmp_path / name, ONE_DEVICE)
  tiny_config.seed += 1
  train.train_and_evaluate(tiny_config, tmp_path / 'other_seed', ONE_DEVICE)

  a, b, other = (losses(tmp_path / name) for name in ('a', 'b', 'other_seed'))
  assert sorted(a) == list(range(1, 21))
  assert a == b
  assert a[1] != other[1]


def test_ctrl_c_saves_a_checkpoint_and_exits_as_sigterm_does(tmp_path):
  workdir = tmp_path / 'interrupted'
  run = start(workdir, checkpoint_every=ENDLESS, config='edsr.py:tiny')  # the signal, not the model, is the point
  wait_for(lambda: logged_steps(workdir) >= 3, run)
  run.send_signal(signal.SIGINT)
  code = run.wait(timeout=120)
  log = workdir.with_suffix('.log').read_text()
  stopped = max(losses(workdir))
  assert code == 0 and f'Stopped at step {stopped} on SIGINT' in log and 'Traceback' not in log, log[-3000:]
  assert checkpointing.Checkpointer(workdir / 'checkpoints', 3).latest_step() == stopped
  assert not (workdir / workdir_lib.LOCK).exists()  # released on the way out


def test_a_closed_terminal_stops_cleanly_and_a_second_ctrl_c_at_once():
  before = signal.getsignal(signal.SIGINT)  # SIG_IGN under a shell's background job, else Python's own
  stop = preemption.StopRequest()
  try:
    os.kill(os.getpid(), signal.SIGHUP)
    assert stop.requested(1) and stop.signal == 'SIGHUP'
    with pytest.raises(KeyboardInterrupt, match='second Ctrl-C'):
      os.kill(os.getpid(), signal.SIGINT)
      time.sleep(1)  # the handler runs between bytecodes
  finally:
    stop.close()
  assert signal.getsignal(signal.SIGINT) is before


def test_a_second_training_in_the_same_workdir_is_refused_naming_the_first(loop_config, tmp_path, caplog):
  loop_config.num_steps = 1
  other = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])
  try:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / workdir_lib.LOCK).write_text(json.dumps({'host': socket.gethostname(), 'pid': other.pid,
                                                          'since': 'earlier'}))
    with pytest.raises(workdir_lib.WorkdirInUseError, match=rf'being trained by process {other.pid} on this host'):
      train.train_and_evaluate(loop_config, tmp_path, ONE_DEVICE)
    assert not (tmp_path / 'metrics.jsonl').exists() and not (tmp_path / 'config.json').exists()
    (tmp_path / workdir_lib.LOCK).write_text(json.dumps({'host': 'elsewhere', 'pid': 1, 'since': 'earlier'}))
    with pytest.raises(workdir_lib.WorkdirInUseError, match=r'process 1 on host elsewhere .*delete .*run.lock'):
      train.train_and_evaluate(loop_config, tmp_path, ONE_DEVICE)
  finally:
    other.kill()
    other.wait()
  (tmp_path / workdir_lib.LOCK).write_text(json.dumps({'host': socket.gethostname(), 'pid': other.pid}))
  with caplog.at_level(logging.WARNING):  # the holder died without releasing it: taken over
    assert int(train.train_and_evaluate(loop_config, tmp_path, ONE_DEVICE).step) == 1
  assert f'from process {other.pid}, which is gone' in caplog.text
  assert not (tmp_path / workdir_lib.LOCK).exists()


def test_a_step_that_breaks_the_weights_is_never_saved(loop_config, tmp_path, monkeypatch):
  loop_config.num_steps, loop_config.checkpoint_every = 2, 1
  train.train_and_evaluate(loop_config, tmp_path, ONE_DEVICE)
  loop_config.num_steps = 4
  real_create = methods.create

  def create(config):  # step 3 computes a finite loss and returns broken weights, as an overflowing update does
    method = real_create(config)
    real_step = method.train_step

    def poisoned(state, batch, rng):
      new, metrics = real_step(state, batch, rng)
      poison = jnp.where(state.step == 2, jnp.nan, 0.0)
      nets = {k: n.replace(params=jax.tree.map(lambda x: x + poison, n.params)) for k, n in new.nets.items()}
      return new.replace(nets=nets), metrics
    method.train_step = poisoned
    return method
  monkeypatch.setattr(methods, 'create', create)
  with pytest.raises(train.NonFiniteLossError,
                     match=r'step 3: non-finite \d+ values in the networks it updated.*last good one is step 2'):
    train.train_and_evaluate(loop_config, tmp_path, ONE_DEVICE)
  assert checkpointing.Checkpointer(tmp_path / 'checkpoints', 3).latest_step() == 2


@pytest.mark.parametrize('record', ['{"tool": "another one"}', '{"method": "h2l", "image_s', 'export'])
def test_a_workdir_that_is_not_a_jaxsr_run_is_refused_and_left_as_it_was(tiny_config, tmp_path, record):
  tiny_config.num_steps = 1
  if record == 'export':
    (tmp_path / 'export.json').write_text('{}')
    record = '{}'
  (tmp_path / 'config.json').write_text(record)
  message = {'{"tool": "another one"}': 'not a jaxsr run record .it lacks method', '{}': 'is a jaxsr export folder',
             }.get(record, r'config.json is damaged .*config_history.jsonl.*move the damaged file aside')
  with pytest.raises(ValueError, match=f'--workdir: .*{message}'):
    train.train_and_evaluate(tiny_config, tmp_path, ONE_DEVICE)
  assert (tmp_path / 'config.json').read_text() == record
  assert sorted(p.name for p in tmp_path.iterdir()) in (['config.json'], ['config.json', 'export.json'])


def test_the_run_record_is_replaced_whole(loop_config, tmp_path, monkeypatch):
  loop_config.num_steps = 1
  train.train_and_evaluate(loop_config, tmp_path, ONE_DEVICE)
  before = (tmp_path / 'config.json').read_text()

  def crash(self, *args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
  monkeypatch.setattr(os, 'replace', crash)  # the disk fills before the rename: the old record stays
  with pytest.raises(OSError):
    run_record.atomic_write_text(tmp_path / 'config.json', 'half')
  assert (tmp_path / 'config.json').read_text() == before
  assert sorted(p.name for p in tmp_path.glob('.*.tmp')) == []


def test_a_full_disk_for_samples_and_logs_warns_once_and_training_goes_on(loop_config, tmp_path, monkeypatch,
                                                                         caplog):
  loop_config.num_steps, loop_config.log_every, loop_config.eval_every, loop_config.checkpoint_every = 4, 1, 2, 4

  def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
  real_save = summary.Image.Image.save

  def half_written_png(image, path, *args, **kwargs):
    if not isinstance(path, (str, Path)):  # TensorBoard's in-memory encoding
      return real_save(image, path, *args, **kwargs)
    Path(path).write_bytes(b'\x89PNG')
    no_space()
  monkeypatch.setattr(summary.Image.Image, 'save', half_written_png)
  monkeypatch.setattr(summary.EventFile, "write_event", no_space)
  real_open = Path.open
  monkeypatch.setattr(Path, 'open', lambda self, *a, **k: no_space() if self.name == 'metrics.jsonl'
                      else real_open(self, *a, **k))
  with caplog.at_level(logging.WARNING):
    state = train.train_and_evaluate(loop_config, tmp_path, ONE_DEVICE)
  monkeypatch.setattr(summary.Image.Image, 'save', real_save)
  assert int(state.step) == 4
  assert checkpointing.Checkpointer(tmp_path / 'checkpoints', 3).latest_step() == 4  # its own check decides
  for kind in ('metrics.jsonl', 'samples', 'TensorBoard events'):
    assert caplog.text.count(f'Writing {kind} in') == 1, kind
  assert list((tmp_path / 'samples').iterdir()) == []  # no half-written PNG left
