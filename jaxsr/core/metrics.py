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


def luma_8bit(x):
  """`luma` truncated to 8 bits (an integer Y image, as some papers' evaluation code stores it; FSRNet's)."""
  return jnp.floor(luma(x) * 255.0) / 255.0


def psnr_y(x, y, border=0, truncate=False):
  """PSNR of the Y channel (peak 1) after cropping `border` pixels; `truncate`: of `luma_8bit`."""
  to_y = luma_8bit if truncate else luma
  x, y = crop_border(to_y(x), border), crop_border(to_y(y), border)
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


def ssim_y(x, y, border=0, truncate=False):
  """SSIM of the Y channel (data range 1) after cropping `border` pixels; `truncate`: of `luma_8bit`."""
  to_y = luma_8bit if truncate else luma
  return jnp.mean(_ssim_per_image(crop_border(to_y(x), border), crop_border(to_y(y), border), 1.0))


def fidelity(x, y, border):
  """PSNR and SSIM on RGB and on Y with `border` px cropped, of images x against ground truth y: the columns every
  evaluation reports (training's, the VAEs', jaxsr.evaluate's)."""
  return {'psnr': psnr(x, y), 'ssim': ssim(x, y), 'psnr_y': psnr_y(x, y, border), 'ssim_y': ssim_y(x, y, border)}


def per_image(metric, *images):
  """metric(*images) for each image of the batch alone: (N,) values of a batch-mean metric."""
  return jax.vmap(lambda *x: metric(*(y[None] for y in x)))(*images)


def quantize(x):
  """Rounds [-1, 1] images to the 256 levels of a saved 8-bit image, so metrics match what a file would give."""
  return jnp.round((jnp.clip(_f32(x), -1.0, 1.0) + 1.0) * 127.5) / 127.5 - 1.0


def _f32(x):
  return jnp.asarray(x).astype(jnp.float32)


def bicubic_resize(x, size):
  """Antialiased bicubic resize of (N, H, W, C) to (size, size): Keys a = -0.5 with the kernel widened by the
  downscale factor, the filter PIL's Image.resize(BICUBIC) uses."""
  return jax.image.resize(_f32(x), (x.shape[0], size, size, x.shape[-1]), 'bicubic', antialias=True)


def lr_consistency(sr, lr):
  """PSNR between the bicubic downscale of each output and its input: does the output explain its input?
  Needs no ground truth, so it applies to real low-resolution faces."""
  return psnr(bicubic_resize(sr, lr.shape[1]), lr)


_BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0], np.float32) / 16.0


def _binomial_blur(x):
  """5x5 binomial filter with edge padding, every channel alone."""
  n, h, w, c = x.shape
  z = jnp.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), mode='edge').transpose(0, 3, 1, 2).reshape(n * c, 1, h + 4, w + 4)
  k = jnp.asarray(_BINOMIAL)
  z = jax.lax.conv_general_dilated(z, k.reshape(1, 1, 5, 1), (1, 1), 'VALID', precision='highest')
  z = jax.lax.conv_general_dilated(z, k.reshape(1, 1, 1, 5), (1, 1), 'VALID', precision='highest')
  return z.reshape(n, c, h, w).transpose(0, 2, 3, 1)


def laplacian_pyramid(x, levels):
  """[band-pass at full size, band-pass at 1/2, ..., Gaussian low-pass at 1/2^(levels-1)] (Burt & Adelson 1983)."""
  pyramid = []
  for _ in range(levels - 1):
    down = _binomial_blur(x)[:, ::2, ::2]
    up = _binomial_blur(jnp.zeros_like(x).at[:, ::2, ::2].set(down) * 4.0)
    pyramid.append(x - up)
    x = down
  return pyramid + [x]


def _patches(x, rng, count, size=7):
  """`count` random size x size patches of every image, flattened: (N * count, size * size * C)."""
  n, h, w, c = x.shape
  ys, xs = (jax.random.randint(k, (n, count), 0, d - size + 1) for k, d in zip(jax.random.split(rng), (h, w)))

  def one_image(image, ys, xs):
    return jax.vmap(lambda y, x: jax.lax.dynamic_slice(image, (y, x, 0), (size, size, c)))(ys, xs)

  return jax.vmap(one_image)(x, ys, xs).reshape(n * count, size * size * c)


def _sliced_wasserstein(a, b, rng, projections=512):
  """Mean over random unit directions of the 1-D Wasserstein-1 distance between the projected sets."""
  directions = jax.random.normal(rng, (a.shape[1], projections))
  directions = directions / jnp.linalg.norm(directions, axis=0, keepdims=True)
  pa, pb = _sort_columns(a @ directions), _sort_columns(b @ directions)
  return jnp.mean(jnp.abs(pa - pb))


def _sort_columns(x):
  """jnp.sort(x, axis=0); on a CPU through NumPy, whose sort is some 30x faster than XLA:CPU's (a 76,416 x 512
  float32 array, the SWD of 597 faces: 1.3 s against 36 s on 2 cores)."""
  if jax.default_backend() != 'cpu':
    return jnp.sort(x, axis=0)
  return jax.pure_callback(lambda v: np.sort(v, axis=0), jax.ShapeDtypeStruct(x.shape, x.dtype), x)


def swd(x, y, rng, levels=3, patches_per_image=128):
  """Sliced Wasserstein distance between two image sets of the same size (Karras et al., ICLR 2018), x 1e3.

  Each set becomes 7x7 patches of every level of its Laplacian pyramid (64, 32 and 16 px for 64x64 faces),
  normalised per level and channel by that set's own mean and std; the distance is averaged over levels.
  Needs no pretrained network. Returns (average, [per level]).
  """
  if x.shape != y.shape:
    raise ValueError(f'swd compares equal-sized sets, got {x.shape} and {y.shape}')
  per_level = []
  keys = jax.random.split(rng, levels)
  for level, (px, py) in enumerate(zip(laplacian_pyramid(_f32(x), levels), laplacian_pyramid(_f32(y), levels))):
    patch_key, projection_key = jax.random.split(keys[level])
    a, b = _patches(px, patch_key, patches_per_image), _patches(py, patch_key, patches_per_image)
    a, b = (_normalise_channels(d, px.shape[-1]) for d in (a, b))
    per_level.append(1e3 * _sliced_wasserstein(a, b, projection_key))
  return jnp.mean(jnp.stack(per_level)), per_level


def _normalise_channels(descriptors, channels):
  d = descriptors.reshape(descriptors.shape[0], -1, channels)
  d = (d - d.mean(axis=(0, 1))) / (d.std(axis=(0, 1)) + 1e-8)
  return d.reshape(descriptors.shape[0], -1)
