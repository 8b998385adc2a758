"""L2H on learned degradations: the two-stage pipeline (frozen H2L), the joint one (four networks), bicubic."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import load_config, setup_one_device, tiny

from jaxsr import methods
from jaxsr.core import metrics, parallel
from jaxsr.data import pipeline
from jaxsr.models.discriminators import SNResNetDiscriminator
from jaxsr.models.l2h import LowToHighGenerator
from jaxsr.storage import checkpointing, run_record
from jaxsr.training import resources, train


def setup(config):
  method, state, batch, step, mesh = setup_one_device(config)
  return method, state, parallel.global_batch(batch, mesh), step


def changed(before, after):
  return any(not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after)))


@pytest.fixture(scope='module')
def h2l_run(tmp_path_factory, data_dir):
  workdir = tmp_path_factory.mktemp('h2l_run')
  state = train.train_and_evaluate(tiny('h2l', data_dir, num_steps=2), workdir, devices=jax.devices()[:1])
  return workdir, jax.device_get(state)


def test_l2h_generator_and_hr_discriminator_shapes():
  g = LowToHighGenerator()  # the released network: 256-channel trunk of 12 blocks, two x2 stages
  lr = jnp.zeros((2, 16, 16, 3))
  out, variables = jax.eval_shape(lambda: g.init_with_output(jax.random.key(0), lr, train=False))
  assert out.shape == (2, 64, 64, 3)
  assert len([k for k in variables['params'] if '_block' in k]) == 12 + 3
  assert LowToHighGenerator(8, (16, 16, 8), (1, 1, 1)).init_with_output(
      jax.random.key(0), jnp.zeros((1, 8, 8, 3)), train=False)[0].shape == (1, 64, 64, 3)
  with pytest.raises(ValueError, match='config.generator'):
    LowToHighGenerator(8).init(jax.random.key(0), lr, train=False)
  logits = jax.eval_shape(lambda: SNResNetDiscriminator(pooled_blocks=4).init_with_output(
      jax.random.key(1), jnp.zeros((2, 64, 64, 3)), train=False))[0]
  assert logits.shape == (2,)


def test_two_stage_step_trains_l2h_against_a_frozen_h2l(h2l_run, data_dir):
  workdir, h2l_state = h2l_run
  method, state, batch, step = setup(tiny('l2h', data_dir, h2l_workdir=str(workdir)))
  frozen = state.frozen['h2l'].variables['params']
  for a, b in zip(jax.tree.leaves(h2l_state.nets['h2l'].params), jax.tree.leaves(frozen)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # the run's newest H2L
  before = jax.device_get(state)
  state, metrics_ = step(state, batch)
  assert set(state.nets) == {'generator', 'discriminator'}
  assert changed(before.nets['generator'].params, state.nets['generator'].params)
  assert changed(before.nets['discriminator'].params, state.nets['discriminator'].params)
  assert not changed(before.frozen, state.frozen)  # H2L untouched
  assert all(np.isfinite(v) for v in jax.device_get(metrics_).values())


def _load(config):
  """training.resources.load of `config` for the method it makes."""
  return resources.load(config, methods.create(config))


def test_frozen_h2l_loader_fails_clearly(tmp_path, data_dir, srresnet_run):
  methods.create(tiny('l2h', data_dir, h2l_workdir=str(tmp_path / 'nowhere')))  # constructors read no file
  with pytest.raises(FileNotFoundError, match='config.h2l_workdir'):
    _load(tiny('l2h', data_dir, h2l_workdir=str(tmp_path / 'nowhere')))
  with pytest.raises(ValueError, match="config.h2l_workdir: .* is a 'srresnet' run"):
    _load(tiny('l2h', data_dir, h2l_workdir=str(srresnet_run)))
  empty = tmp_path / 'empty'
  (empty / 'checkpoints').mkdir(parents=True)
  (empty / 'config.json').write_text(load_config('h2l', 'tiny').to_json())  # an h2l run that never saved
  with pytest.raises(FileNotFoundError, match='config.h2l_workdir: the run in .* has no checkpoint'):
    _load(tiny('l2h', data_dir, h2l_workdir=str(empty)))
  other_scale = tmp_path / 'x2'
  (other_scale / 'checkpoints').mkdir(parents=True)
  (other_scale / 'config.json').write_text(tiny('h2l', data_dir, scale=2).to_json())
  with pytest.raises(ValueError, match='config.h2l_workdir: .* x2; this config is 64 px, x4'):
    _load(tiny('l2h', data_dir, h2l_workdir=str(other_scale)))


def test_joint_step_changes_all_four_networks(data_dir):
  method, state, batch, step = setup(tiny('degradation_sr', data_dir))
  before = jax.device_get(state)
  state, metrics_ = step(state, batch)
  assert set(state.nets) == {'h2l', 'd_lr', 'l2h', 'd_hr'}
  for net in state.nets:
    assert changed(before.nets[net].params, state.nets[net].params), net
  metrics_ = jax.device_get(metrics_)
  for key in ('h2l/loss', 'd_lr/loss', 'l2h/loss', 'l2h/mse', 'l2h/adversarial', 'd_hr/loss'):
    assert np.isfinite(metrics_[key]), key

  eval_batch = method.eval_data(data_dir)
  images, scalars = jax.jit(method.evaluate)(state, eval_batch, jax.random.key(0))
  assert set(method.eval_columns) <= set(images)
  for key in ('psnr_to_true_degradation/h2l', 'l2h/psnr/output', 'l2h/real_lr/swd/output',
              'l2h/real_lr/lr_consistency/bicubic'):
    assert np.isfinite(scalars[key]), key


def test_hr_discriminator_is_optional(data_dir):
  method, state, batch, step = setup(tiny('l2h_bicubic', data_dir, loss=dict(mse=1.0, adversarial=0.0)))
  assert set(state.nets) == {'generator'}
  with pytest.raises(ValueError, match='config.l2h.loss.adversarial'):
    config = tiny('degradation_sr', data_dir)
    config.l2h.loss.adversarial = 0.0
    methods.create(config)


def test_swd_is_zero_for_a_set_with_itself_and_grows_with_blur(data_dir):
  source = pipeline.data_source('procedural_faces/tiny', 'train', data_dir)
  faces = np.stack([source[i]['image'] for i in range(64)]).astype(np.float32) / 127.5 - 1
  a, b = faces[:32], faces[32:]
  swd = jax.jit(lambda x, y: metrics.swd(x, y, jax.random.key(0), patches_per_image=64)[0])  # CPU sorts are slow
  assert float(swd(a, a)) == pytest.approx(0.0, abs=1e-3)
  blurred = [metrics.bicubic_resize(metrics.bicubic_resize(a, 64 // s), 64) for s in (2, 4)]
  distances = [float(swd(x, b)) for x in (a, *blurred)]
  assert distances[0] < distances[1] < distances[2]


def test_lr_consistency_rewards_outputs_that_explain_their_input(data_dir):
  source = pipeline.data_source('procedural_faces/tiny', 'train', data_dir)
  hr = np.stack([source[i]['image'] for i in range(8)]).astype(np.float32) / 127.5 - 1
  lr = metrics.bicubic_resize(hr, 16)
  assert float(metrics.lr_consistency(metrics.bicubic_resize(lr, 64), lr)) > 30
  assert float(metrics.lr_consistency(hr, lr)) > 30  # the true HR face explains its LR input too
  assert float(metrics.lr_consistency(hr[::-1], lr)) < 20  # another face does not


def test_any_paired_method_trains_on_a_learned_degradation_pinned_to_its_h2l_step(tmp_path, data_dir, caplog):
  """SRResNet with degradation='h2l': its LR inputs are the H2L run's outputs at the step the run started with,
  recorded in config.json and kept by a resume after the H2L run has gone on; a new run takes the newest."""
  one = jax.devices()[:1]
  h2l_dir, sr_dir = tmp_path / 'h2l', tmp_path / 'srresnet'
  train.train_and_evaluate(tiny('h2l', data_dir, num_steps=2), h2l_dir, devices=one)
  config = lambda steps: tiny('srresnet', data_dir, num_steps=steps, degradation='h2l',  # noqa: E731
                              h2l_workdir=str(h2l_dir))
  state = train.train_and_evaluate(config(2), sr_dir, devices=one)
  assert run_record.read(sr_dir)['h2l_step'] == 2
  h2l_at = lambda step: checkpointing.read_saved_state(h2l_dir / 'checkpoints', step)['nets']['h2l']  # noqa: E731
  frozen_params = lambda state: jax.device_get(state.frozen['h2l'].variables['params'])  # noqa: E731
  jax.tree.map(np.testing.assert_array_equal, frozen_params(state), h2l_at(2)['params'])

  # The LR inputs are the frozen H2L's outputs in inference mode, not a host-side degradation.
  method = methods.create(config(2))
  batch = pipeline.host_batches(method.train_data(data_dir), 8, 0, 1)[0]
  assert 'lr' not in batch
  hr, lr = method.training_pair(state, batch, jax.random.key(3))
  z = jax.random.normal(jax.random.key(3), (8, state.frozen['h2l'].z_dim))
  expected = state.frozen['h2l'].module.apply({'params': h2l_at(2)['params'], **h2l_at(2)['state']}, hr, z,
                                               train=False)
  np.testing.assert_allclose(lr, expected, atol=1e-6)
  assert lr.shape == (8, 16, 16, 3)

  train.train_and_evaluate(tiny('h2l', data_dir, num_steps=4), h2l_dir, devices=one)  # the H2L run goes on
  with caplog.at_level('INFO'):
    resumed = train.train_and_evaluate(config(3), sr_dir, devices=one)
  assert int(resumed.step) == 3 and run_record.read(sr_dir)['h2l_step'] == 2
  jax.tree.map(np.testing.assert_array_equal, frozen_params(resumed), h2l_at(2)['params'])
  assert any('gone on to step 4' in r.getMessage() and 'keeps step 2' in r.getMessage() for r in caplog.records)
  fresh = train.train_and_evaluate(config(1), tmp_path / 'new', devices=one)
  jax.tree.map(np.testing.assert_array_equal, frozen_params(fresh), h2l_at(4)['params'])
  assert not all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(h2l_at(2)['params']),
                                                        jax.tree.leaves(h2l_at(4)['params'])))
  with pytest.raises(FileNotFoundError, match=r'config.h2l_workdir: .* has no checkpoint 3 \(it keeps \[2, 4\]\)'):
    _load(tiny('srresnet', data_dir, degradation='h2l', h2l_workdir=str(h2l_dir), h2l_step=3))
