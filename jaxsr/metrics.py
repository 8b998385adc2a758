"""Image quality metrics on float images in [-1, 1], each a mean over the batch (float32 scalars).

The papers' convention for super-resolution (SRGAN, EDSR, RefSR-VAE) is PSNR and SSIM on the luma channel Y of
ITU-R BT.601 with `border` pixels (usually the scale) cropped from every side; the RGB versions average the three
channels. SSIM is Wang et al. (2004): an 11-tap Gaussian window of sigma 1.5, K1 = 0.01, K2 = 0.03, over the
positions where the whole window fits, as scikit-image's
`structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)` (tested against it).
"""
import jax
import jax.numpy as jnp
import numpy as np


def psnr(x, y):
  """10 log10(peak^2 / MSE) with peak = 2 for [-1, 1] images (the same number as on [0, 1] with peak 1)."""
  mse = jnp.mean(jnp.square(_f32(x) - _f32(y)), axis=(1, 2, 3))
  return jnp.mean(10.0 * jnp.log10(4.0 / jnp.maximum(mse, 1e-10)))


def luma(x):
  """RGB in [-1, 1] -> BT.601 Y in [16, 235] / 255, as MATLAB's rgb2ycbcr; shape (N, H, W, 1), on [0, 1]."""
  rgb = (_f32(x) + 1.0) / 2.0
  return (16.0 + rgb @ jnp.array([65.481, 128.553, 24.966])[:, None]) / 255.0


def crop_border(x, border):
  return x[:, border:x.shape[1] - border, border:x.shape[2] - border] if border else x


def psnr_y(x, y, border=0):
  """PSNR of the Y channel (peak 1) after cropping `border` pixels."""
  x, y = crop_border(luma(x), border), crop_border(luma(y), border)
  mse = jnp.mean(jnp.square(x - y), axis=(1, 2, 3))
  return jnp.mean(10.0 * jnp.log10(1.0 / jnp.maximum(mse, 1e-10)))


def _gaussian_window(size=11, sigma=1.5):
  t = np.arange(size, dtype=np.float64) - (size - 1) / 2
  w = np.exp(-t ** 2 / (2 * sigma ** 2))
  return (w / w.sum()).astype(np.float32)


def _ssim_per_image(x, y, data_range):
  """x, y: (N, H, W, C) on [0, data_range]. SSIM averaged over positions and channels."""
  window = jnp.asarray(_gaussian_window())

  def blur(z):  # separable 'valid' Gaussian filter over H and W, every channel alone
    n, h, w, c = z.shape
    z = z.transpose(0, 3, 1, 2).reshape(n * c, 1, h, w)
    z = jax.lax.conv_general_dilated(z, window.reshape(1, 1, -1, 1), (1, 1), 'VALID', precision='highest')
    z = jax.lax.conv_general_dilated(z, window.reshape(1, 1, 1, -1), (1, 1), 'VALID', precision='highest')
    return z.reshape(n, c, z.shape[2], z.shape[3])

  c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
  mx, my = blur(x), blur(y)
  sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
  ssim_map = (2 * mx * my + c1) * (2 * sxy + c2) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
  return ssim_map.mean(axis=(1, 2, 3))


def ssim(x, y):
  """SSIM over RGB (channels averaged), measured on [0, 1]: its luminance term is not shift-invariant."""
  return jnp.mean(_ssim_per_image((_f32(x) + 1.0) / 2.0, (_f32(y) + 1.0) / 2.0, 1.0))


def ssim_y(x, y, border=0):
  """SSIM of the Y channel (data range 1) after cropping `border` pixels."""
  return jnp.mean(_ssim_per_image(crop_border(luma(x), border), crop_border(luma(y), border), 1.0))


def quantize(x):
  """Rounds [-1, 1] images to the 256 levels of a saved 8-bit image, so metrics match what a file would give."""
  return jnp.round((jnp.clip(_f32(x), -1.0, 1.0) + 1.0) * 127.5) / 127.5 - 1.0


def _f32(x):
  return jnp.asarray(x).astype(jnp.float32)
