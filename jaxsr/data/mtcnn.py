"""MTCNN face detection (Zhang, Zhang, Li, Qiao: "Joint Face Detection and Alignment using Multi-task Cascaded
Convolutional Networks", IEEE SPL 2016) in JAX, with the weights the `mtcnn` pip package ships.

The package's own detector runs on TensorFlow; its weights are plain numpy arrays (joblib + lz4 files), so jaxsr
reads them and runs the three networks itself: datasets are built without TensorFlow. The cascade:

  P-Net, fully convolutional over an image pyramid (a 12 px window, stride 2)   -> candidate boxes, NMS
  R-Net on 24x24 crops of the candidates                                        -> refined boxes, NMS
  O-Net on 48x48 crops                                                          -> boxes, confidence, 5 landmarks

Boxes are regressed by each stage and squared before the next crop. Pixels are normalised to (x - 127.5) / 128.
"""
import functools
import hashlib
import importlib.util
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

from jaxsr.data.face_detection import Face

# Layer kinds in the order of each network's weight list: ('conv', pool after it or None), 'dense', heads.
# A pool is (window, padding) with stride 2.
PNET = (('conv', (2, 'SAME')), ('conv', None), ('conv', None))
RNET = (('conv', (3, 'SAME')), ('conv', (3, 'VALID')), ('conv', None), ('dense', None))
ONET = (('conv', (3, 'SAME')), ('conv', (3, 'VALID')), ('conv', (2, 'SAME')), ('conv', None), ('dense', None))
HEADS = {'pnet': ('box', 'score'), 'rnet': ('box', 'score'), 'onet': ('box', 'landmarks', 'score')}
LAYOUTS = {'pnet': PNET, 'rnet': RNET, 'onet': ONET}


# The weight files of mtcnn 1.0.0 (pinned in pyproject.toml). joblib files are pickles, and unpickling runs
# whatever code a file holds, so a file is read only when its bytes are exactly these.
WEIGHTS_SHA256 = {
    'pnet': 'ea6b0c3e685ebee3165326ad6484acc95f2ef78f1c94fbf40a55704fa989f7b5',
    'rnet': 'cb00e6460f3c98b0bfafaba3c0a0ded4bdf6e62cee7174d969e8670d7e757fee',
    'onet': '94f6ea2f4cf985275ee958cdd762d17b6009348a4fb9d8c6be39ba73ffd22ca3',
}


def load_weights(folder=None):
  """{'pnet' | 'rnet' | 'onet': [arrays]} from the installed `mtcnn` package (`pip install mtcnn==1.0.0`: numpy
  weights, no TensorFlow needed to read them), or from `folder` holding the same three files. A file whose
  sha256 is not the known one is refused before it is unpickled."""
  if folder is None:
    spec = importlib.util.find_spec('mtcnn')  # finds the package without importing it (its __init__ needs TF)
    folder = Path(spec.submodule_search_locations[0]) / 'assets' / 'weights' if spec else None
  if folder is None or not Path(folder).is_dir():
    raise ImportError('MTCNN weights come from the `mtcnn` package: pip install mtcnn==1.0.0')
  for name, expected in WEIGHTS_SHA256.items():
    path = Path(folder) / f'{name}.lz4'
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else 'missing'
    if digest != expected:
      raise ValueError(f'{path}: sha256 {digest} is not that of mtcnn 1.0.0\'s {name} weights ({expected}); '
                       'refusing to unpickle it. Install the pinned version: pip install mtcnn==1.0.0')
  import joblib  # a dependency of mtcnn
  return {name: [np.asarray(w, np.float32) for w in joblib.load(Path(folder) / f'{name}.lz4')] for name in LAYOUTS}


def _prelu(x, alpha):
  return jnp.where(x >= 0, x, x * alpha.reshape(-1))


