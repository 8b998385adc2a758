"""jaxsr.export: a run's super-resolving network as a sharded folder that upscales as the run does."""
import jax
import numpy as np
import pytest

from conftest import tiny
from jaxsr import export, inference, train


@pytest.fixture(scope='module')
def srresnet_run(tmp_path_factory, data_dir):
  workdir = tmp_path_factory.mktemp('srresnet_run')
  train.train_and_evaluate(tiny('srresnet', data_dir, num_steps=2), workdir, devices=jax.devices()[:1])
  return workdir


def export_run(run, out, **kwargs):
  model = inference.load(run)
  export.write(out, (run / 'config.json').read_text(), model.step, model.network, model.variables(), **kwargs)
  return model


def test_a_float32_export_upscales_exactly_as_its_run_and_bfloat16_closely(srresnet_run, tmp_path):
  lr = np.random.default_rng(0).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
  model = export_run(srresnet_run, tmp_path / 'f32', shard_mb=0.02)  # tiny shards: several files
  files = export.read_record(tmp_path / 'f32')['files']
  assert len(files) > 1 and all((tmp_path / 'f32' / f).stat().st_size < 0.05 * 2**20 for f in files)
  exported = inference.load(tmp_path / 'f32')
  assert exported.step == model.step == 2 and not (tmp_path / 'f32' / 'checkpoints').exists()
  np.testing.assert_array_equal(exported.upscale(lr), model.upscale(lr))
  export_run(srresnet_run, tmp_path / 'bf16', dtype='bfloat16')
  close = inference.load(tmp_path / 'bf16').upscale(lr).astype(int)
  assert np.abs(close - model.upscale(lr)).mean() < 2.0  # bfloat16 weights: a few 8-bit levels at most


def test_a_damaged_export_is_refused(srresnet_run, tmp_path):
  export_run(srresnet_run, tmp_path / 'x')
  name = next(iter(export.read_record(tmp_path / 'x')['files']))
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
  assert model.network == 'l2h' and export.read_record(tmp_path / 'out')['network'] == 'l2h'
  lr = np.random.default_rng(1).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
  np.testing.assert_array_equal(inference.load(tmp_path / 'out').upscale(lr), model.upscale(lr))
