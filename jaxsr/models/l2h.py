"""The Low-to-High generator of Bulat et al. (ECCV 2018): LR face 16x16 -> HR face 64x64, as the official code
released it (METHODS.md A)."""
import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxsr.models import layers
from jaxsr.models.sr_generators import upsampling_stages


def bilinear_upsample(x, factor):
  """x2 bilinear with half-pixel centres: PyTorch's nn.Upsample(mode='bilinear', align_corners=False)."""
  n, h, w, c = x.shape
  return jax.image.resize(x, (n, h * factor, w * factor, c), 'bilinear')


class LowToHighGenerator(nn.Module):
  """conv3x3 -> widths[0]; per x2 stage i: `blocks[i]` pre-activation blocks of widths[i] with an outer skip
  (a 1x1 projection when the width changes), then bilinear x2, BN, ReLU, 1x1 conv; head conv3x3 96, ReLU,
  1x1 96, ReLU, 1x1 3, tanh. Defaults: stages of (256, 12 blocks) at 16x16 and (128, 3 blocks) at 32x32.
  """
  scale: int = 4
  widths: tuple[int, ...] = (256, 128)
  blocks: tuple[int, ...] = (12, 3)
  head_features: int = 96
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, lr, train):
    stages = upsampling_stages(self.scale)
    if len(self.widths) != stages or len(self.blocks) != stages:
      raise ValueError(f'config.generator: widths {self.widths} and blocks {self.blocks} need one entry per x2 '
                       f'stage; scale {self.scale} has {stages}')
    x = nn.Conv(self.widths[0], (3, 3), dtype=self.dtype)(lr)
    for width, count in zip(self.widths, self.blocks):
      h = x
      for _ in range(count):
        h = layers.PreActResBlock(width, dtype=self.dtype)(h, train)
      skip = x if x.shape[-1] == width else nn.Conv(width, (1, 1), use_bias=False, dtype=self.dtype)(x)
      x = bilinear_upsample(skip + h, 2)
      x = nn.Conv(width, (1, 1), dtype=self.dtype)(nn.relu(layers.batch_norm(train, self.dtype)(x)))
    x = nn.relu(nn.Conv(self.head_features, (3, 3), dtype=self.dtype)(x))
    x = nn.relu(nn.Conv(self.head_features, (1, 1), dtype=self.dtype)(x))
    return jnp.tanh(nn.Conv(3, (1, 1), dtype=self.dtype)(x)).astype(jnp.float32)