def run_network(name, weights, x):
  """One of the three networks on (N, H, W, 3) normalised images; returns its heads (scores: face probability).

  Dense layers flatten in (W, H, C) order, the order of the original Caffe weights."""
  w = iter(weights)
  for kind, pool in LAYOUTS[name]:
    if kind == 'conv':
      x = jax.lax.conv_general_dilated(x, next(w), (1, 1), 'VALID', dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
      x = _prelu(x + next(w), next(w))
      if pool:
        window, padding = pool
        x = jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, window, window, 1), (1, 2, 2, 1), padding)
    else:
      x = x.transpose(0, 2, 1, 3).reshape(x.shape[0], -1)
      x = _prelu(x @ next(w) + next(w), next(w))
  heads = {}
  for head in HEADS[name]:
    kernel, bias = next(w), next(w)
    out = (jnp.einsum('nhwc,cd->nhwd', x, kernel[0, 0]) if x.ndim == 4 else x @ kernel) + bias
    heads[head] = jax.nn.softmax(out)[..., 1] if head == 'score' else out
  return heads


def _nms(boxes, scores, threshold, mode='union'):
  """Indices kept by greedy non-maximum suppression (IoU, or intersection over the smaller box with 'min')."""
  x1, y1, x2, y2 = boxes.T
  areas = (x2 - x1 + 1) * (y2 - y1 + 1)
  order, keep = np.argsort(-scores), []
  while order.size:
    i, rest = order[0], order[1:]
    keep.append(i)
    w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
    h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
    inter = w * h
    overlap = inter / (np.minimum(areas[i], areas[rest]) if mode == 'min' else areas[i] + areas[rest] - inter)
    order = rest[overlap <= threshold]
  return np.array(keep, np.int64)


def _regress(boxes, offsets):
  """Moves each box's corners by offsets given in units of its width and height."""
  size = np.stack([boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1] * 2, axis=1)
  return boxes + offsets * size


def _square(boxes):
  """The square of each box's longer side, centred on it."""
  w, h = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1
  side = np.maximum(w, h)
  x1, y1 = boxes[:, 0] + (w - side) / 2, boxes[:, 1] + (h - side) / 2
  return np.stack([x1, y1, x1 + side - 1, y1 + side - 1], axis=1)


def _resize(image, height, width):
  """uint8 image -> normalised float32 image of height x width (PIL bilinear, which averages when shrinking, as
  the original's area resampling does)."""
  resized = np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR), np.float32)
  return (resized - 127.5) / 128.0


def _crops(image, boxes, size):
  """size x size normalised crops of `boxes` (rounded; outside the image is black) of a uint8 image."""
  h, w, _ = image.shape
  out = np.zeros((len(boxes), size, size, 3), np.float32)
  for i, (x1, y1, x2, y2) in enumerate(np.round(boxes).astype(int)):
    patch = np.zeros((y2 - y1 + 1, x2 - x1 + 1, 3), np.uint8)
    sy, sx = max(0, -y1), max(0, -x1)
    region = image[max(0, y1):min(h, y2 + 1), max(0, x1):min(w, x2 + 1)]
    patch[sy:sy + region.shape[0], sx:sx + region.shape[1]] = region
    out[i] = _resize(patch, size, size)
  return out


def _padded(x, multiple, axes):
  """x zero-padded at the end of `axes` to a multiple of `multiple`: a few shapes to compile, not one per image."""
  pad = [(0, 0)] * x.ndim
  for axis in axes:
    pad[axis] = (0, -x.shape[axis] % multiple)
  return np.pad(x, pad)


def detector(min_face_size=20):
  """A function: uint8 RGB image (h, w, 3) -> [Face], most confident first."""
  return MTCNN(min_face_size).detect


