"""Finding and reading image files: every tool that reads a folder of photos (data.build, evaluate, upscale,
data.prepare) finds them, orients them, and skips and reports the ones it cannot use, the same way."""
import collections
import os
from pathlib import Path

import numpy as np
from absl import logging
from PIL import Image, ImageOps

SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff', '.gif')  # a GIF's first frame


def find(root, required=True, depth=None):
  """The image files under `root` (at any depth, or only `depth` folders down), sorted, following symlinked
  folders (once each); when there are none, an error naming the folder (or, not `required`, an empty list). What
  is left out is counted in the log: files of other types by suffix, and entries with an image suffix that are not
  regular files (a pipe named .png would hang the reader)."""
  root = Path(root).expanduser()
  files, others, special, seen = [], collections.Counter(), 0, set()
  for folder, subfolders, names in os.walk(root, followlinks=True):
    real = os.path.realpath(folder)
    if real in seen:  # a link back up the tree
      subfolders.clear()
      continue
    seen.add(real)
    level = len(Path(folder).relative_to(root).parts)
    if depth is not None and level >= depth:
      subfolders.clear()
    if depth is not None and level != depth:
      continue
    for name in names:
      path = Path(folder, name)
      if path.suffix.lower() not in SUFFIXES:
        others[path.suffix.lower() or '(none)'] += 1
      elif path.is_file():
        files.append(path)
      else:
        special += 1
  if others or special:
    logging.info('%s: left out %s', root, ', '.join(
        [f'{n} {suffix} files' for suffix, n in others.most_common()] +
        ([f'{special} entries named as images that are not regular files'] if special else [])))
  if required and not files:
    raise FileNotFoundError(f'no {"/".join(SUFFIXES)} files under {root}')
  return sorted(files)


# PIL's modes for 16- and 32-bit integer pixels (16-bit grayscale PNGs, TIFFs): convert('RGB') would clip every
# value over 255 to white, so they are scaled from 16 bits instead.
WIDE_MODES = ('I;16', 'I;16L', 'I;16B', 'I;16N', 'I')


BACKGROUND = (255, 255, 255)  # what transparent pixels become: what viewers show, not their hidden colour


def to_rgb(image):
  """An RGB PIL image of any PIL image: turned upright by its EXIF orientation (phone photos), grayscale and
  palette converted, 16-bit grayscale scaled to 8 bits, transparency composited over BACKGROUND."""
  image = ImageOps.exif_transpose(image)
  if image.mode in WIDE_MODES:
    pixels = np.asarray(image, np.float64) / 257.0  # 65535 -> 255
    image = Image.fromarray(np.clip(np.round(pixels), 0, 255).astype(np.uint8), 'L')
  if image.mode in ('RGBA', 'LA', 'PA') or (image.mode == 'P' and 'transparency' in image.info):
    rgba = image.convert('RGBA')
    return Image.alpha_composite(Image.new('RGBA', rgba.size, (*BACKGROUND, 255)), rgba).convert('RGB')
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
