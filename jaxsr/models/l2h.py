"""The Low-to-High generator of Bulat, Yang, Tzimiropoulos, "To learn image super-resolution, use a GAN to learn
how to do image degradation first" (ECCV 2018, Sec. 3.3): LR face 16x16 -> HR face 64x64."""
import flax.linen as nn
import jax.numpy as jnp

from jaxsr.models import layers
from jaxsr.models.sr_generators import upsampling_stages


class LowToHighGenerator(nn.Module):
  """`GEN_DEEP` of jingyang2017/Face-and-Image-super-resolution (model.py), the network whose weights the authors
  released (`model.pkl`; `python -m jaxsr.import_weights --format=bulat_l2h` reads them).

  conv3x3 -> widths[0] (no bias); per x2 stage i: `blocks[i]` pre-activation blocks of widths[i] plus an outer skip
  (the identity, or a 1x1 conv with bias when the width changes), then bilinear x2 with aligned corners, BN, ReLU,
  1x1 conv; head conv3x3 (no bias) -> 96, ReLU, 1x1 96, ReLU, 1x1 3, tanh. Defaults: (256, 12 blocks) at 16x16,
  (128, 3 blocks) at 32x32. Module names follow the PyTorch ones (see jaxsr.import_weights).

  Every layer starts as PyTorch initialises it (GEN_DEEP sets no initialisation of its own): kernels
  kaiming_uniform(a=sqrt(5)), biases uniform(+-1/sqrt(fan_in)).

  Kept different: none in the computation. GEN_DEEP's 1x1 `ConvTranspose2d` after each upsampling is the 1x1 conv
  here (the same map, its kernel transposed), and its unused `a2` conv (built, never called) is not built.
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
    def conv(features, kernel, name, x, bias=True):
      return layers.torch_initialised_conv(features, kernel, x.shape[-1], bias, self.dtype, name)(x)

    x = conv(self.widths[0], 3, 'stem', lr, bias=False)
    for i, (width, count) in enumerate(zip(self.widths, self.blocks)):
      h = x
      for j in range(count):
        h = layers.PreActResBlock(width, dtype=self.dtype, torch_init=True, name=f'stage{i}_block{j}')(h, train)
      skip = x if x.shape[-1] == width else conv(width, 1, f'stage{i}_skip', x)
      x = layers.bilinear_upsample_align_corners(skip + h, 2)
      x = nn.relu(layers.batch_norm(train, self.dtype, name=f'stage{i}_bn')(x))
      x = conv(width, 1, f'stage{i}_proj', x)
    x = nn.relu(conv(self.head_features, 3, 'head_conv', x, bias=False))
    x = nn.relu(conv(self.head_features, 1, 'head_proj', x))
    return jnp.tanh(conv(3, 1, 'head_out', x)).astype(jnp.float32)
