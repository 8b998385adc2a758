"""HR -> LR degradations, applied on the host with PIL to uint8 HWC images; each is f(image, rng, scale).

- `bicubic`: PIL's antialiased bicubic resize (the support widens with the factor, like MATLAB's imresize), the
  usual synthetic pairs and the baseline every SR table compares against;
- `area`: the mean of each scale x scale block (srez's input);
- `bilinear`: bilinear without antialiasing (TensorFlow's `tf.image.resize` default; DCGAN-SR's input): for an
  even factor, the mean of the central 2x2 pixels of each block;
- `blur_noise_jpeg`: Gaussian blur, area downscale, Gaussian noise and JPEG, each of random strength. It is also
  the "unknown" degradation of the embedded dataset's real-LR companion: the H2L generator never sees it, it has
  to learn it from unpaired samples, and evaluation compares what it learned against it.
"""
import io

import numpy as np
from PIL import Image, ImageFilter


def _resize(image, scale, resample):
  h, w = image.shape[:2]
  if h % scale or w % scale:
    raise ValueError(f'a {w}x{h} image does not downscale evenly by {scale}')
  return np.asarray(Image.fromarray(image).resize((w // scale, h // scale), resample))


def bicubic(image, rng=None, scale=4):
  """PIL Image.resize(BICUBIC): antialiased, a = -0.5."""
  del rng
  return _resize(image, scale, Image.BICUBIC)


def area(image, rng=None, scale=4):
  """PIL Image.resize(BOX): the mean of each block."""
  del rng
  return _resize(image, scale, Image.BOX)


def _bilinear_weights(size, scale):
  """(size // scale, size) weights of half-pixel-centred linear interpolation, no antialiasing."""
  src = (np.arange(size // scale) + 0.5) * scale - 0.5
  low = np.floor(src).astype(int)
  frac = src - low
  weights = np.zeros((size // scale, size))
  weights[np.arange(len(src)), low] += 1.0 - frac
  weights[np.arange(len(src)), np.minimum(low + 1, size - 1)] += frac
  return weights


def bilinear(image, rng=None, scale=4):
  """tf.image.resize(image, size // scale, 'bilinear') with its default antialias=False, rounded to 8 bits."""
  del rng
  h, w = image.shape[:2]
  if h % scale or w % scale:
    raise ValueError(f'a {w}x{h} image does not downscale evenly by {scale}')
  small = np.einsum('ih,jw,hwc->ijc', _bilinear_weights(h, scale), _bilinear_weights(w, scale),
                    image.astype(np.float64))
  return np.clip(np.round(small), 0, 255).astype(np.uint8)


def blur_noise_jpeg(image, rng, scale=4):
  """Blur (sigma 0.6-1.8 px), area downscale by `scale`, Gaussian noise (2-10 / 255), JPEG (quality 30-80)."""
  blurred = np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.8))))
  small = area(blurred, scale=scale)
  noisy = small.astype(np.float32) + rng.normal(0.0, rng.uniform(2.0, 10.0), small.shape)
  buffer = io.BytesIO()
  Image.fromarray(np.clip(noisy + 0.5, 0, 255).astype(np.uint8)).save(buffer, format='JPEG',
                                                                      quality=int(rng.integers(30, 81)))
  return np.asarray(Image.open(buffer).convert('RGB'))


DEGRADATIONS = {'bicubic': bicubic, 'area': area, 'bilinear': bilinear, 'blur_noise_jpeg': blur_noise_jpeg}


def get(name):
  if name not in DEGRADATIONS:
    raise ValueError(f"config.degradation: unknown '{name}'; known: {', '.join(DEGRADATIONS)}, and for paired "
                     "methods 'h2l' (a trained H2L's) and 'dataset' (a paired_folder dataset's own LR faces)")
  return DEGRADATIONS[name]


def upscale_bicubic(image, scale):
  """The baseline: PIL bicubic enlargement of a uint8 image (what anyone gets with Image.resize)."""
  h, w = image.shape[:2]
  return np.asarray(Image.fromarray(image).resize((w * scale, h * scale), Image.BICUBIC))
