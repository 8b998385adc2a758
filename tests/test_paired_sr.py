"""SRResNet, SRGAN (+ face variant), srez and DCGAN-SR: the shared paired-SR method on the tiny embedded data."""
import jax
import numpy as np
import pytest
from conftest import load_config, tiny
from conftest import setup_one_device as setup

from jaxsr import methods
from jaxsr.core import parallel
from jaxsr.data import pipeline
from jaxsr.methods import base
from jaxsr.training import resources, train

CONFIGS = ('srresnet', 'srgan', 'srgan_face', 'srez', 'dcgan_sr', 'espcn', 'edsr')


def changed(before, after):
  return any(not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after)))


@pytest.mark.parametrize('name', CONFIGS)
def test_each_config_trains_its_networks_with_finite_losses(name, data_dir):
  config = tiny(name, data_dir)
  method, state, batch, step, mesh = setup(config)
  before = jax.device_get(state)
  for _ in range(3):
    state, metrics = step(state, parallel.global_batch(batch, mesh))
  metrics = jax.device_get(metrics)
  assert all(np.isfinite(v) for v in metrics.values()), metrics
  has_d = name not in ('srresnet', 'espcn', 'edsr')
  assert set(state.nets) == ({'generator', 'discriminator'} if has_d else {'generator'})
  for net in state.nets:
    assert changed(before.nets[net].params, state.nets[net].params), net
  if has_d:
    assert metrics['generator/adversarial'] > 0 and 'discriminator/loss' in metrics

  eval_batch = method.eval_data(data_dir)
  outputs, scalars = jax.jit(method.evaluate)(state, eval_batch, jax.random.key(0))
  assert list(outputs) == sorted(method.eval_columns)
  assert outputs['output'].shape == eval_batch['hr'].shape
  for metric in ('psnr', 'ssim', 'psnr_y', 'ssim_y'):
    assert np.isfinite(scalars[f'{metric}/output']) and np.isfinite(scalars[f'{metric}/bicubic'])


def test_the_loss_terms_each_config_names(data_dir):
  losses = {name: {k: v for k, v in tiny(name, data_dir).loss.items() if v} for name in CONFIGS}
  assert losses['srresnet'] == {'mse': 1.0}
  assert losses['srgan'] == {'mse': 1.0, 'adversarial': 1e-3}
  assert losses['srgan_face'] == {'mse': 1.0, 'dssim': 1.0, 'adversarial': 1e-3}
  assert losses['srez'] == {'lr_l1': 0.45, 'adversarial': 0.1}
  assert losses['dcgan_sr'] == {'mse': 0.8, 'adversarial': 0.2}  # the notebook's loss_weights
  face = tiny('srgan_face', data_dir)
  assert face.generator.optimizer.name == face.discriminator.optimizer.name == 'adabelief'
  srgan = load_config('srgan')
  assert (srgan.generator.optimizer.schedule, srgan.generator.optimizer.decay_every,
          srgan.generator.optimizer.decay_factor) == ('step', 100_000, 0.1)
  vgg = load_config('srgan', 'vgg')
  # Ledig et al. scale the features by 1/12.75, so their MSE by 1/12.75^2 (leftthomas/SRGAN: 0.006), not 1/12.75.
  assert (vgg.loss.mse, vgg.vgg.layer) == (0.0, 'conv5_4') and vgg.loss.vgg == pytest.approx(0.006, rel=0.03)


def test_overfitting_one_batch_raises_psnr(data_dir):
  config = tiny('srresnet', data_dir)
  config.generator.optimizer.learning_rate = 2e-3
  method, state, batch, step, mesh = setup(config)
  fixed = pipeline.paired_examples(pipeline.data_source(config.dataset, 'train', data_dir), 8, 'image', 'bicubic', 4)
  evaluate = jax.jit(method.evaluate)
  first = float(evaluate(state, fixed, None)[1]['psnr/output'])
  device_batch = parallel.global_batch({k: fixed[k] for k in ('hr', 'lr')}, mesh)
  for _ in range(60):
    state, _ = step(state, device_batch)
  last = float(evaluate(state, fixed, None)[1]['psnr/output'])
  assert last > first + 5.0, (first, last)


def test_a_set_evaluated_in_chunks_averages_to_its_whole_evaluation(data_dir):
  """base.evaluate_set (the benchmarks' held-out numbers) weighs a short last chunk by its size."""
  config = tiny('edsr', data_dir)
  method, state, *_ = setup(config)
  examples = pipeline.paired_examples(pipeline.data_source(config.dataset, 'train', data_dir), 12, 'image',
                                      'bicubic', 4)
  whole, images = base.evaluate_set(method, state, examples, batch_size=12)
  chunked, first = base.evaluate_set(method, state, examples, batch_size=5)
  assert chunked == pytest.approx(whole, rel=1e-5)
  assert len(first['output']) == 5 and len(images['output']) == 12
  single = jax.device_get(base.evaluator(method)(state, examples, jax.random.PRNGKey(0))[1])
  assert whole['psnr/output'] == pytest.approx(float(single['psnr/output']), rel=1e-6)


