"""Degradations applied on the host, in numpy and PIL, to uint8 HWC images.

`real_world_lr` is the "unknown" degradation of the embedded dataset's real-LR companion: the H2L generator
never sees it, it has to learn it from unpaired samples, and evaluation can compare what it learned against it.
"""
import io

import numpy as np
from PIL import Image, ImageFilter


def real_world_lr(image, rng, scale=4):
  """Blur (sigma 0.6-1.8 px), area downscale by `scale`, Gaussian noise (2-10 / 255), JPEG (quality 30-80)."""
  pil = Image.fromarray(image).filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.8)))
  h, w = image.shape[:2]
  pil = pil.resize((w // scale, h // scale), Image.BOX)
  noisy = np.asarray(pil, np.float32) + rng.normal(0.0, rng.uniform(2.0, 10.0), (h // scale, w // scale, 3))
  pil = Image.fromarray(np.clip(noisy + 0.5, 0, 255).astype(np.uint8))
  buffer = io.BytesIO()
  pil.save(buffer, format='JPEG', quality=int(rng.integers(30, 81)))
  return np.asarray(Image.open(buffer).convert('RGB'))
