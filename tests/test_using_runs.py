"""The seam between training and use: every super-resolving config's run works with jaxsr.upscale and
jaxsr.evaluate through one interface, without the files only training reads; a generator's moving average is
checkpointed and is what evaluation and inference run."""
import json
import shutil
from pathlib import Path

import jax
import ml_collections
import numpy as np
import pytest
from conftest import load_config, setup_one_device, tiny

from jaxsr import evaluate, export, methods, upscale
from jaxsr.storage import checkpointing, run_record
from jaxsr.training import train
from jaxsr.using import inference

SUPER_RESOLVERS = [('srresnet', 'tiny'), ('srgan', 'tiny'), ('srgan_face', 'tiny'), ('srez', 'tiny'),
                   ('dcgan_sr', 'tiny'), ('fsrnet', 'gan,tiny'), ('l2h_bicubic', 'tiny'), ('l2h', 'tiny'),
                   ('degradation_sr', 'tiny'), ('sisr_vae', 'tiny'), ('refsr_vae', 'tiny'),
                   ('espcn', 'tiny'), ('edsr', 'tiny,face_cpu')]


def write_untrained_run(config, workdir):
  """A run directory (config.json, a step-0 checkpoint) of `config`'s freshly initialised networks: what a
  trained run holds, without the cost of training it."""
  checkpointing.save_run(workdir, config, inference.placeholder_state(methods.create(config), config))


@pytest.mark.parametrize('name, variant', SUPER_RESOLVERS)
def test_every_super_resolving_config_upscales_and_evaluates(name, variant, data_dir, identity_data, tmp_path):
  config = load_config(name, variant)
  if name == 'l2h':  # the H2L run that made its LR inputs is a training resource: using the run needs none
    config.h2l_workdir = str(tmp_path / 'no_such_h2l_run')
  write_untrained_run(config, tmp_path / name)
  model = inference.load(tmp_path / name)
  size, scale = config.image_size, config.scale
  rng = np.random.default_rng(0)
  lr = rng.integers(0, 256, (3, size // scale, size // scale, 3), np.uint8)
  reference = rng.integers(0, 256, (size, size, 3), np.uint8)
  faces = upscale.upscale_faces(model, lr, reference if model.needs_reference else None, batch_size=2)
  assert faces.shape == (3, size, size, 3) and faces.dtype == np.uint8
  assert model.needs_reference == (name == 'refsr_vae')
  if model.needs_reference:
    data = evaluate.test_set(size, scale, dataset=identity_data, data_dir=data_dir, limit=4, split='val',
                             reference_split='train')
    assert data['guides'].shape == data['hr'].shape == (4, size, size, 3)
  else:
    data = evaluate.test_set(size, scale, dataset='procedural_faces/tiny', data_dir=data_dir, limit=4)
  rows, columns = evaluate.evaluate([model], ['bicubic'], data, scale, batch_size=2)
  assert rows[1]['method'] == f'{name} ({config.method})' and rows[1]['parameters'] == model.parameters
  assert all(np.isfinite(rows[1][k]) for k in ('psnr', 'ssim_y', 'lr_consistency', 'swd'))
  assert columns[f'{name}, step {model.step}'].shape == (4, size, size, 3)


def test_a_reference_based_run_is_refused_without_references(data_dir, identity_data, tmp_path):
  write_untrained_run(load_config('refsr_vae', 'tiny'), tmp_path / 'refsr')
  model = inference.load(tmp_path / 'refsr')
  data = evaluate.test_set(64, 8, dataset=identity_data, data_dir=data_dir, limit=2, split='val')
  with pytest.raises(ValueError, match='needs a reference photo.*--reference_split'):
    evaluate.evaluate([model], [], data, 8)


def test_an_h2l_run_is_named_as_not_super_resolving(tmp_path):
  write_untrained_run(load_config('h2l', 'tiny'), tmp_path / 'h2l')
  with pytest.raises(ValueError, match='a h2l run does not super-resolve'):
    inference.load(tmp_path / 'h2l')


def test_the_generators_moving_average_is_checkpointed_and_used_for_evaluation_and_inference(data_dir, tmp_path):
  decay = 0.5
  config = tiny('srresnet', data_dir, num_steps=2, checkpoint_every=1, eval_every=2, ema_decay=decay)
  run = tmp_path / 'run'
  train.train_and_evaluate(config, run, devices=jax.devices()[:1])
  saved = {step: checkpointing.read_saved_state(run / 'checkpoints', step)['nets']['generator'] for step in (1, 2)}
  _, initial, _, _, _ = setup_one_device(config)
  p0 = jax.device_get(initial.nets['generator'].params)
  expected = jax.tree.map(lambda a, b, c: decay ** 2 * a + decay * (1 - decay) * b + (1 - decay) * c,
                          p0, saved[1]['params'], saved[2]['params'])  # ema_0 = p_0, ema_t = d ema + (1 - d) p_t
  jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-7), saved[2]['ema'], expected)
  assert not all(np.allclose(a, b) for a, b in zip(jax.tree.leaves(saved[2]['ema']),
                                                    jax.tree.leaves(saved[2]['params'])))

  model = inference.load(run)
  jax.tree.map(np.testing.assert_array_equal, jax.device_get(model.state.nets['generator'].params), saved[2]['ema'])
  method = methods.create(config)
  logged = [json.loads(line) for line in (run / 'metrics.jsonl').read_text().splitlines()]
  psnr = next(r['eval/psnr/output'] for r in logged if 'eval/psnr/output' in r)
  _, scalars = jax.jit(method.evaluate)(model.state, method.eval_data(data_dir), jax.random.PRNGKey(config.seed))
  assert float(scalars['psnr/output']) == pytest.approx(psnr, abs=1e-4)  # the samples and metrics of the average


