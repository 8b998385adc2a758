"""The method registry: `config.method` names one of these."""
import importlib

METHODS = {
    'h2l': 'jaxsr.methods.h2l:HighToLow',
    'degradation_sr': 'jaxsr.methods.degradation_sr:DegradationSR',
    'l2h': 'jaxsr.methods.l2h:LowToHigh',
    'l2h_bicubic': 'jaxsr.methods.l2h:LowToHighBicubic',
    'srresnet': 'jaxsr.methods.srresnet:SRResNet',
    'srgan': 'jaxsr.methods.srresnet:SRGAN',  # also the face SRGAN: configs/srgan_face.py
    'srez': 'jaxsr.methods.srez:Srez',
    'dcgan_sr': 'jaxsr.methods.dcgan_sr:DCGANSR',
    'fsrnet': 'jaxsr.methods.fsrnet:FSRNet',  # also FSRGAN: configs/fsrnet.py:gan
    'sisr_vae': 'jaxsr.methods.reference_vae:ConditionalVAE',
    'refsr_vae': 'jaxsr.methods.reference_vae:RefSRVAE',
}


def create(config):
  if config.method not in METHODS:
    raise ValueError(f"config.method: unknown method '{config.method}'; known: {', '.join(sorted(METHODS))}")
  module, name = METHODS[config.method].split(':')
  return getattr(importlib.import_module(module), name)(config)
