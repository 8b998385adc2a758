"""NIQE, the Natural Image Quality Evaluator: a no-reference score, the distance of an image's natural-scene
statistics from those of pristine photos (Mittal, Soundararajan & Bovik, "Making a 'Completely Blind' Image
Quality Analyzer", IEEE Signal Processing Letters 20(3), 2013). Lower is more natural.

Follows the authors' MATLAB release (`computequality.m`, `computefeature.m`, `estimateaggdparam.m`,
`estimatemodelparam.m`): the luminance in [0, 255] (MATLAB's `rgb2ycbcr` Y, rounded to 8 bits), cut to whole
patches; at two scales (the second by MATLAB's antialiased bicubic `imresize(., 0.5)`), the mean-subtracted
contrast-normalised (MSCN) coefficients under a 7x7 Gaussian window (sigma 7/6, replicated borders); per patch 18
features: the shape and spread of an asymmetric generalised Gaussian (AGGD) fitted to the coefficients, and shape,
mean and both spreads of one fitted to each of their four neighbour products; the image's patches as a Gaussian,
and the score (Eq. 10 of the paper)

    D = sqrt((mu_1 - mu_2)^T ((Sigma_1 + Sigma_2) / 2)^+ (mu_1 - mu_2))

between it and the pristine model. `PRISTINE` is the model of the release (`modelparameters.mat`, fitted on 125
pristine photos with 96 px patches), in the arrays BasicSR converted it to (XPixelGroup/BasicSR,
`basicsr/metrics/niqe_pris_params.npz`); it needs images of at least 96 px a side. Faces of 64 px hold no such
patch: `fit` makes a model of smaller patches from your own pristine faces (the release's patch selection, patches
sharper than 0.75 of the sharpest), and `score_set` scores a set of faces from all their patches together.

    python -m jaxsr.niqe --images=sr/                                   # each image, and the mean
    python -m jaxsr.niqe --fit --images=hr_faces/ --crop=12,22,64,64 --patch=32 --out=faces_niqe.npz
    python -m jaxsr.evaluate ... --niqe=faces_niqe.npz                  # a column of every evaluation
"""
import dataclasses
import functools
import warnings
from pathlib import Path

import numpy as np
import tqdm
from scipy import ndimage, special

from jaxsr.core import npz
from jaxsr.data import image_files

PRISTINE = Path(__file__).resolve().parent / 'niqe_pristine.npz'
FEATURES = 36  # 18 per scale
SHARPNESS = 0.75  # estimatemodelparam.m: patches kept for a model are sharper than this fraction of the sharpest


@dataclasses.dataclass(frozen=True)
class Model:
  """The multivariate Gaussian of pristine patches' features, and the patch side it was fitted with."""
  mean: np.ndarray  # (36,)
  cov: np.ndarray  # (36, 36)
  patch: int

  def save(self, path):
    np.savez(path, mean=self.mean, cov=self.cov, patch=np.array(self.patch, np.int64))


def load(path=PRISTINE, name='--niqe_model'):
  """A Model from an .npz that `Model.save` wrote, read without unpickling and checked for its shapes."""
  shapes = {'mean': (FEATURES,), 'cov': (FEATURES, FEATURES), 'patch': ()}
  arrays = npz.read(path, name, 'niqe --fit', shapes=shapes)
  patch = int(arrays['patch'])
  if patch < 8 or patch % 2:
    raise ValueError(f'{name}: {path} has patch side {patch}; a NIQE model needs an even side of at least 8')
  return Model(np.asarray(arrays['mean'], np.float64), np.asarray(arrays['cov'], np.float64), patch)


def luminance(image):
  """uint8 RGB (h, w, 3) or gray (h, w) -> float64 Y in [16, 235], rounded as MATLAB's uint8 rgb2ycbcr."""
  image = np.asarray(image, np.float64)
  if image.ndim == 2:
    return image
  return np.round(16.0 + image @ np.array([65.481, 128.553, 24.966]) / 255.0)


