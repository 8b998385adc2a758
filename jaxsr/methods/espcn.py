"""ESPCN (Shi et al., CVPR 2016): three convolutions and a sub-pixel shuffle, trained on MSE.

  L = MSE(G(x), y)

The smallest paired method, and README's example of adding one: this file, its network in
jaxsr.models.sr_generators and configs/espcn.py are all it takes. Data (any degradation, learned ones too),
the step, the moving average, evaluation, upscale, evaluate and export come from PairedSR.
"""
from jaxsr.methods.paired_sr import PairedSR
from jaxsr.models.sr_generators import ESPCNGenerator


class ESPCN(PairedSR):

  def make_generator(self):
    return self.network(ESPCNGenerator, self.config.generator, scale=self.config.scale)


METHODS = {'espcn': ESPCN}