RUN_BEFORE_LAYOUT = Path(__file__).parent / 'data' / 'run_before_layout'


def test_a_run_recorded_before_the_package_layout_loads_exports_and_resumes(data_dir, tmp_path):
  """tests/data/run_before_layout: `edsr:tiny` trained for 2 steps by jaxsr before its modules moved into core/,
  storage/, training/ and using/ (commit 95ca043). Nothing a run writes may name a module."""
  run = tmp_path / 'run'
  shutil.copytree(RUN_BEFORE_LAYOUT, run)
  model = inference.load(run)
  assert model.step == 2
  lr = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3), np.uint8)
  sr = model(lr)
  assert sr.shape == (2, 64, 64, 3)
  export.export_run(run, tmp_path / 'export')
  exported = inference.load(tmp_path / 'export')
  np.testing.assert_array_equal(exported(lr), sr)
  assert set(exported.state.nets) == {'generator'} and exported.state.nets['generator'].opt_state is None
  config = ml_collections.ConfigDict(json.loads((run / 'config.json').read_text()))
  config.update(data_dir=data_dir, num_steps=3)
  assert int(train.train_and_evaluate(config, run).step) == 3
  starts = [json.loads(line)['start_step'] for line in (run / 'config_history.jsonl').read_text().splitlines()]
  assert starts == [0, 2]


def test_a_record_without_the_fields_added_since_reads_with_the_values_it_trained_with(tmp_path):
  """run_record.read fills each field of run_record.ADDED that a config.json lacks, so nothing that reads a run
  guesses defaults of its own."""
  run = tmp_path / 'old'
  shutil.copytree(RUN_BEFORE_LAYOUT, run)
  record = json.loads((run / 'config.json').read_text())
  for name in ('ema_decay', 'train_minutes', 'input_noise', 'conditional_discriminator', 'jitter', 'jitter_px'):
    del record[name]
  del record['generator']['optimizer']['clip_value'], record['vgg']['pre_activation']
  (run / 'config.json').write_text(json.dumps(record))
  read = run_record.read(run)
  assert (read['ema_decay'], read['jitter'], read['conditional_discriminator']) == (0.0, '', False)
  assert read['generator']['optimizer']['clip_value'] == 0.0 and read['vgg']['pre_activation'] is False
  lr = np.random.default_rng(1).integers(0, 256, (2, 16, 16, 3), np.uint8)
  np.testing.assert_array_equal(inference.load(run)(lr), inference.load(RUN_BEFORE_LAYOUT)(lr))