class MTCNN:
  """`detect(image)` -> [Face] with box (x, y, w, h), confidence and 5 landmarks (eyes, nose, mouth corners).

  Defaults are the paper's: 20 px smallest face, pyramid factor 0.709, stage thresholds 0.6 / 0.7 / 0.7.
  """

  def __init__(self, min_face_size=20, thresholds=(0.6, 0.7, 0.7), factor=0.709, weights=None):
    self.min_face_size, self.thresholds, self.factor = min_face_size, thresholds, factor
    self.weights = weights or load_weights()
    self._nets = {name: jax.jit(functools.partial(run_network, name)) for name in LAYOUTS}

  def _scales(self, height, width):
    scale, side, scales = 12.0 / self.min_face_size, min(height, width), []
    while side * scale >= 12:
      scales.append(scale)
      scale *= self.factor
    return scales

  def _proposals(self, image):
    """Stage 1: P-Net over the pyramid; candidate boxes in image pixels (x1, y1, x2, y2) and scores."""
    h, w, _ = image.shape
    all_boxes, all_scores = [], []
    for scale in self._scales(h, w):
      sh, sw = int(np.ceil(h * scale)), int(np.ceil(w * scale))
      scaled = _padded(_resize(image, sh, sw)[None], 32, (1, 2))
      out = jax.device_get(self._nets['pnet'](self.weights['pnet'], scaled))
      valid = (slice(0, (sh - 1) // 2 - 4), slice(0, (sw - 1) // 2 - 4))  # windows inside the image
      ys, xs = np.nonzero(out['score'][0][valid] > self.thresholds[0])
      if not len(ys):
        continue
      corners = np.stack([xs * 2, ys * 2, xs * 2 + 11, ys * 2 + 11], axis=1) / scale
      boxes = _regress(corners, out['box'][0, ys, xs])
      scores = out['score'][0, ys, xs]
      keep = _nms(corners, scores, 0.5)
      all_boxes.append(boxes[keep])
      all_scores.append(scores[keep])
    if not all_boxes:
      return np.zeros((0, 4)), np.zeros(0)
    boxes, scores = np.concatenate(all_boxes), np.concatenate(all_scores)
    keep = _nms(boxes, scores, 0.7)
    return boxes[keep], scores[keep]

  def _refine(self, name, image, boxes, threshold, size):
    crops = _crops(image, _square(boxes), size)
    count = 2 ** int(np.ceil(np.log2(max(len(crops), 16))))  # batch sizes that are powers of 2: few compilations
    padded = np.pad(crops, ((0, count - len(crops)), (0, 0), (0, 0), (0, 0)))
    out = {k: v[:len(crops)] for k, v in jax.device_get(self._nets[name](self.weights[name], padded)).items()}
    kept = out['score'] > threshold
    return _square(boxes)[kept], {k: v[kept] for k, v in out.items()}

  def detect(self, image):
    """Faces in an (H, W, 3) uint8 RGB image, most confident first."""
    image = np.asarray(image, np.uint8)
    boxes, _ = self._proposals(image)
    if len(boxes):
      boxes, out = self._refine('rnet', image, boxes, self.thresholds[1], 24)
      boxes = _regress(boxes, out['box'])
      keep = _nms(boxes, out['score'], 0.7)
      boxes = boxes[keep]
    if not len(boxes):
      return []
    squared, out = self._refine('onet', image, boxes, self.thresholds[2], 48)
    side = (squared[:, 2:3] - squared[:, 0:1] + 1)
    landmarks = np.stack([squared[:, 0:1] + out['landmarks'][:, :5] * side,
                          squared[:, 1:2] + out['landmarks'][:, 5:] * side], axis=-1)
    boxes = _regress(squared, out['box'])
    keep = _nms(boxes, out['score'], 0.7, 'min')
    return [Face(box=(float(x1), float(y1), float(x2 - x1 + 1), float(y2 - y1 + 1)), confidence=float(score),
                 landmarks=lm.astype(np.float32))
            for (x1, y1, x2, y2), score, lm in zip(boxes[keep], out['score'][keep], landmarks[keep])]
