"""Finding and reading image files: every tool that reads a folder of photos finds them, and skips and reports
the ones it cannot decode, the same way."""
from pathlib import Path

import numpy as np
from absl import logging
from PIL import Image

SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def find(root, pattern='**/*', required=True):
  """The image files under `root` matching `pattern` (default: at any depth), sorted; when there are none, an
  error naming the folder (or, not `required`, an empty list)."""
  files = sorted(p for p in Path(root).expanduser().glob(pattern) if p.suffix.lower() in SUFFIXES)
  if required and not files:
    raise FileNotFoundError(f'no {"/".join(SUFFIXES)} files under {root}')
  return files


# PIL's modes for 16- and 32-bit integer pixels (16-bit grayscale PNGs, TIFFs): convert('RGB') would clip every
# value over 255 to white, so they are scaled from 16 bits instead.
WIDE_MODES = ('I;16', 'I;16L', 'I;16B', 'I;16N', 'I')


def to_rgb(image):
  """An RGB PIL image of any PIL image: grayscale and palette converted, 16-bit grayscale scaled to 8 bits."""
  if image.mode in WIDE_MODES:
    pixels = np.asarray(image, np.float64) / 257.0  # 65535 -> 255
    image = Image.fromarray(np.clip(np.round(pixels), 0, 255).astype(np.uint8), 'L')
  return image.convert('RGB')


def read_rgb(path):
  """The image at `path` as an RGB PIL image (see `to_rgb`), or None, with a warning, when it cannot be decoded.
  (PIL reads 16-bit-per-channel RGB PNGs as 8-bit RGB itself.)"""
  try:
    with Image.open(path) as image:
      return to_rgb(image)
  except (OSError, ValueError, Image.DecompressionBombError) as e:
    logging.warning('skipping unreadable %s (%s)', path, e)
    return None
