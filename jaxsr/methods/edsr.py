"""EDSR (Lim et al., CVPRW 2017): a residual network without BatchNorm, trained on L1.

  L = |G(x) - y|_1

The network is jaxsr.models.sr_generators's EDSRGenerator; data, the step, the moving average, evaluation,
upscale, evaluate and export come from PairedSR.
"""
from jaxsr.methods.paired_sr import PairedSR
from jaxsr.models.sr_generators import EDSRGenerator


class EDSR(PairedSR):

  def make_generator(self):
    g = self.config.generator
    return EDSRGenerator(self.config.scale, g.blocks, g.features, g.res_scale, g.rgb_range, g.bicubic_skip,
                         g.upsampler, self.dtype)


METHODS = {'edsr': EDSR}
