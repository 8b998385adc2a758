"""Faces aligned by their five landmarks, and put back: what `jaxsr.data.prepare` makes HR faces with, and what
`jaxsr.upscale` cuts faces out of whole photos and pastes them back with.

Coordinates: landmarks are pixel indices (x, y), as MTCNN and CelebA's landmark files give them; matrices map
continuous coordinates, (0, 0) at the top-left corner of the top-left pixel, which are what PIL's affine transform
samples (a pixel index i is the continuous point i + 0.5).
"""
import numpy as np
from PIL import Image

# CelebA's mean aligned landmarks (178x218 photos), in the 64x64 celeba_hr crop (half size, box 12,22,64,64), as
# fractions of the side: HR faces from wild photos line up with celeba_hr faces.
TEMPLATE = np.array([[0.352, 0.523], [0.648, 0.531], [0.5, 0.711], [0.375, 0.844], [0.625, 0.844]], np.float32)


def similarity(source, target):
  """The 2x3 similarity transform (rotation, uniform scale, shift) taking `source` points closest to `target`,
  in the least-squares sense (Umeyama 1991)."""
  mu_s, mu_t = source.mean(0), target.mean(0)
  s, t = source - mu_s, target - mu_t
  u, d, vt = np.linalg.svd(t.T @ s / len(source))
  sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
  rotation = u @ sign @ vt
  scale = np.trace(np.diag(d) @ sign) / s.var(0).sum()
  return np.hstack([scale * rotation, (mu_t - scale * rotation @ mu_s)[:, None]])


def to_template(landmarks, side):
  """The 2x3 matrix taking a photo's continuous coordinates to those of the side x side face aligned to TEMPLATE."""
  return similarity(np.asarray(landmarks, np.float64) + 0.5, TEMPLATE.astype(np.float64) * side + 0.5)


def scale_of(matrix):
  """How many units of a matrix's output one unit of its input spans."""
  return float(np.sqrt(abs(np.linalg.det(np.asarray(matrix)[:, :2]))))


def apply(matrix, points):
  """(n, 2) points moved by a 2x3 matrix."""
  return points @ np.asarray(matrix)[:, :2].T + np.asarray(matrix)[:, 2]


def invert(matrix):
  return np.linalg.inv(np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]


def compose(outer, inner):
  """The 2x3 matrix of `outer` applied after `inner`."""
  return (np.vstack([outer, [0.0, 0.0, 1.0]]) @ np.vstack([inner, [0.0, 0.0, 1.0]]))[:2]


def warp(image, matrix, size, resample=Image.BICUBIC):
  """`image` (PIL) resampled onto a canvas of `size` (width, height) whose point q shows the image's point
  matrix @ (q, 1). Where that shrinks the image by 2 or more, it is first reduced by an integer box filter, so the
  interpolation kernel never skips pixels."""
  matrix = np.asarray(matrix, np.float64)
  factor = int(scale_of(matrix))
  if factor > 1:
    image, matrix = image.reduce(factor), matrix / factor
  return image.transform(tuple(size), Image.AFFINE, matrix.ravel().tolist(), resample)


def align(image, landmarks, size):
  """A PIL image and its (5, 2) landmarks -> (size x size uint8 face aligned to TEMPLATE, its landmarks)."""
  matrix = to_template(landmarks, size)
  aligned = warp(image, invert(matrix), (size, size))
  return np.asarray(aligned), (apply(matrix, np.asarray(landmarks) + 0.5) - 0.5).astype(np.float32)
