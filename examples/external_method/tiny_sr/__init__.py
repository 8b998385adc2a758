"""A method of your own, outside jaxsr: a few convolutions on the bicubic upsampling, trained with L1.

    pip install -e examples/external_method
    python -m jaxsr.main --config=examples/external_method/config.py --workdir=runs/tiny_sr

PairedSR brings the data (any degradation), the step, evaluation, upscale, evaluate and export; this file only
names the network. pyproject.toml registers the class under the entry-point group `jaxsr.methods`.
"""
import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxsr.methods.paired_sr import PairedSR


class TinySRNet(nn.Module):
  """LR (N, h, w, 3) in [-1, 1] -> bicubic x `scale` plus a learned residual of `depth` 3x3 convolutions."""
  scale: int
  features: int = 32
  depth: int = 3

  @nn.compact
  def __call__(self, lr, train=False):
    n, h, w, c = lr.shape
    up = jax.image.resize(lr, (n, h * self.scale, w * self.scale, c), 'bicubic')
    x = up
    for _ in range(self.depth - 1):
      x = nn.relu(nn.Conv(self.features, (3, 3))(x))
    return jnp.clip(up + nn.Conv(c, (3, 3))(x), -1.0, 1.0)


class TinySR(PairedSR):

  def make_generator(self):
    g = self.config.generator
    return TinySRNet(self.config.scale, g.features, g.depth)
