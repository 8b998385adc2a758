"""FID and KID: the distances' arithmetic, and Inception-v3 from a converted state dict of random weights."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from safetensors.numpy import save_file

from jaxsr import convert_inception
from jaxsr.data import procedural_faces
from jaxsr.evaluation import fid
from jaxsr.models import inception


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift():
  rng = np.random.default_rng(0)
  a, b = rng.normal(size=(20_000, 4)), rng.normal(size=(20_000, 4)) + np.array([1.0, 0, 2.0, 0])
  assert fid.frechet_distance(a, b) == pytest.approx(5.0, abs=0.05)
  assert abs(fid.frechet_distance(a, a)) < 1e-6


def test_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift():
  rng = np.random.default_rng(1)
  a, same, shifted = rng.normal(size=(500, 8)), rng.normal(size=(500, 8)), rng.normal(size=(500, 8)) + 0.5
  near = fid.kernel_inception_distance(a, same, subsets=20, subset_size=200)
  far = fid.kernel_inception_distance(a, shifted, subsets=20, subset_size=200)
  assert abs(near) < 0.01 < far


def random_inception_state(seed=0):
  """A torchvision inception_v3 state dict in names and shapes, random values, with keys the converter skips."""
  rng = np.random.default_rng(seed)
  shapes = jax.eval_shape(inception.InceptionV3().init, jax.random.key(0), jnp.zeros((1, 299, 299, 3)))
  state = {'fc.weight': np.zeros((1008, 2048), np.float32), 'AuxLogits.conv0.conv.weight': np.zeros((1,), np.float32)}
  for key, leaf in jax.tree_util.tree_leaves_with_path(shapes):
    collection, *path, name = [str(k.key) for k in key]
    prefix = '.'.join(path)
    if name == 'kernel':
      kh, kw, cin, cout = leaf.shape
      state[f'{prefix}.weight'] = rng.normal(0, np.sqrt(2 / (kh * kw * cin)), (cout, cin, kh, kw)).astype(np.float32)
    else:
      torch_name = {'scale': 'weight', 'bias': 'bias', 'mean': 'running_mean', 'var': 'running_var'}[name]
      value = {'scale': 1.0, 'bias': 0.0, 'mean': 0.0, 'var': 1.0}[name] + rng.uniform(0, 0.1, leaf.shape)
      state[f'{prefix}.{torch_name}'] = value.astype(np.float32)
      state[f'{prefix}.num_batches_tracked'] = np.zeros((), np.float32)
  return state


def test_converted_random_weights_give_features_and_a_zero_fid_of_a_set_with_itself(tmp_path):
  state = random_inception_state()
  save_file(state, str(tmp_path / 'inception.safetensors'))
  assert convert_inception.convert(tmp_path / 'inception.safetensors', tmp_path / 'inception.npz') > 21_000_000
  variables = inception.load(tmp_path / 'inception.npz')
  np.testing.assert_array_equal(variables['params']['Mixed_7c']['branch_pool']['conv']['kernel'],
                                state['Mixed_7c.branch_pool.conv.weight'].transpose(2, 3, 1, 0))
  np.testing.assert_array_equal(variables['batch_stats']['Mixed_5b']['branch1x1']['bn']['var'],
                                state['Mixed_5b.branch1x1.bn.running_var'])
  features = fid.InceptionFeatures(tmp_path / 'inception.npz', batch=8, input_size=75)  # 299 is ~16x slower
  faces = np.stack([procedural_faces.render_face(i, size=32) for i in range(8)])  # one batch: one compile
  a = features(faces)
  assert a.shape == (8, 2048) and np.all(np.isfinite(a))
  assert abs(fid.frechet_distance(a, a)) < 1e-3 * max(1.0, float(np.sum(a.var(0))))
  noise = features(np.random.default_rng(0).integers(0, 255, faces.shape, np.uint8))
  assert fid.frechet_distance(a, noise) > 0


def test_missing_or_mismatched_inception_files_are_named(tmp_path):
  with pytest.raises(FileNotFoundError, match='convert_inception'):
    inception.load(tmp_path / 'none.npz')
  np.savez(tmp_path / 'bad.npz', x=np.zeros(1))
  with pytest.raises(ValueError, match=r"does not hold the arrays expected: missing \['batch_stats/Conv2d_1a_3x3"):
    inception.load(tmp_path / 'bad.npz')


def pytorch_fid_frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
  """pytorch-fid's `calculate_frechet_distance` (mseitzer/pytorch-fid, src/pytorch_fid/fid_score.py), written out
  so the comparison runs without torch: scipy's general matrix square root of sigma1 sigma2, an eps offset when
  it is singular, its real part."""
  import scipy.linalg
  covmean = scipy.linalg.sqrtm(sigma1.dot(sigma2))
  if not np.isfinite(covmean).all():
    offset = np.eye(sigma1.shape[0]) * eps
    covmean = scipy.linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
  covmean = covmean.real
  diff = mu1 - mu2
  return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)


@pytest.mark.parametrize('samples', [400, 48])  # full-rank covariances, and fewer samples than dimensions
def test_frechet_distance_equals_pytorch_fids_computation(samples):
  rng = np.random.default_rng(samples)
  mix = rng.normal(size=(64, 64)) / 8  # correlated features, as Inception's are
  a = rng.normal(size=(samples, 64)) @ mix
  b = rng.normal(size=(samples, 64)) @ mix * 1.3 + 0.2
  stats = [(x.mean(0), np.cov(x, rowvar=False)) for x in (a, b)]
  expected = pytorch_fid_frechet_distance(*stats[0], *stats[1])
  try:  # the package itself, where it is installed (it needs torch)
    from pytorch_fid.fid_score import calculate_frechet_distance
    np.testing.assert_allclose(calculate_frechet_distance(*stats[0], *stats[1]), expected, rtol=1e-6)
  except ImportError:
    pass
  np.testing.assert_allclose(fid.frechet_distance(a, b), expected, rtol=1e-4)


def test_kid_is_the_unbiased_polynomial_mmd():
  rng = np.random.default_rng(2)
  a, b = rng.normal(size=(60, 16)), rng.normal(size=(60, 16)) + 0.3
  k = lambda x, y: (x @ y.T / 16 + 1) ** 3  # noqa: E731  (Binkowski et al. 2018, eq. 4; d = 16 here)
  m = len(a)
  expected = ((k(a, a).sum() - np.trace(k(a, a))) / (m * (m - 1)) + (k(b, b).sum() - np.trace(k(b, b))) / (m * (m - 1))
              - 2 * k(a, b).mean())
  # One subset of every row: the estimator on the whole sets, whatever the order the rows are drawn in.
  assert fid.kernel_inception_distance(a, b, subsets=1, subset_size=m) == pytest.approx(expected, rel=1e-9)
