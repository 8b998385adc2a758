"""Finding and reading image files: every tool that reads a folder of photos finds them, and skips and reports
the ones it cannot decode, the same way."""
from pathlib import Path

from absl import logging
from PIL import Image

SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def find(root, pattern='**/*', required=True):
  """The image files under `root` matching `pattern` (default: at any depth), sorted; when there are none, an
  error naming the folder (or, not `required`, an empty list)."""
  files = sorted(p for p in Path(root).glob(pattern) if p.suffix.lower() in SUFFIXES)
  if required and not files:
    raise FileNotFoundError(f'no {"/".join(SUFFIXES)} files under {root}')
  return files


def read_rgb(path):
  """The image at `path` as an RGB PIL image (grayscale and palette images converted), or None, with a warning,
  when it cannot be decoded."""
  try:
    with Image.open(path) as image:
      return image.convert('RGB')
  except (OSError, ValueError, Image.DecompressionBombError) as e:
    logging.warning('skipping unreadable %s (%s)', path, e)
    return None
