"""Face boxes and five landmarks: from MTCNN (Zhang et al. 2016; `mtcnn.detector`, in JAX with the weights of
the `mtcnn` package) or from a landmarks file that comes with a dataset."""
import dataclasses
from pathlib import Path

import numpy as np
from absl import logging

LANDMARKS = 5
KEYPOINTS = ('left_eye', 'right_eye', 'nose', 'mouth_left', 'mouth_right')  # MTCNN's names, in CelebA's order


@dataclasses.dataclass(frozen=True)
class Face:
  box: tuple[float, float, float, float]  # x, y, width, height in pixels
  confidence: float
  landmarks: np.ndarray  # (5, 2) pixel (x, y), in KEYPOINTS order


def read_landmarks_file(path):
  """{file name: (5, 2) landmarks} from a CelebA-style list (`list_landmarks_align_celeba.txt`): one line per
  image, its name then x, y of the left eye, right eye, nose, left and right mouth corner. Other lines (CelebA's
  count and header, blank lines) are ignored; a line whose coordinates are not all finite numbers is left out and
  counted in the log, so that its image is skipped as one without landmarks."""
  table, invalid = {}, 0
  for line in Path(path).read_text().splitlines():
    name, *values = line.split() or ['']
    if len(values) == 2 * LANDMARKS:
      try:
        landmarks = np.array(values, np.float32).reshape(LANDMARKS, 2)
      except ValueError:
        continue  # a header line
      if not np.isfinite(landmarks).all():
        invalid += 1
        continue
      table[name] = landmarks
  if invalid:
    logging.warning('%s: left out %d lines with non-finite coordinates', path, invalid)
  if not table:
    raise ValueError(f'{path}: no lines of a file name and {2 * LANDMARKS} coordinates')
  return table


def transform(landmarks, box, size):
  """Landmarks of an image -> landmarks of its crop `box` (x, y, w, h) resized to size x size (pixel centres)."""
  x, y, w, h = box
  return ((landmarks + 0.5 - np.array([x, y])) * np.array([size / w, size / h]) - 0.5).astype(np.float32)
