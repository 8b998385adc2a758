"""FID (Heusel et al. 2017) and KID (Binkowski et al. 2018) between two sets of images, on the 2048-d pool3
features of Inception-v3 (jaxsr.models.inception) with weights the user supplies."""
import jax
import numpy as np

from jaxsr.core import images
from jaxsr.models import inception


class InceptionFeatures:
  """uint8 (N, H, W, 3) images -> (N, 2048) float64 features, `batch` images at a time. FID compares sets at
  `input_size` 299; a smaller one only makes tests fast."""

  def __init__(self, weights_path, batch=50, input_size=299):
    self.variables = inception.load(weights_path)
    self.batch = batch
    network = inception.InceptionV3(input_size)
    self._features = jax.jit(lambda v, x: network.apply(v, images.to_float(x)))

  def __call__(self, uint8_images):
    return np.concatenate([np.asarray(self._features(self.variables, uint8_images[i:i + self.batch]), np.float64)
                           for i in range(0, len(uint8_images), self.batch)])


def frechet_distance(a, b):
  """||mu_a - mu_b||^2 + Tr(C_a + C_b - 2 (C_a C_b)^(1/2)) of two feature sets (rows are samples).

  Tr (C_a C_b)^(1/2) is the sum of the square roots of the eigenvalues of the symmetric C_a^(1/2) C_b C_a^(1/2):
  two symmetric eigendecompositions instead of a general matrix square root, seconds rather than minutes at
  2048 dimensions, and no imaginary rounding residue."""
  mu_a, mu_b = a.mean(0), b.mean(0)
  cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
  w, v = np.linalg.eigh(cov_a)
  root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
  trace_root = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)))
  return float(np.sum(np.square(mu_a - mu_b)) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_root)


def kernel_inception_distance(a, b, subsets=100, subset_size=1000, seed=0):
  """The unbiased MMD^2 with the cubic kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets of
  min(subset_size, |a|, |b|) rows of each set."""
  rng = np.random.default_rng(seed)
  m, d = min(subset_size, len(a), len(b)), a.shape[1]
  kernel = lambda x, y: (x @ y.T / d + 1.0) ** 3  # noqa: E731
  values = []
  for _ in range(subsets):
    x, y = a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)]
    kxx, kyy = kernel(x, x), kernel(y, y)
    within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    values.append(within - 2.0 * kernel(x, y).mean())
  return float(np.mean(values))
