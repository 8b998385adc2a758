"""Training-time augmentation of HR faces beyond flips, as an original recipe does it.

srez (david-gpu/srez, srez_input.py) jitters every CelebA photo before cropping: saturation x U(0.95, 1.05),
brightness + U(-0.05, 0.05), contrast x U(0.95, 1.05) about each channel's mean (tf.image's random_saturation,
random_brightness, random_contrast, in that order), then a 128 px crop moved by up to +-8 px, resized to 64. jaxsr's
faces are stored cropped, so the move is `shift` px of the stored face (4 at 64 px is srez's 8 at 128) with its edge
rows and columns repeated into the uncovered border; the colour steps run on [0, 1] floats and round once (TF
rounds to uint8 after each).
"""
import numpy as np
from PIL import Image

JITTERS = ('', 'srez')


def srez_jitter(hr, rng, shift):
  """uint8 (H, W, 3) -> uint8 (H, W, 3): srez's colour jitter, then a translation by up to `shift` px each way."""
  hsv = np.asarray(Image.fromarray(hr).convert('HSV'), np.float32)
  hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.95, 1.05), 0, 255)
  x = np.asarray(Image.fromarray(np.round(hsv).astype(np.uint8), 'HSV').convert('RGB'), np.float32) / 255.0
  x = np.clip(x + rng.uniform(-0.05, 0.05), 0, 1)
  mean = x.mean(axis=(0, 1), keepdims=True)
  x = np.clip((x - mean) * rng.uniform(0.95, 1.05) + mean, 0, 1)
  x = np.round(x * 255).astype(np.uint8)
  if shift:
    h, w, _ = x.shape
    dy, dx = rng.integers(0, 2 * shift + 1, size=2)
    x = np.pad(x, ((shift, shift), (shift, shift), (0, 0)), mode='edge')[dy:dy + h, dx:dx + w]
  return np.ascontiguousarray(x)


def get(name, shift=0):
  """The augmentation config.jitter names: None for '' (none), else a function (uint8 hr, numpy rng) -> hr."""
  if name not in JITTERS:
    raise ValueError(f"config.jitter: unknown '{name}' (known: {', '.join(repr(j) for j in JITTERS)})")
  if not name:
    return None
  return lambda hr, rng: srez_jitter(hr, rng, shift)
