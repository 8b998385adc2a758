"""FSRNet and FSRGAN (Chen et al., CVPR 2018): face SR guided by facial priors the network predicts
from its own coarse output (jaxsr.models.fsrnet). The baseline Bulat et al. (ECCV 2018) compare against.

  L_FSRNet = coarse * MSE(y_c, y) + mse * MSE(y_f, y) + prior * MSE(p, p_gt)        (all 1 in the paper)
  L_FSRGAN = L_FSRNet + vgg * perceptual(y_f, y) + adversarial * -log C(y_f, x)

FSRGAN's discriminator C is conditional (Chen et al., Eq. 5): it sees the image beside x, the bicubic-upsampled LR
input, so it judges whether a face fits its input and not only whether it looks real (`conditional_discriminator`).

y_c and y_f are the coarse and fine outputs, p the landmark heatmaps of every hourglass stack (intermediate
supervision), p_gt Gaussians of std `prior_sigma` px, at the priors' resolution (half the HR side), centred on the
five landmarks of the training face (dataset feature `landmarks_feature`; `python -m jaxsr.data.build face_folder
--landmarks=mtcnn` detects them while building a dataset of your own faces).

Kept different: five landmarks, where the paper's heatmaps cover the full landmark sets its datasets (Helen,
CelebA) annotate, with parsing maps beside them; every term is a mean over [-1, 1] pixels,
where Eq. 4 sums the squared errors per image on [0, 1] images: a constant factor per term (the same for all
three, so the balance is the paper's) that Adam's step size absorbs.
"""
import jax
import jax.numpy as jnp

from jaxsr.core import images, losses, metrics
from jaxsr.methods.paired_sr import CONTENT_TERMS, LossTerm, PairedSR
from jaxsr.models import discriminators, layers
from jaxsr.models.fsrnet import FSRNetGenerator


def landmark_heatmaps(landmarks, hr_size, size, sigma):
  """(N, L, 2) pixel (x, y) landmarks of hr_size x hr_size faces -> (N, size, size, L) Gaussians, peak 1."""
  centres = (landmarks + 0.5) * (size / hr_size) - 0.5
  grid = jnp.arange(size, dtype=jnp.float32)
  dx = grid[None, None, :] - centres[..., 0, None]  # (N, L, size)
  dy = grid[None, None, :] - centres[..., 1, None]
  maps = jnp.exp(-(dy[..., :, None] ** 2 + dx[..., None, :] ** 2) / (2.0 * sigma ** 2))  # (N, L, y, x)
  return maps.transpose(0, 2, 3, 1)


def heatmap_peaks(heatmaps, hr_size):
  """(N, size, size, L) heatmaps -> (N, L, 2) pixel (x, y) of each map's maximum, in hr_size pixels."""
  n, size, _, count = heatmaps.shape
  flat = heatmaps.transpose(0, 3, 1, 2).reshape(n, count, size * size).argmax(-1)
  peaks = jnp.stack([flat % size, flat // size], axis=-1).astype(jnp.float32)
  return (peaks + 0.5) * (hr_size / size) - 0.5


def landmark_error(predicted, true):
  """Mean landmark distance over the distance between the eyes (the interocular NME of face alignment)."""
  interocular = jnp.linalg.norm(true[:, 0] - true[:, 1], axis=-1)
  return jnp.mean(jnp.linalg.norm(predicted - true, axis=-1).mean(-1) / interocular)


def prior_loss(x):
  """MSE of every stack's heatmaps to Gaussians at the training face's landmarks (intermediate supervision)."""
  size = x.config.image_size
  target = landmark_heatmaps(x.batch['landmarks'], size, size // 2, x.config.prior_sigma)
  return losses.mse(x.output['heatmaps'], jnp.broadcast_to(target, x.output['heatmaps'].shape))


LOSS_TERMS = {**CONTENT_TERMS,
              'coarse': LossTerm(lambda x: losses.mse(x.output['coarse'], x.hr)),
              'prior': LossTerm(prior_loss, features=('landmarks',))}


class FSRNet(PairedSR):
  """Network `generator` (coarse SR, fine encoder, prior network, fine decoder) and, for FSRGAN, `discriminator`."""

  loss_terms = LOSS_TERMS
  fully_convolutional = False  # the hourglasses halve the side four times, the heatmaps are image_size's
  eval_columns = ('LR', 'bicubic', 'coarse', 'output', 'priors', 'HR')

  def make_generator(self):
    return self.network(FSRNetGenerator, self.config.generator, scale=self.config.scale)

  def make_discriminator(self):
    if not self.config.loss.adversarial:
      return None
    return self.network(discriminators.ConvDiscriminator, self.config.discriminator, activation='leaky_relu',
                        first_norm=False, head='dense')

  def example(self):
    """Pairs, with the (x, y) landmarks that the prior loss reads when it is on."""
    example = super().example()
    if self.landmarks_key():
      example['landmarks'] = jax.ShapeDtypeStruct((self.config.generator.landmarks, 2), jnp.float32)
    return example

  def evaluate(self, state, batch, rng):
    """The paired SR metrics of the fine output, PSNR of the coarse one, with landmarks their NME, and under
    `fsrnet_protocol/` PSNR and SSIM as the paper measures them: Y truncated to 8 bits, no border crop."""
    outputs, scalars = super().evaluate(state, batch, rng)
    for name in ('output', 'bicubic'):
      x, y = outputs[name], outputs['HR']
      scalars[f'fsrnet_protocol/psnr_y/{name}'] = metrics.psnr_y(x, y, truncate=True)
      scalars[f'fsrnet_protocol/ssim_y/{name}'] = metrics.ssim_y(x, y, truncate=True)
    full = state.nets['generator'](images.to_float(batch['lr']))
    hr, size = images.to_float(batch['hr']), self.config.image_size
    scalars['psnr/coarse'] = metrics.psnr(jnp.clip(full['coarse'], -1, 1), hr)
    heatmaps = full['heatmaps'][-1]
    if 'landmarks' in batch:
      scalars['landmarks/nme'] = landmark_error(heatmap_peaks(heatmaps, size), batch['landmarks'])
    priors = layers.nearest_upsample(jnp.clip(heatmaps.sum(-1, keepdims=True), 0.0, 1.0), 2)
    return {**outputs, 'coarse': jnp.clip(full['coarse'], -1, 1), 'priors': jnp.tile(priors * 2 - 1, 3)}, scalars


METHODS = {'fsrnet': FSRNet}  # also FSRGAN: configs/fsrnet.py:gan
