"""Conversions between stored uint8 images and the float [-1, 1] images networks see, and image grids."""
import jax.numpy as jnp
import numpy as np


def to_float(images):
  """uint8 [0, 255] -> float32 [-1, 1], on the device."""
  return images.astype(jnp.float32) / 127.5 - 1.0


def to_uint8(images):
  """float [-1, 1] -> uint8 [0, 255], on the host."""
  return np.clip((np.asarray(images, np.float32) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


def grid(columns, rows=8, pad=2):
  """One uint8 image: a row per sample, a column per entry of `columns` (name -> (N, h, w, 3) in [-1, 1]).

  Smaller images are enlarged by pixel repetition to the largest size, so LR pixels stay visible.
  """
  size = max(v.shape[1] for v in columns.values())
  tiles = []
  for images in columns.values():
    images = to_uint8(images[:rows])
    factor = size // images.shape[1]
    tiles.append(images.repeat(factor, axis=1).repeat(factor, axis=2))
  n = min(len(t) for t in tiles)
  out = np.full((n * (size + pad) + pad, len(tiles) * (size + pad) + pad, 3), 255, np.uint8)
  for c, images in enumerate(tiles):
    for r in range(n):
      y, x = pad + r * (size + pad), pad + c * (size + pad)
      out[y:y + size, x:x + size] = images[r]
  return out
