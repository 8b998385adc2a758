"""Conversions between stored uint8 images and the float [-1, 1] images networks see, and image grids."""
import math

import jax.numpy as jnp
import numpy as np
from PIL import Image, ImageDraw, ImageFont


def to_float(images):
  """uint8 [0, 255] -> float32 [-1, 1], on the device."""
  return images.astype(jnp.float32) / 127.5 - 1.0


def to_uint8(images):
  """float [-1, 1] -> uint8 [0, 255], on the host."""
  return np.clip((np.asarray(images, np.float32) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


def grid(columns, rows=8, pad=2, title='', by_row=False):
  """One labelled uint8 image of up to `rows` samples of each entry of `columns` (name -> (N, h, w, 3) in [-1, 1]):
  a column per entry, named above it (by_row: a row per entry, named at its left), under a `title` line. Keys
  that are not strings (indices) are left unlabelled.

  Smaller images are enlarged by pixel repetition to the largest size, so LR pixels stay visible.
  """
  size = max(v.shape[1] for v in columns.values())
  tiles = []
  for images in columns.values():
    images = to_uint8(images[:rows])
    factor = size // images.shape[1]
    tiles.append(images.repeat(factor, axis=1).repeat(factor, axis=2))
  n = min(len(t) for t in tiles)
  font = ImageFont.load_default()
  line = _LINE_HEIGHT
  labels = [name if isinstance(name, str) else '' for name in columns]  # other keys (indices) are not names
  names = [_wrapped(label, font, size) if label else [] for label in labels]
  label_width = max(_text_width(label, font) for label in labels) + 2 * pad if by_row and any(labels) else 0
  header = (line if title else 0) + (0 if by_row else max(len(lines) for lines in names) * line)
  cells = (len(tiles), n) if by_row else (n, len(tiles))  # (grid rows, grid columns)
  out = np.full((header + cells[0] * (size + pad) + pad, label_width + cells[1] * (size + pad) + pad, 3), 255,
                np.uint8)
  for c, images in enumerate(tiles):
    for r in range(n):
      row, col = (c, r) if by_row else (r, c)
      y, x = header + pad + row * (size + pad), label_width + pad + col * (size + pad)
      out[y:y + size, x:x + size] = images[r]
  image = Image.fromarray(out)
  draw = ImageDraw.Draw(image)
  if title:
    draw.text((pad, 1), title, fill=(0, 0, 0), font=font)
  for c, (name, lines) in enumerate(zip(labels, names)):
    if by_row:
      draw.text((pad, header + pad + c * (size + pad) + (size - line) // 2), name, fill=(0, 0, 0), font=font)
    else:
      for i, text in enumerate(lines):
        draw.text((pad + c * (size + pad), (line if title else 0) + i * line), text, fill=(0, 0, 0), font=font)
  return np.asarray(image)


_LINE_HEIGHT = 12  # PIL's default font is 11 px tall


def _text_width(text, font):
  return int(math.ceil(ImageDraw.Draw(Image.new('RGB', (1, 1))).textlength(text, font=font)))


def _wrapped(text, font, width):
  """`text` in lines of at most `width` pixels, broken at spaces (a word wider than that stands alone)."""
  lines = []
  for word in text.split(' '):
    if lines and _text_width(f'{lines[-1]} {word}', font) <= width:
      lines[-1] = f'{lines[-1]} {word}'
    else:
      lines.append(word)
  return lines
