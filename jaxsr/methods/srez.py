"""srez (David Garcia's TensorFlow super-resolver; seed 002, METHODS.md B).

  L_G = 0.1 * CE(D(G(x + n)), 1) + 0.9 * L1(avgpool_4(G(x + n)), x)     n ~ N(0, 0.03^2) on [0, 1] images
  L_D = CE(D(y), 1) + CE(D(G(x + n)), 0)

G and D are updated on the same batch; Adam 2e-4, beta1 0.5, halved every 5k steps. The original works on
[0, 1] images; here they are in [-1, 1], so the noise std doubles and the L1 weight halves (configs/srez.py).
"""
import jax

from jaxsr.methods.paired_sr import PairedSR
from jaxsr.models import discriminators
from jaxsr.models.sr_generators import SrezGenerator


class Srez(PairedSR):

  def make_generator(self):
    g = self.config.generator
    return SrezGenerator(self.config.scale, tuple(g.widths), g.blocks, g.head_features, g.residual_init_scale,
                         self.dtype)

  def make_discriminator(self):
    return discriminators.ConvDiscriminator(tuple(map(tuple, self.config.discriminator.units)), 'relu',
                                            first_norm=True, head='mean', dtype=self.dtype)

  def generator_input(self, lr, rng, train):
    """x + n in training, with n ~ N(0, (2 input_noise)^2): config.input_noise is on the original's [0, 1] scale."""
    if not train:
      return lr
    return lr + 2.0 * self.config.input_noise * jax.random.normal(rng, lr.shape, lr.dtype)
