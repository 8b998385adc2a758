import jax.numpy as jnp
import numpy as np
import pytest
from skimage.color import rgb2ycbcr
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from jaxsr.core import losses, metrics


def _pair(seed, noise, shape=(3, 40, 40, 3)):
  rng = np.random.default_rng(seed)
  x = rng.uniform(0, 1, shape).astype(np.float32)
  return x, np.clip(x + rng.normal(0, noise, shape), 0, 1).astype(np.float32)


def _skimage_ssim(a, b, **kwargs):
  return np.mean([structural_similarity(p, q, data_range=1, gaussian_weights=True, sigma=1.5,
                                        use_sample_covariance=False, **kwargs) for p, q in zip(a, b)])


def test_rgb_psnr_and_ssim_match_scikit_image():
  x, y = _pair(0, 0.1)
  assert float(metrics.psnr(x * 2 - 1, y * 2 - 1)) == pytest.approx(
      np.mean([peak_signal_noise_ratio(p, q, data_range=1) for p, q in zip(x, y)]), abs=1e-4)
  assert float(metrics.ssim(x * 2 - 1, y * 2 - 1)) == pytest.approx(_skimage_ssim(x, y, channel_axis=-1), abs=1e-5)


def test_y_channel_metrics_match_scikit_image_with_border_crop():
  x, y = _pair(1, 0.05)
  border = 4
  crop = lambda z: rgb2ycbcr(z)[:, border:-border, border:-border, 0] / 255.0  # noqa: E731
  assert float(metrics.psnr_y(x * 2 - 1, y * 2 - 1, border)) == pytest.approx(
      np.mean([peak_signal_noise_ratio(p, q, data_range=1) for p, q in zip(crop(x), crop(y))]), abs=1e-4)
  assert float(metrics.ssim_y(x * 2 - 1, y * 2 - 1, border)) == pytest.approx(_skimage_ssim(crop(x), crop(y)),
                                                                               abs=1e-5)


def test_luma_spans_the_bt601_studio_range():
  white, black = jnp.ones((1, 1, 1, 3)), -jnp.ones((1, 1, 1, 3))
  assert float(metrics.luma(white)[0, 0, 0, 0]) * 255 == pytest.approx(235.0, abs=1e-3)
  assert float(metrics.luma(black)[0, 0, 0, 0]) * 255 == pytest.approx(16.0, abs=1e-3)


def test_ssim_is_one_for_identical_images_and_falls_with_noise():
  x, _ = _pair(2, 0.0)
  x = x * 2 - 1
  assert float(metrics.ssim(x, x)) == pytest.approx(1.0, abs=1e-6)
  assert float(losses.dssim(x, x)) == pytest.approx(0.0, abs=1e-6)
  scores = [float(metrics.ssim(x * 2 - 1, y * 2 - 1)) for x, y in (_pair(2, s) for s in (0.02, 0.1, 0.3))]
  assert scores[0] > scores[1] > scores[2]


def test_quantize_rounds_to_8_bit_levels():
  x = jnp.array([-1.0, -0.999, 0.0, 0.5, 1.2])
  levels = (np.asarray(metrics.quantize(x)) + 1) * 127.5
  np.testing.assert_allclose(levels, np.round(levels), atol=1e-4)
  assert levels[0] == 0 and levels[-1] == pytest.approx(255)