def test_srgan_starts_from_the_srresnet_run_it_names(data_dir, tmp_path):
  srresnet = train.train_and_evaluate(tiny('srresnet', data_dir, num_steps=2), tmp_path / 'srresnet',
                                      devices=jax.devices()[:1])
  _, state, *_ = setup(tiny('srgan', data_dir, init_from=str(tmp_path / 'srresnet')))
  for a, b in zip(jax.tree.leaves(srresnet.nets['generator'].params), jax.tree.leaves(state.nets['generator'].params)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  for a, b in zip(jax.tree.leaves(srresnet.nets['generator'].state), jax.tree.leaves(state.nets['generator'].state)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # BatchNorm running statistics too

  with pytest.raises(FileNotFoundError, match='config.init_from'):
    setup(tiny('srgan', data_dir, init_from=str(tmp_path / 'nowhere')))
  wider = tiny('srgan', data_dir, init_from=str(tmp_path / 'srresnet'))
  wider.generator.features = 8
  with pytest.raises(ValueError, match='config.init_from: .* does not fit'):
    setup(wider)


def test_srez_adds_noise_to_training_inputs_only(data_dir):
  method = methods.create(tiny('srez', data_dir))
  lr = np.zeros((64, 16, 16, 3), np.float32)
  noisy = np.asarray(method.generator_input(lr, jax.random.key(0), train=True))
  assert noisy.std() == pytest.approx(0.06, rel=0.05)  # 0.03 on [0, 1] is 0.06 on [-1, 1]
  assert np.array_equal(method.generator_input(lr, None, train=False), lr)


def test_bad_loss_settings_are_named(data_dir):
  with pytest.raises(ValueError, match='config.loss.adversarial'):
    methods.create(tiny('srresnet', data_dir, loss=dict(adversarial=0.1)))
  config = tiny('srresnet', data_dir)
  config.loss.unlock()
  config.loss.perceptual = 1.0
  with pytest.raises(ValueError, match=r"config.loss: unknown terms \['perceptual'\]"):
    methods.create(config)


def test_a_perceptual_term_without_vgg_weights_is_refused_by_every_method(tmp_path):
  """jaxsr.training.resources names the missing file for a paired method and a VAE alike, before any data is read; the
  constructors read no file."""
  for config in (load_config('srgan', 'vgg'), load_config('sisr_vae')):
    config.loss.vgg = 1.0
    methods.create(config)
    with pytest.raises(ValueError, match=r'config.loss.vgg=1.0 needs VGG19 weights.*config.vgg.weights'):
      resources.load(config, methods.create(config))
    config.vgg.weights = str(tmp_path / 'missing.npz')
    with pytest.raises(FileNotFoundError, match='config.vgg.weights'):
      resources.load(config, methods.create(config))


def test_a_paired_method_trains_and_is_evaluated_on_real_pairs(paired_folders, tmp_path):
  """degradation='dataset': the LR inputs are a paired_folder dataset's own, in training and in evaluation."""
  from jaxsr import evaluate
  from jaxsr.data import builders
  hr_root, lr_root = paired_folders
  data_dir = str(tmp_path / 'tfds')
  pipeline.build_folder_dataset(builders.PairedFolder, builders.PairedFolderConfig(
      name='pairs', path=str(hr_root), lr_path=str(lr_root), test_fraction=0.25), data_dir)
  config = tiny('espcn', data_dir, dataset='paired_folder/pairs', eval_dataset='paired_folder/pairs',
                degradation='dataset', num_steps=2, batch_size=4, eval_size=2)
  method = methods.create(config)
  batch = pipeline.host_batches(method.train_data(data_dir), 4, 0, 1)[0]
  source = pipeline.data_source('paired_folder/pairs', 'train', data_dir)
  train_lr = {source[i]['lr'].tobytes() for i in range(len(source))}
  assert all(lr.tobytes() in train_lr or lr[:, ::-1].tobytes() in train_lr for lr in batch['lr'])
  state = train.train_and_evaluate(config, tmp_path / 'run', devices=jax.devices()[:1])
  assert int(state.step) == 2
  test = pipeline.data_source('paired_folder/pairs', 'test', data_dir)
  data = evaluate.test_set(64, 4, dataset='paired_folder/pairs', data_dir=data_dir, degradation='dataset')
  np.testing.assert_array_equal(data['lr'], np.stack([test[i]['lr'] for i in range(len(test))]))
  with pytest.raises(KeyError, match="no feature \\['lr'\\]"):
    evaluate.test_set(64, 4, dataset='procedural_faces/tiny', data_dir=config.data_dir, degradation='dataset')


def test_methods_declare_the_frozen_networks_their_step_reads():
  """training.resources loads what Method.frozen_networks names, nothing else."""
  assert methods.create(load_config('srresnet')).frozen_networks() == ()
  assert methods.create(load_config('srgan', 'vgg')).frozen_networks() == ('vgg',)
  assert methods.create(load_config('l2h')).frozen_networks() == ('h2l',)
  assert methods.create(load_config('sisr_vae')).frozen_networks() == ()
  assert methods.create(load_config('degradation_sr')).frozen_networks() == ()
