"""DCGAN super-resolution x4 (seed 004, METHODS.md D).

  L_G = 1 * MSE(G(x), y) + 1e-3 * BCE(D(G(x)), 1)        L_D = BCE(D(y), 1) + BCE(D(G(x)), 0)

The seed gives no counts, weights or learning rates; the defaults (8 residual units of 64 channels, the weights
above, Adam 2e-4 / beta1 0.5) are METHODS.md's and live in configs/dcgan_sr.py.
"""
from jaxsr.methods.paired_sr import PairedSR
from jaxsr.models import discriminators
from jaxsr.models.sr_generators import DCGANSRGenerator


class DCGANSR(PairedSR):

  def make_generator(self):
    g = self.config.generator
    return DCGANSRGenerator(self.config.scale, g.blocks, g.features, self.dtype)

  def make_discriminator(self):
    return discriminators.ConvDiscriminator(tuple(map(tuple, self.config.discriminator.units)), 'leaky_relu',
                                            first_norm=True, head='mean', dtype=self.dtype)
