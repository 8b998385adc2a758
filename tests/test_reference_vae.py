"""SISR-VAE and RefSR-VAE: the conditional VAEs' shapes, KL, sampling, gradients, data, steps and evaluation."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import load_config, setup_one_device, tiny

from jaxsr import methods
from jaxsr.core import losses, self_ensemble
from jaxsr.models import layers, vae, vgg
from jaxsr.training import resources


@pytest.mark.parametrize('scale, hr_size', [(8, 128), (4, 64)])
@pytest.mark.parametrize('reference', [True, False])
def test_full_size_shapes(scale, hr_size, reference):
  model = vae.ConditionalVAE(scale=scale, reference=reference)
  lr, guide = jnp.zeros((2, hr_size // scale, hr_size // scale, 3)), jnp.zeros((2, hr_size, hr_size, 3))
  variables = jax.eval_shape(model.init, jax.random.key(0), lr, guide)
  out = jax.eval_shape(model.apply, variables, lr, guide)
  assert out['sr'].shape == (2, hr_size, hr_size, 3) and out['mu'].shape == out['log_sigma'].shape == (2, 1024)
  if not reference:  # test time: no HR, the prior's mean and scale
    assert jax.eval_shape(model.apply, variables, lr)['sr'].shape == (2, hr_size, hr_size, 3)
  with pytest.raises(ValueError, match='config.scale: 16'):
    jax.eval_shape(vae.ConditionalVAE(scale=16, reference=reference).init, jax.random.key(0), lr, guide)


def test_kl_equals_the_prototxts_closed_form():
  mu = jnp.array([[0.1, -0.3]])
  sigma = jnp.array([[0.2, 0.05]])
  # RefSR_VAE.prototxt: kldiv = 50 mu^2 + 50 sd^2 - log(10 sd) - 0.5, per latent dimension
  expected = [[50 * m ** 2 + 50 * s ** 2 - np.log(10 * s) - 0.5 for m, s in ((0.1, 0.2), (-0.3, 0.05))]]
  np.testing.assert_allclose(losses.gaussian_kl(mu, jnp.log(sigma), 0.1), expected, rtol=1e-5)
  assert float(jnp.abs(losses.gaussian_kl(jnp.zeros((4, 8)), jnp.full((4, 8), np.log(0.1)), 0.1)).max()) < 1e-6


def sisr_with_random_vgg(data_dir, tmp_path, preprocessing):
  """SISR-VAE:tiny with the prototxt's VGG weight and a VGG19 weights file of random values; returns (method, VGG
  params, the frozen networks training.resources loads, an HR batch)."""
  params = vgg.VGG19().init(jax.random.key(0), jnp.zeros((1, 32, 32, 3)))['params']
  vgg.save(tmp_path / 'vgg19.npz', params, preprocessing)
  config = tiny('sisr_vae', data_dir)
  config.vgg.weights = str(tmp_path / 'vgg19.npz')
  config.loss.vgg = 10.0
  hr = jax.random.uniform(jax.random.key(1), (2, 32, 32, 3), minval=-1, maxval=1)
  method = methods.create(config)
  return method, params, resources.load(config, method).frozen, hr


def test_the_loss_weighs_its_terms_as_caffes_sums(data_dir, tmp_path):
  # Each face's pixel L1 (on [0, 1]), VGG L1 (/ 256) and KL are sums, so the terms weigh as their element counts.
  method, params, frozen, hr = sisr_with_random_vgg(data_dir, tmp_path, 'caffe')
  sr = hr + 0.2
  mu, log_sigma = jnp.full((2, 16), 0.1), jnp.full((2, 16), np.log(0.2))
  total, terms = method.loss({'sr': sr, 'mu': mu, 'log_sigma': log_sigma}, hr, frozen)
  np.testing.assert_allclose(terms['l1'], 32 * 32 * 3 * 0.1, rtol=1e-4)  # 0.2 on [-1, 1] is 0.1 on [0, 1]
  np.testing.assert_allclose(terms['kl'], 16 * (50 * 0.01 + 50 * 0.04 - np.log(2.0) - 0.5), rtol=1e-5)
  conv5_4 = lambda x: vgg.VGG19(pool='avg', preprocessing='caffe', pre_activation=True).apply(  # noqa: E731
      {'params': params}, x)['conv5_4']
  assert float(jnp.min(conv5_4(hr))) < 0  # before the ReLU
  np.testing.assert_allclose(terms['vgg'], np.abs(conv5_4(sr) - conv5_4(hr)).sum() / 2 / 256, rtol=1e-4)
  np.testing.assert_allclose(total, terms['l1'] + 10 * terms['vgg'] + terms['kl'], rtol=1e-5)


def test_sample_has_the_requested_mean_and_scale():
  mu, log_sigma = jnp.array([0.5, -1.0]), jnp.log(jnp.array([0.1, 0.3]))
  eps = jax.random.normal(jax.random.key(0), (20_000, 2))
  z = vae.sample(mu, log_sigma, eps, temperature=2.0)
  np.testing.assert_allclose(z.mean(0), mu, atol=0.01)
  np.testing.assert_allclose(z.std(0), 2.0 * jnp.exp(log_sigma), rtol=0.03)


def test_noise_from_the_lr_is_normalised_deterministic_and_image_dependent():
  noise = vae.NoiseFromLR(hidden=32, latent=64)
  lr = jax.random.uniform(jax.random.key(1), (3, 8, 8, 3), minval=-1, maxval=1)
  params = noise.init(jax.random.key(0), lr)
  eps = noise.apply(params, lr)
  np.testing.assert_allclose(eps.mean(-1), 0.0, atol=1e-5)
  np.testing.assert_allclose(eps.std(-1), 1.0, atol=1e-3)
  np.testing.assert_array_equal(noise.apply(params, lr), eps)
  assert float(jnp.abs(eps[0] - eps[1]).max()) > 0.1


@pytest.mark.parametrize('reference', [True, False])
def test_gradients_reach_encoder_latent_noise_and_decoder(reference):
  model = vae.ConditionalVAE(scale=4, reference=reference, encoder_widths=(8, 16), features=8, head_features=(8,),
                             encoder_dense=(16,), latent=8, noise_dense=8, decoder_dense=(16,), code_features=8,
                             up_features=8)
  keys = jax.random.split(jax.random.key(0), 3)
  lr = jax.random.uniform(keys[0], (2, 8, 8, 3), minval=-1, maxval=1)
  hr = jax.random.uniform(keys[1], (2, 32, 32, 3), minval=-1, maxval=1)
  params = model.init(keys[2], lr, hr)['params']

  def loss(p):
    out = model.apply({'params': p}, lr, hr)
    return losses.l1(out['sr'], hr) + losses.gaussian_kl(out['mu'], out['log_sigma'], 0.1).mean()

  grads = jax.grad(loss)(params)
  for name in ('Trunk_0', 'latent', 'noise', 'UpProjection_0', 'UpProjection_1', 'Conv_0'):
    assert float(optax.tree.norm(grads[name])) > 0, name


def test_up_projection_doubles_the_side():
  x = jnp.zeros((1, 5, 7, 4))
  assert jax.eval_shape(lambda: vae.UpProjection(6).init_with_output(jax.random.key(0), x)[0]).shape == (1, 10, 14, 6)


def test_self_ensemble_undoes_each_transform():
  x = jax.random.uniform(jax.random.key(0), (2, 6, 6, 3))
  np.testing.assert_allclose(self_ensemble.self_ensemble(lambda y: layers.nearest_upsample(y, 2), x),
                             layers.nearest_upsample(x, 2), atol=1e-6)  # an equivariant upscaler: unchanged
  ref = jax.random.uniform(jax.random.key(1), (2, 6, 6, 3))
  shifted = self_ensemble.self_ensemble(lambda y, r: y + r[:, :1, :1], x, ref)  # not equivariant: averaged corners
  corners = jnp.stack([ref[:, 0, 0], ref[:, 0, -1], ref[:, -1, 0], ref[:, -1, -1]]).mean(0)
  np.testing.assert_allclose(shifted, x + corners[:, None, None], atol=1e-6)


@pytest.fixture
def refsr_config(data_dir, identity_data):
  config = tiny('refsr_vae', data_dir, dataset=identity_data, eval_dataset=identity_data, batch_size=4, eval_size=6)
  config.model.optimizer.learning_rate = 1e-3
  return config


def test_refsr_trains_with_references_of_the_same_person_and_evaluates_the_control(refsr_config):
  method, state, batch, step, _ = setup_one_device(refsr_config)
  assert batch['reference'].shape == batch['hr'].shape == (4, 64, 64, 3) and batch['lr'].shape == (4, 8, 8, 3)
  assert not any(np.array_equal(h, r) for h, r in zip(batch['hr'], batch['reference']))
  state, first = step(state, batch)
  l1 = []
  for _ in range(60):
    state, metrics = step(state, batch)
    l1.append(float(metrics['vae/l1']))
  assert all(np.isfinite(float(v)) for v in metrics.values())
  assert np.mean(l1[-10:]) < 0.9 * float(first['vae/l1'])  # learns the batch (the mean: every step draws new z)
  assert 'vae/vgg' not in metrics  # no weights file: the perceptual term is off

  eval_batch = method.eval_data(refsr_config.data_dir)
  assert eval_batch['wrong_reference'].shape == eval_batch['reference'].shape == (6, 64, 64, 3)
  outputs, scalars = jax.jit(method.evaluate)(state, eval_batch, jax.random.key(0))
  assert set(outputs) == set(method.eval_columns) and outputs['output'].shape == (6, 64, 64, 3)
  for name in ('output', 'bicubic', 'ensemble', 'wrong reference'):
    assert np.isfinite(float(scalars[f'psnr_y/{name}'])) and 0 < float(scalars[f'ssim_y/{name}']) <= 1
  assert float(scalars['diversity/std']) > 0  # random eps instead of the LR's own: different samples
  right = method.upscale(state, *(jnp.asarray(eval_batch[k], jnp.float32) / 127.5 - 1 for k in ('lr', 'reference')))
  wrong = method.upscale(state, *(jnp.asarray(eval_batch[k], jnp.float32) / 127.5 - 1
                                  for k in ('lr', 'wrong_reference')))
  assert float(jnp.abs(right - wrong).max()) > 1e-3  # the reference steers the output


def test_sisr_trains_on_any_face_dataset_and_needs_no_hr_at_test_time(data_dir):
  config = tiny('sisr_vae', data_dir, batch_size=4, eval_size=4)
  method, state, batch, step, _ = setup_one_device(config)  # no VGG19 file: the configs start with loss.vgg=0
  before = jax.device_get(state.nets['vae'].params)  # the step donates its input state
  for _ in range(3):
    state, metrics = step(state, batch)
  assert all(np.isfinite(float(v)) for v in metrics.values()) and 'vae/vgg' not in metrics
  changed = jax.tree.map(lambda a, b: bool(np.any(a != b)), before, jax.device_get(state.nets['vae'].params))
  assert all(jax.tree.leaves(changed['latent'])) and all(jax.tree.leaves(changed['Trunk_0']))
  lr = jnp.asarray(batch['lr'], jnp.float32) / 127.5 - 1
  np.testing.assert_array_equal(method.upscale(state, lr), method.upscale(state, lr))  # eps from the LR
  vae_net, latent = state.nets['vae'], config.model.latent
  at_prior = vae_net(lr, None, None, 1.0, sigma=jnp.full((len(lr), latent), config.prior_std))['sr']
  np.testing.assert_allclose(at_prior, method.upscale(state, lr), atol=1e-6)  # z = prior_std * eps_LR
  config.test_noise = 'prototxt'  # z = eps_LR * N(0, 1), as SISR_VAE's deploy prototxt draws it
  original = methods.create(config).upscale(state, lr)
  drawn = jax.random.normal(jax.random.key(config.seed), (len(lr), latent))
  np.testing.assert_allclose(original, vae_net(lr, None, None, 1.0, sigma=drawn)['sr'], atol=1e-6)
  assert float(jnp.abs(original - at_prior).max()) > 1e-4
  outputs, scalars = jax.jit(method.evaluate)(state, method.eval_data(data_dir), jax.random.key(0))
  assert set(outputs) == set(method.eval_columns) and np.isfinite(float(scalars['psnr_y/ensemble']))


def test_perceptual_term_uses_vgg_features_when_weights_are_given(data_dir, tmp_path):
  method, _, frozen, hr = sisr_with_random_vgg(data_dir, tmp_path, 'torch')
  output = {'sr': hr * 0.5, 'mu': jnp.zeros((2, 4)), 'log_sigma': jnp.zeros((2, 4))}
  _, terms = method.loss(output, hr, frozen)
  assert float(terms['vgg']) > 0
  _, same = method.loss({**output, 'sr': hr}, hr, frozen)
  assert float(same['vgg']) == 0.0


def test_bad_vae_config_values_are_named(data_dir):
  with pytest.raises(ValueError, match='config.loss: unknown terms'):
    methods.create(tiny('sisr_vae', data_dir, loss={'l1': 1.0, 'gan': 1.0}))
  with pytest.raises(ValueError, match='config.prior_std'):
    methods.create(tiny('sisr_vae', data_dir, prior_std=0.0))
  with pytest.raises(ValueError, match='config.test_noise'):
    methods.create(tiny('sisr_vae', data_dir, test_noise='deploy'))
  config = load_config('refsr_vae', 'tiny')
  config.data_dir, config.dataset = data_dir, 'identity_folder/celeba_ids'  # not built here
  with pytest.raises(FileNotFoundError, match='identity_folder/celeba_ids'):
    methods.create(config).train_data(data_dir)


def test_the_vaes_default_data_is_embedded_people_with_references(data_dir):
  from jaxsr.data import pipeline
  config = load_config('refsr_vae', 'tiny')
  assert config.dataset == 'procedural_identities/tiny' and config.image_size == 64
  train = pipeline.data_source(config.dataset, 'train', data_dir)  # built on first use
  val = pipeline.data_source(config.dataset, config.eval_split, data_dir)
  assert (len(train), len(val)) == (8 * 4, 8 * 2) and train[0]['image'].shape == (64, 64, 3)
  people = {e['identity'] for e in (val[i] for i in range(len(val)))}
  assert people == {e['identity'] for e in (train[i] for i in range(len(train)))}  # references exist for each
  eval_batch = methods.create(config).eval_data(data_dir)
  assert eval_batch['reference'].shape == eval_batch['hr'].shape
  assert not any(np.array_equal(h, r) for h, r in zip(eval_batch['hr'], eval_batch['reference']))
