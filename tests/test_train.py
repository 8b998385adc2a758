import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest
from conftest import FAST_COMPILE, assert_same_training, tiny
from tensorboard.backend.event_processing import event_accumulator

from jaxsr.storage import checkpointing
from jaxsr.training import train

REPO = Path(__file__).resolve().parents[1]
ONE_DEVICE = jax.devices()[:1]  # compiles faster than eight; the 8-device test below covers the sharding


def assert_same_state(a, b, rtol=0.0, atol=0.0):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)


def test_interrupted_then_resumed_run_ends_like_an_uninterrupted_one(tiny_config, tmp_path):
  tiny_config.num_steps, tiny_config.checkpoint_every = 6, 3
  whole = train.train_and_evaluate(tiny_config, tmp_path / 'whole', ONE_DEVICE)

  tiny_config.num_steps = 3  # the "interrupted" run stops after its step-3 checkpoint
  train.train_and_evaluate(tiny_config, tmp_path / 'split', ONE_DEVICE)
  tiny_config.num_steps = 6
  resumed = train.train_and_evaluate(tiny_config, tmp_path / 'split', ONE_DEVICE)

  assert int(resumed.step) == 6
  assert_same_state(whole, resumed)  # same networks, optimizer states, rng and data order


def test_eight_devices_give_the_same_step_as_one(tiny_config, tmp_path):
  assert jax.device_count() == 8
  tiny_config.num_steps = 2
  # Seed 0's networks put one D_LR first-layer bias's gradient 7% apart on 1 and 8 devices while every other
  # value agrees to 1e-8: a pre-activation at the ReLU's kink, which summation order puts on either side. Seeds
  # 1, 2 and 3 agree throughout.
  tiny_config.seed = 1
  one = train.train_and_evaluate(tiny_config, tmp_path / 'one', devices=jax.devices()[:1])
  eight = train.train_and_evaluate(tiny_config, tmp_path / 'eight')
  leaf = jax.tree.leaves(eight.nets['h2l'].params)[0]
  assert len(leaf.sharding.device_set) == 8
  # Same global batch, so BatchNorm statistics and the mean gradient agree up to summation order.
  assert_same_training(one.nets, eight.nets)


def test_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint(data_dir, tmp_path):
  config = tiny('edsr', data_dir, num_steps=2, checkpoint_every=2)  # any method: the loop's check
  train.train_and_evaluate(config, tmp_path, ONE_DEVICE)
  config.num_steps = 4
  config.loss.l1 = float('nan')
  with pytest.raises(train.NonFiniteLossError, match=r'step 3: non-finite .*generator/loss.*last good one is step 2'):
    train.train_and_evaluate(config, tmp_path, ONE_DEVICE)
  assert checkpointing.Checkpointer(tmp_path / 'checkpoints', 3).latest_step() == 2


def test_train_minutes_stops_at_a_log_step_with_an_evaluated_checkpoint(data_dir, tmp_path):
  config = tiny('edsr', data_dir, num_steps=100, log_every=2, checkpoint_every=50)  # any method: the loop's
  config.train_minutes = 1e-6  # passed by the first log step
  state = train.train_and_evaluate(config, tmp_path, ONE_DEVICE)
  assert int(state.step) == 2
  assert checkpointing.Checkpointer(tmp_path / 'checkpoints', 3).latest_step() == 2
  assert (tmp_path / 'samples' / 'samples_00000002.png').is_file()  # evaluated as a last step is
  config.train_minutes = 0.0
  config.num_steps = 4
  assert int(train.train_and_evaluate(config, tmp_path, ONE_DEVICE).step) == 4  # the same command resumes


def test_bad_config_value_fails_before_training(tiny_config, tmp_path):
  tiny_config.batch_size = 12  # not divisible by 8 devices
  with pytest.raises(ValueError, match='config.batch_size'):
    train.train_and_evaluate(tiny_config, tmp_path)
  assert not (tmp_path / 'checkpoints').exists()


def test_main_trains_writes_logs_and_resumes(data_dir, tmp_path):
  """...and keeps its compiled steps in --compilation_cache, which the resumed start reads instead of compiling."""
  cache = tmp_path / 'xla'
  command = [sys.executable, '-m', 'jaxsr.main', f'--config={REPO}/configs/h2l.py:tiny', f'--workdir={tmp_path}',
             f'--compilation_cache={cache}', '--config.num_steps=3', '--config.log_every=1', '--config.eval_every=3',
             '--config.checkpoint_every=3']
  env = {**{k: v for k, v in os.environ.items() if k != 'JAX_COMPILATION_CACHE_DIR'}, 'TFDS_DATA_DIR': data_dir,
         'XLA_FLAGS': FAST_COMPILE}
  first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
  assert first.returncode == 0, first.stderr[-3000:]
  assert 'step 3: ' in first.stderr and 'h2l/loss=' in first.stderr
  assert 'eval at step 3: ' in first.stderr and 'd_lr/score_real=' in first.stderr
  assert (tmp_path / 'checkpoints' / '3').is_dir()
  events = event_accumulator.EventAccumulator(str(tmp_path))  # what `tensorboard --logdir` reads
  events.Reload()
  assert [e.step for e in events.Scalars('h2l/loss')] == [1, 2, 3] and events.Tags()['images']
  assert (tmp_path / 'samples' / 'samples_00000003.png').is_file()
  assert (tmp_path / 'config.json').is_file()
  compiled = sorted(p.name for p in cache.iterdir())
  assert len(compiled) >= 3  # initialisation, train step, evaluation

  second = subprocess.run(command[:-3] + ['--config.num_steps=5'], env=env, capture_output=True, text=True,
                          timeout=300)
  assert second.returncode == 0, second.stderr[-3000:]
  assert 'Resumed from step 3' in second.stderr
  assert (tmp_path / 'checkpoints' / '5').is_dir()
  assert sorted(p.name for p in cache.iterdir()) == compiled  # every compile of the resumed start was a cache hit


def test_evaluation_prints_each_metric_beside_bicubics():
  line = train.eval_summary({'psnr/output': 26.4545, 'psnr/bicubic': 23.428, 'ssim/output': 0.8337,
                             'ssim/bicubic': 0.6949, 'real_lr/swd': 21.19})
  assert line == 'psnr 26.45 (bicubic 23.43), ssim 0.8337 (bicubic 0.6949), real_lr/swd=21.19'
