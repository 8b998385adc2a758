"""jaxsr.export: a run's super-resolving network as a sharded folder that upscales as the run does."""
import json

import jax
import numpy as np
import pytest
from conftest import setup_one_device as setup
from conftest import tiny

from jaxsr import export
from jaxsr.storage import exports
from jaxsr.training import train
from jaxsr.using import inference


@pytest.fixture(scope='module')
def srresnet_run(tmp_path_factory, data_dir):
  workdir = tmp_path_factory.mktemp('srresnet_run')
  train.train_and_evaluate(tiny('srresnet', data_dir, num_steps=2), workdir, devices=jax.devices()[:1])
  return workdir


def export_run(run, out, **kwargs):
  model = inference.load(run)
  exports.write(out, (run / 'config.json').read_text(), model.step, model.network, model.variables(), **kwargs)
  return model


def test_a_float32_export_upscales_exactly_as_its_run_and_bfloat16_closely(srresnet_run, tmp_path):
  lr = np.random.default_rng(0).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
  model = export_run(srresnet_run, tmp_path / 'f32', shard_mb=0.02)  # tiny shards: several files
  files = exports.read_record(tmp_path / 'f32')['files']
  assert len(files) > 1 and all((tmp_path / 'f32' / f).stat().st_size < 0.05 * 2**20 for f in files)
  exported = inference.load(tmp_path / 'f32')
  assert exported.step == model.step == 2 and not (tmp_path / 'f32' / 'checkpoints').exists()
  np.testing.assert_array_equal(exported.upscale(lr), model.upscale(lr))
  export_run(srresnet_run, tmp_path / 'bf16', dtype='bfloat16')
  close = inference.load(tmp_path / 'bf16').upscale(lr).astype(int)
  assert np.abs(close - model.upscale(lr)).mean() < 2.0  # bfloat16 weights: a few 8-bit levels at most


def test_a_damaged_export_is_refused(srresnet_run, tmp_path):
  export_run(srresnet_run, tmp_path / 'x')
  name = next(iter(exports.read_record(tmp_path / 'x')['files']))
  data = bytearray((tmp_path / 'x' / name).read_bytes())
  data[-100] ^= 1
  (tmp_path / 'x' / name).write_bytes(bytes(data))
  with pytest.raises(ValueError, match='sha256'):
    inference.load(tmp_path / 'x')
  with pytest.raises(FileExistsError):
    export_run(srresnet_run, tmp_path / 'x')


def test_the_joint_pipeline_exports_its_l2h(tmp_path, data_dir):
  run = tmp_path / 'joint'
  train.train_and_evaluate(tiny('degradation_sr', data_dir, num_steps=1), run, devices=jax.devices()[:1])
  model = export_run(run, tmp_path / 'out')
  assert model.network == 'l2h' and exports.read_record(tmp_path / 'out')['network'] == 'l2h'
  lr = np.random.default_rng(1).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
  np.testing.assert_array_equal(inference.load(tmp_path / 'out').upscale(lr), model.upscale(lr))


def test_a_run_starts_from_an_export_or_from_another_runs_moving_average(srresnet_run, data_dir, tmp_path):
  export_run(srresnet_run, tmp_path / 'bf16', dtype='bfloat16')
  config = tiny('srresnet', data_dir, init_from=str(tmp_path / 'bf16'))
  _, state, *_ = setup(config)
  g = state.nets['generator']
  _, exported = exports.read(tmp_path / 'bf16', g.variables())
  for got, want in zip(jax.tree.leaves(g.variables()), jax.tree.leaves(exported)):
    np.testing.assert_array_equal(np.asarray(got), want)  # the bfloat16 values, as float32

  averaged = tmp_path / 'averaged'
  trained = train.train_and_evaluate(tiny('srresnet', data_dir, num_steps=3, ema_decay=0.5), averaged,
                                     devices=jax.devices()[:1])
  _, state, *_ = setup(tiny('srresnet', data_dir, init_from=str(averaged)))
  ema, params = trained.nets['generator'].ema, trained.nets['generator'].params
  for got, want in zip(jax.tree.leaves(state.nets['generator'].params), jax.tree.leaves(ema)):
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
  assert any(not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(ema), jax.tree.leaves(params)))

  with pytest.raises(FileNotFoundError, match='config.init_from: .* nor a jaxsr.export folder'):
    setup(tiny('srresnet', data_dir, init_from=str(tmp_path)))
  with pytest.raises(ValueError, match="config.init_from: .* holds network 'generator', not 'l2h'"):
    exports.load_network(tmp_path / 'bf16', 'l2h', {}, 'init_from')


def test_a_gan_export_keeps_its_discriminator_for_the_next_round_and_serves_as_a_degradation(tmp_path, data_dir):
  """An H2L run exported with its LR discriminator as a companion: `init_from` the export restores both networks
  (the game continues), and `degradation='h2l'` reads its generator as it reads the run's."""
  run, out = tmp_path / 'h2l', tmp_path / 'h2l_export'
  trained = train.train_and_evaluate(tiny('h2l', data_dir, num_steps=2), run, devices=jax.devices()[:1])
  step, files = export.export_run(run, out, companions=['d_lr'])
  record = exports.read_record(out)
  assert step == 2 and record['network'] == 'h2l' and exports.networks(record) == ['h2l', 'd_lr']
  assert set(record['companions']['d_lr']) < set(files)

  _, state, *_ = setup(tiny('h2l', data_dir, init_from=str(out)))
  for name in ('h2l', 'd_lr'):
    jax.tree.map(np.testing.assert_array_equal, jax.device_get(state.nets[name].variables()),
                 jax.device_get(trained.nets[name].variables()))
  _, state, *_ = setup(tiny('srresnet', data_dir, degradation='h2l', h2l_workdir=str(out)))
  jax.tree.map(np.testing.assert_array_equal, jax.device_get(state.frozen['h2l'].variables['params']),
               jax.device_get(trained.nets['h2l'].params))

  export.export_run(run, tmp_path / 'alone')  # the generator alone: a new discriminator starts afresh
  _, state, *_ = setup(tiny('h2l', data_dir, init_from=str(tmp_path / 'alone')))
  assert not all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(state.nets['d_lr'].params),
                                                        jax.tree.leaves(trained.nets['d_lr'].params)))
  with pytest.raises(ValueError, match="has no network 'd_l'"):
    export.export_run(run, tmp_path / 'typo', companions=['d_l'])
  edited = json.loads((out / exports.EXPORT).read_text())
  edited['companions']['d_lr'] = ['variables-9-of-9.npz']
  (out / exports.EXPORT).write_text(json.dumps(edited))
  with pytest.raises(ValueError, match='companions must map'):
    exports.read_record(out)
