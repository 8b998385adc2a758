"""EDSR (Lim et al., CVPRW 2017): a residual network without BatchNorm, trained on L1.

  L = |G(x) - y|_1

The network is jaxsr.models.sr_generators's EDSRGenerator; data, the step, the moving average, evaluation,
upscale, evaluate and export come from PairedSR.
"""
from jaxsr.methods.paired_sr import PairedSR
from jaxsr.models.sr_generators import EDSRGenerator


class EDSR(PairedSR):

  def make_generator(self):
    return self.network(EDSRGenerator, self.config.generator, scale=self.config.scale)


METHODS = {'edsr': EDSR}
