"""jaxsr.niqe: NIQE as the authors' MATLAB release computes it, held to BasicSR's port on images anyone can make;
its parts, fitting a model of smaller patches, and the files it reads."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from jaxsr.evaluation import niqe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'benchmarks'))
import niqe_parity

# BasicSR 1.4.2's calculate_niqe(convert_to='y') on niqe_parity.parity_images(), printed by
# `python benchmarks/niqe_parity.py --basicsr=basicsr-1.4.2/basicsr` (benchmarks/RESULTS.md).
BASICSR = {'face0': 13.3936, 'face0_blurred': 10.5399, 'face0_noisy': 12.7972,
           'face1': 13.7753, 'face1_blurred': 9.2439, 'face1_noisy': 12.6073,
           'face2': 12.4781, 'face2_blurred': 12.3174, 'face2_noisy': 15.3730}


@pytest.fixture(scope='module')
def parity_images():
  return niqe_parity.parity_images()


def test_scores_equal_basicsrs_port_of_the_matlab_release(parity_images):
  for name, image in parity_images.items():
    # BasicSR resizes in float32 (3e-5 grey levels from float64), which moves an AGGD shape by a grid step here
    # and there: the blurred images, whose second scale weighs most, differ by up to 0.07
    tolerance = 0.08 if name.endswith('blurred') else 0.01
    assert niqe.score(image) == pytest.approx(BASICSR[name], abs=tolerance), name


def test_aggd_recovers_the_shape_and_both_scales():
  rng = np.random.default_rng(0)
  assert niqe.aggd(rng.normal(size=200_000))[0] == pytest.approx(2.0, abs=0.05)
  assert niqe.aggd(rng.laplace(size=200_000))[0] == pytest.approx(1.0, abs=0.05)
  # an AGGD's halves hold beta_l / (beta_l + beta_r) and beta_r / (beta_l + beta_r) of the mass
  skewed = np.abs(rng.normal(size=200_000)) * np.where(rng.random(200_000) < 0.25, -1.0, 3.0)
  alpha, left, right = niqe.aggd(skewed)
  assert alpha == pytest.approx(2.0, abs=0.05) and right / left == pytest.approx(3.0, rel=0.02)


def test_half_is_matlabs_antialiased_bicubic_imresize():
  ramp = np.add.outer(np.arange(21.0), 2 * np.arange(30.0))  # y + 2x
  small = niqe.half(ramp)
  assert small.shape == (11, 15)  # ceil(n / 2)
  # the output pixel i (0-based) sits at input 2 i + 0.5; a cubic kernel reproduces a line away from the borders
  np.testing.assert_allclose(small[2:-2, 2:-2], np.add.outer(2 * np.arange(2, 9) + 0.5,
                                                             2 * (2 * np.arange(2, 13) + 0.5)), atol=1e-9)
  np.testing.assert_allclose(niqe.half(np.full((9, 8), 7.0)), 7.0)
  # at the mirrored borders: BasicSR's imresize (a port of MATLAB's) of the same ramp
  np.testing.assert_allclose(small[0, :3], [1.3476561, 5.4257812, 9.449218], atol=1e-5)
  np.testing.assert_allclose(small[-1, -3:], [68.984375, 73.007805, 77.08593], atol=1e-5)


def natural_texture(seed, size=128):
  """Grey 1/f noise, the power spectrum of natural scenes, as uint8 RGB."""
  rng = np.random.default_rng(seed)
  f = np.hypot(*np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size)))
  image = np.fft.ifft2(np.fft.fft2(rng.normal(size=(size, size))) / np.maximum(f, 1 / size)).real
  image = (image - image.mean()) / image.std() * 40 + 128
  return np.repeat(np.clip(np.round(image), 0, 255).astype(np.uint8)[..., None], 3, -1)


def test_a_model_fitted_to_sharp_textures_scores_them_lower_than_blurred_ones(tmp_path):
  clean = [natural_texture(k) for k in range(8)]
  blurred = [np.asarray(Image.fromarray(x).resize((32, 32), Image.BICUBIC).resize((128, 128), Image.BICUBIC))
             for x in clean]
  model = niqe.fit(clean[:6], patch=16)
  assert model.mean.shape == (36,) and model.cov.shape == (36, 36) and model.patch == 16
  assert niqe.score_set(clean[6:], model) < niqe.score_set(blurred[6:], model)  # images it was not fitted to
  model.save(tmp_path / 'm.npz')
  again = niqe.load(tmp_path / 'm.npz')
  np.testing.assert_array_equal(again.cov, model.cov)
  faces = [x[32:96, 32:96] for x in clean]  # 64 px: no 96 px patch, sixteen of 16
  with pytest.raises(ValueError, match='holds no 96 px patch; fit a model of smaller patches'):
    niqe.score(faces[0])
  assert np.isfinite(niqe.score_set(faces, model))
  with pytest.raises(ValueError, match='needs more than that'):
    niqe.fit(faces[:1], patch=32)


def test_model_files_are_read_without_unpickling_and_checked(tmp_path):
  pristine = niqe.default_model()
  assert pristine.patch == 96 and np.allclose(pristine.cov, pristine.cov.T)
  np.save(tmp_path / 'objects.npy', np.array([{'mean': 1}], dtype=object), allow_pickle=True)
  with pytest.raises(ValueError, match='pickled'):
    niqe.load(tmp_path / 'objects.npy')
  np.savez(tmp_path / 'short.npz', mean=np.zeros(18), cov=np.eye(36), patch=np.array(32))
  with pytest.raises(ValueError, match=r'mean is \(18,\), expected \(36,\)'):
    niqe.load(tmp_path / 'short.npz')
  np.savez(tmp_path / 'odd.npz', mean=np.zeros(36), cov=np.eye(36), patch=np.array(33))
  with pytest.raises(ValueError, match='even side'):
    niqe.load(tmp_path / 'odd.npz')


def test_command_line_fits_a_model_and_scores_a_folder(tmp_path):
  textures = {f't{k}': natural_texture(k, size=192) for k in range(4)}
  for name, image in textures.items():
    Image.fromarray(image).save(tmp_path / f'{name}.png')
  run = lambda *args: subprocess.run([sys.executable, '-m', 'jaxsr.niqe', f'--images={tmp_path}', *args],  # noqa: E731
                                     capture_output=True, text=True, timeout=300)
  fitted = run('--fit', '--patch=32', f'--out={tmp_path / "textures.npz"}')
  assert fitted.returncode == 0, fitted.stderr[-2000:]
  scored = run(f'--model={tmp_path / "textures.npz"}', '--as_set')
  assert json.loads(scored.stdout.splitlines()[-1]) == pytest.approx(
      {'images': 4, 'niqe': niqe.score_set(list(textures.values()), niqe.load(tmp_path / 'textures.npz'))})
  each = run()  # the release's model, four 96 px patches an image
  assert json.loads(each.stdout.splitlines()[-1])['mean_niqe'] == pytest.approx(
      np.mean([niqe.score(x) for x in textures.values()]), abs=1e-3)
  refused = run('--fit', '--patch=31', f'--out={tmp_path / "odd.npz"}')
  assert refused.returncode == 2 and 'give an even side' in refused.stderr