@functools.cache
def _window():
  """fspecial('gaussian', 7, 7/6), normalised."""
  x = np.arange(-3, 4)
  g = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * (7 / 6) ** 2))
  return g / g.sum()


def mscn(image):
  """(MSCN coefficients, local standard deviation) of a float image: (I - mu) / (sigma + 1)."""
  mu = ndimage.correlate(image, _window(), mode='nearest')
  sigma = np.sqrt(np.abs(ndimage.correlate(image * image, _window(), mode='nearest') - mu * mu))
  return (image - mu) / (sigma + 1.0), sigma


def _cubic(x):
  x = np.abs(x)
  return np.where(x <= 1, 1.5 * x**3 - 2.5 * x**2 + 1, np.where(x <= 2, -0.5 * x**3 + 2.5 * x**2 - 4 * x + 2, 0.0))


def _half_weights(length):
  """(ceil(length / 2), length) matrix of MATLAB's imresize(., 0.5, 'bicubic') along one axis: the cubic kernel
  widened 2x (antialiasing), weights normalised, borders mirrored."""
  out = np.arange(1, -(-length // 2) + 1)
  centre = 2.0 * out - 0.5  # imresize's x / scale + 0.5 (1 - 1 / scale), 1-based
  taps = np.floor(centre - 4)[:, None] + np.arange(10)[None, :]
  weights = 0.5 * _cubic(0.5 * (centre[:, None] - taps))
  weights /= weights.sum(1, keepdims=True)
  mirrored = np.concatenate([np.arange(length), np.arange(length)[::-1]])[(taps.astype(int) - 1) % (2 * length)]
  matrix = np.zeros((len(out), length))
  np.add.at(matrix, (np.repeat(np.arange(len(out)), 10), mirrored.ravel()), weights.ravel())
  return matrix


def half(image):
  """MATLAB's imresize(image, 0.5) (bicubic, antialiased) of a float image: rows first, then columns."""
  return _half_weights(image.shape[0]) @ image @ _half_weights(image.shape[1]).T


@functools.cache
def _shape_table():
  """estimateaggdparam.m's grid of shapes 0.2:0.001:10 and r(shape) = Gamma(2/a)^2 / (Gamma(1/a) Gamma(3/a))."""
  shapes = np.arange(200, 10001) / 1000.0
  return shapes, special.gamma(2 / shapes) ** 2 / (special.gamma(1 / shapes) * special.gamma(3 / shapes))


def aggd(x):
  """(shape, left scale, right scale) of the asymmetric generalised Gaussian fitted to the values `x`, by the
  moment matching of estimateaggdparam.m."""
  x = np.ravel(x)
  with np.errstate(divide='ignore', invalid='ignore'):  # a side without values has no spread: NaN, as in MATLAB
    left = np.sqrt(np.sum(np.square(x[x < 0])) / np.sum(x < 0))
    right = np.sqrt(np.sum(np.square(x[x > 0])) / np.sum(x > 0))
    gamma_hat = left / right
    r_hat = np.mean(np.abs(x)) ** 2 / np.mean(x**2)
    r_norm = r_hat * (gamma_hat**3 + 1) * (gamma_hat + 1) / (gamma_hat**2 + 1) ** 2
  shapes, table = _shape_table()
  # MATLAB's min over all-NaN differences (a patch without negative or positive values) gives the first shape
  alpha = shapes[np.argmin((table - r_norm) ** 2)]
  spread = np.sqrt(special.gamma(1 / alpha) / special.gamma(3 / alpha))
  return alpha, left * spread, right * spread


# computefeature.m's circshift offsets (rows, columns): horizontal, vertical, main and second diagonal neighbours
SHIFTS = ((0, 1), (1, 0), (1, 1), (-1, 1))


def patch_features(coefficients):
  """The 18 features of one patch of MSCN coefficients."""
  alpha, left, right = aggd(coefficients)
  features = [alpha, (left + right) / 2]
  for shift in SHIFTS:
    alpha, left, right = aggd(coefficients * np.roll(coefficients, shift, axis=(0, 1)))
    mean = (right - left) * special.gamma(2 / alpha) / special.gamma(1 / alpha)
    features += [alpha, mean, left, right]
  return features


def features(image, patch):
  """(patches, 36) features of a float luminance image cut to whole `patch`-px patches, and (patches,) their
  sharpness (the mean local deviation at the first scale)."""
  rows, cols = image.shape[0] // patch, image.shape[1] // patch
  if not rows or not cols:
    raise ValueError(f'NIQE: a {image.shape[1]}x{image.shape[0]} image holds no {patch} px patch; fit a model of '
                     f'smaller patches (jaxsr.niqe.fit) or score a set of faces together (score_set)')
  image = image[:rows * patch, :cols * patch]
  scales = []
  for level in range(2):
    side = patch >> level
    coefficients, sigma = mscn(image)
    scales.append([patch_features(coefficients[i * side:(i + 1) * side, j * side:(j + 1) * side])
                   for i in range(rows) for j in range(cols)])
    if level == 0:
      sharpness = sigma.reshape(rows, side, cols, side).mean(axis=(1, 3)).ravel()
      image = half(image)
  return np.hstack([np.array(s) for s in scales]), sharpness


def distance(patch_features_, model):
  """Eq. 10: the distance between the Gaussian of the patches' features and the model's. As the release's
  nanmean and nancov: each feature's mean over the patches where it is defined (a flat patch has no shape), the
  covariance over the patches where all are."""
  kept = patch_features_[~np.isnan(patch_features_).any(1)]
  if len(kept) < 2:
    raise ValueError(f'NIQE: {len(kept)} patch(es) with finite features; a score needs at least 2')
  with warnings.catch_warnings():  # a feature undefined in every patch stays NaN, and so does the score
    warnings.simplefilter('ignore', RuntimeWarning)
    difference = model.mean - np.nanmean(patch_features_, axis=0)
  cov = np.cov(kept, rowvar=False)
  return float(np.sqrt(difference @ np.linalg.pinv((model.cov + cov) / 2) @ difference))


def score(image, model=None):
  """NIQE of one uint8 RGB (or gray) image; `model`: a Model (default: the release's pristine model)."""
  model = model or default_model()
  return distance(features(luminance(image), model.patch)[0], model)


def score_set(images, model):
  """NIQE of a set of images from all their patches together: one score for a method's outputs, for images too
  small to hold enough patches each (64 px faces under a 32 px model hold 4)."""
  return distance(np.concatenate([features(luminance(x), model.patch)[0] for x in images]), model)


def fit(images, patch):
  """A Model fitted to pristine uint8 images as estimatemodelparam.m does: every patch at least SHARPNESS times
  as sharp as its image's sharpest, pooled."""
  kept = []
  for image in images:
    values, sharpness = features(luminance(image), patch)
    kept.append(values[sharpness > SHARPNESS * sharpness.max()])
  kept = np.concatenate(kept)
  kept = kept[~np.isnan(kept).any(1)]
  if len(kept) <= FEATURES:
    raise ValueError(f'NIQE: {len(kept)} sharp patches of {patch} px; a model of {FEATURES} features needs more '
                     'than that: give more images')
  return Model(kept.mean(0), np.cov(kept, rowvar=False), patch)


@functools.cache
def default_model():
  return load(PRISTINE, 'jaxsr.evaluation.niqe.PRISTINE')


def read_images(folder, crop=None):
  """(names, uint8 RGB images) of the readable images under `folder`, each cut to `crop` (x, y, w, h) if given."""
  names, images = [], []
  for path in tqdm.tqdm(image_files.find(folder), desc='reading', unit='image'):
    image = image_files.read_rgb(path)
    if image is not None:
      names.append(str(path.relative_to(folder)))
      images.append(np.asarray(image.crop((crop[0], crop[1], crop[0] + crop[2], crop[1] + crop[3])) if crop
                               else image))
  if not images:
    raise FileNotFoundError(f'--images: no readable image under {folder}')
  return names, images
