import jax
import numpy as np
import pytest
from conftest import assert_same_training

from jaxsr import methods
from jaxsr.core.train_state import TrainState
from jaxsr.data import pipeline


def make(config):
  method = methods.create(config)
  batch = pipeline.host_batches(method.train_data(config.data_dir), 8, 0, 1)[0]
  nets = method.init_networks(jax.random.key(0), batch)
  state = TrainState(step=np.int32(0), rng=jax.random.PRNGKey(0), nets=nets)
  return method, state, batch


@pytest.fixture
def setup(tiny_config):
  return make(tiny_config)


def changed(before, after):
  return any(not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after)))


def test_discriminator_step_updates_only_the_discriminator_and_its_spectral_state(setup):
  method, state, batch = setup
  new, metrics = jax.jit(method.discriminator_step)(state, batch, jax.random.key(1))
  assert changed(state.nets['d_lr'].params, new.nets['d_lr'].params)
  assert changed(state.nets['d_lr'].state, new.nets['d_lr'].state)  # power-iteration vectors moved
  assert not changed(state.nets['h2l'], new.nets['h2l'])  # params, BN statistics and Adam state untouched
  assert np.isfinite(metrics['d_lr/loss'])


def test_generator_step_updates_only_the_generator(setup):
  method, state, batch = setup
  new, metrics = jax.jit(method.generator_step)(state, batch, jax.random.key(1))
  assert changed(state.nets['h2l'].params, new.nets['h2l'].params)
  assert changed(state.nets['h2l'].state, new.nets['h2l'].state)  # BatchNorm running statistics
  assert not changed(state.nets['d_lr'], new.nets['d_lr'])
  assert set(metrics) == {'h2l/loss', 'h2l/pixel', 'h2l/adversarial'}


def test_fused_step_equals_discriminator_then_generator_step(setup):
  method, state, batch = setup
  rng = jax.random.key(2)
  fused, fused_metrics = jax.jit(method.train_step)(state, batch, rng)

  @jax.jit
  def sequential(state):
    state, d_metrics = method.discriminator_step(state, batch, rng)
    state, g_metrics = method.generator_step(state, batch, rng)
    return state, {**d_metrics, **g_metrics}

  seq, seq_metrics = sequential(state)
  # The authors' conv biases before BatchNorm have a zero gradient up to rounding: compared as conftest does
  assert_same_training(fused.nets, seq.nets)
  for k in seq_metrics:
    np.testing.assert_allclose(fused_metrics[k], seq_metrics[k], rtol=1e-4, atol=1e-6)


def test_losses_fall_when_overfitting_one_batch(tiny_config):
  tiny_config.generator.optimizer.learning_rate = tiny_config.discriminator.optimizer.learning_rate = 1e-3
  method, state, batch = make(tiny_config)
  step = jax.jit(method.train_step)
  history = []
  for i in range(60):
    state, metrics = step(state, batch, jax.random.key(i))
    history.append(jax.device_get(metrics))
  first, last = history[0], history[-1]
  assert last['h2l/pixel'] < 0.5 * first['h2l/pixel']
  # D learns to separate real LR from H2L outputs (its hinge loss is noisy step to step: the last ten steps' mean)
  assert np.mean([m['d_lr/loss'] for m in history[-10:]]) < first['d_lr/loss'] - 0.1


def test_evaluation_reports_distance_to_the_true_degradation(setup, tiny_config):
  method, state, _ = setup
  batch = method.eval_data(tiny_config.data_dir)
  outputs, scalars = jax.jit(method.evaluate)(state, batch, jax.random.key(0))
  assert set(outputs) == set(method.eval_columns)
  assert outputs['H2L(HR)'].shape == (tiny_config.eval_size, 16, 16, 3)
  # Average pooling is close to the true degradation (blur + downscale + noise + JPEG): well above 15 dB.
  assert scalars['psnr_to_true_degradation/avgpool'] > 15
  assert np.isfinite(scalars['psnr_to_true_degradation/h2l'])
