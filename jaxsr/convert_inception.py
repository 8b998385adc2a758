"""Converts Inception-v3 weights for FID and KID to jaxsr's .npz (jaxsr.models.inception), with no network access.

    python -m jaxsr.convert_inception --src=pt_inception-2015-12-05-6726825d.pth --out=inception.npz   # pytorch-fid
    python -m jaxsr.convert_inception --src=inception_v3_google-0cc3c7bd.pth --out=inception.npz       # torchvision

FID numbers are comparable with published ones only with the first file (the TensorFlow FID network, as
pytorch-fid ships it); torchvision's ImageNet weights give a different, self-consistent scale.
"""
import re

import jax
import numpy as np
from absl import flags

from jaxsr.core import cli, torch_state
from jaxsr.models import inception

FLAGS = flags.FLAGS
BN = {'weight': ('params', 'scale'), 'bias': ('params', 'bias'), 'running_mean': ('batch_stats', 'mean'),
      'running_var': ('batch_stats', 'var')}


def from_torch_state(state):
  """A torchvision / pytorch-fid Inception-v3 state dict -> {'params', 'batch_stats'} of InceptionV3 (the
  classifier and the auxiliary head are left out)."""
  variables = {'params': {}, 'batch_stats': {}}

  def put(collection, path, name, value):
    node = variables[collection]
    for part in path:
      node = node.setdefault(part, {})
    node[name] = value

  for key, value in state.items():
    if m := re.fullmatch(r'(?:module\.)?((?:Conv2d|Mixed)_\w+(?:\.branch\w+)?)\.(conv|bn)\.(\w+)', key):
      path = m[1].split('.')
      if m[2] == 'conv' and m[3] == 'weight':
        put('params', path + ['conv'], 'kernel', np.asarray(value, np.float32).transpose(2, 3, 1, 0))
      elif m[2] == 'bn' and m[3] in BN:
        collection, name = BN[m[3]]
        put(collection, path + ['bn'], name, np.asarray(value, np.float32))
  return variables


def convert(src, out):
  """Reads a state dict, writes the .npz, and loads it back (checking every shape against the network)."""
  if not str(out).endswith('.npz'):
    raise ValueError(f'--out: {out} should end in .npz')
  variables = from_torch_state(torch_state.read(src))
  inception.save(out, variables)
  inception.load(out)
  return sum(int(np.prod(np.shape(x))) for x in jax.tree.leaves(variables['params']))


def define_flags():
  """The command line's flags, defined only when this module runs as the program (the module is a library too)."""
  flags.DEFINE_string('src', None, 'torchvision or pytorch-fid Inception-v3 .pth/.safetensors', required=True)
  flags.DEFINE_string('out', None, 'the .npz to write', required=True)


def main(argv):
  del argv
  count = convert(FLAGS.src, FLAGS.out)
  print(f'Wrote {FLAGS.out} ({count:,} parameters); use it with python -m jaxsr.evaluate --inception_weights='
        f'{FLAGS.out}')


def run():
  """The command: `python -m jaxsr.convert_inception`, or `jaxsr-convert-inception` once installed."""
  define_flags()
  cli.run(main)


if __name__ == '__main__':
  run()
