"""SRResNet and SRGAN (Ledig et al., CVPR 2017), and (a config) the face SRGAN of Sada, Courbot & Popovic
("Single-Image Facial Super-Resolution Using GANs").

  SRResNet:  L_G = MSE(G(x), y)
  SRGAN:     L_G = content + 1e-3 * -log D(G(x)),  content = MSE(G(x), y) or MSE(phi_5,4(G(x)) / 12.75,
             phi_5,4(y) / 12.75) = MSE(phi_5,4(G(x)), phi_5,4(y)) / 12.75^2
             started from a trained SRResNet (config.init_from); lr 1e-4, then 1e-5 after 1e5 steps.
  Face SRGAN (configs/srgan_face.py): AdaBelief, content = MSE + DSSIM.
"""
from jaxsr.methods.paired_sr import PairedSR
from jaxsr.models import discriminators
from jaxsr.models.sr_generators import SRResNetGenerator


class SRResNet(PairedSR):
  """One generator: the SRResNet of config.generator (blocks, features)."""

  def make_generator(self):
    return self.network(SRResNetGenerator, self.config.generator, scale=self.config.scale)


class SRGAN(SRResNet):
  """The SRResNet generator against the SRGAN discriminator (config.discriminator.units, dense_features)."""

  def make_discriminator(self):
    return self.network(discriminators.ConvDiscriminator, self.config.discriminator, activation='leaky_relu',
                        first_norm=False, head='dense')


METHODS = {'srresnet': SRResNet, 'srgan': SRGAN}  # srgan: also the face SRGAN, configs/srgan_face.py
