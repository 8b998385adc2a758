"""Makes jaxsr's LPIPS weights file (jaxsr.models.lpips) from the PyTorch files the `lpips` package uses:

    python -m jaxsr.convert_lpips --net=alex --backbone=alexnet-owt-7be5be79.pth \
        --heads=lpips/weights/v0.1/alex.pth --out=lpips_alex.npz
    python -m jaxsr.evaluate --runs=runs/srresnet --dataset=face_folder/celeba --lpips=lpips_alex.npz

--backbone: torchvision's AlexNet or VGG16 state dict (`features.<i>.weight`), or a whole `lpips.LPIPS` state dict
(`net.slice<k>.<i>.weight`); --heads: the package's linear heads (`lin<l>.model.1.weight`, shipped with it in
lpips/weights/v0.1/), or the same whole state dict. Read with torch.load(weights_only=True) or as .safetensors:
tensors only, never pickled code.
"""
import re

import numpy as np
from absl import flags

from jaxsr.core import cli, torch_state
from jaxsr.models import lpips


def from_torch_states(net, backbone, heads):
  """jaxsr LPIPS params from a backbone and a heads state dict ({key: array})."""
  convs = {}
  for key, value in backbone.items():
    if m := re.search(r'(?:features|slice\d)\.(\d+)\.(weight|bias)$', key):
      convs[(int(m[1]), m[2])] = np.asarray(value, np.float32)
  params = {}
  for i, (index, layer) in enumerate(zip(lpips.TORCH_CONV_INDICES[net], lpips.convs(net))):
    if (index, 'weight') not in convs or (index, 'bias') not in convs:
      raise ValueError(f'--backbone: not a torchvision {net} state dict: no features.{index}.weight/bias')
    params[f'conv{i}'] = {'kernel': convs[(index, 'weight')].transpose(2, 3, 1, 0), 'bias': convs[(index, 'bias')]}
  lins = {int(m[1]): np.asarray(v, np.float32) for k, v in heads.items()
          if (m := re.search(r'lin(\d)\.model\.1\.weight$', k))}
  for level, width in enumerate(lpips.tap_widths(net)):
    if lins.get(level, np.zeros(0)).shape != (1, width, 1, 1):
      raise ValueError(f'--heads: no lin{level}.model.1.weight of shape (1, {width}, 1, 1) for {net}; is it the '
                       f"lpips package's {net}.pth?")
    params[f'lin{level}'] = lins[level].reshape(width)
  return params


def convert(net, backbone, heads, out):
  if not str(out).endswith('.npz'):
    raise ValueError(f'--out: {out} should end in .npz')
  if net not in lpips.BACKBONES:
    raise ValueError(f"--net: unknown {net!r} (known: {', '.join(lpips.BACKBONES)})")
  lpips.save(out, net, from_torch_states(net, torch_state.read(backbone), torch_state.read(heads)))
  lpips.load(out)  # checks every shape


FLAGS = flags.FLAGS


def define_flags():
  flags.DEFINE_enum('net', 'alex', list(lpips.BACKBONES), 'The backbone: alex (the package default) or vgg.')
  cli.define_path('backbone', None, 'torchvision AlexNet/VGG16 or lpips.LPIPS state dict.', required=True)
  cli.define_path('heads', None, "The lpips package's linear heads (weights/v0.1/<net>.pth).", required=True)
  cli.define_path('out', None, 'The .npz to write.', required=True)


def main(argv):
  del argv
  convert(FLAGS.net, FLAGS.backbone, FLAGS.heads, FLAGS.out)
  print(f'Wrote {FLAGS.out}; use it with jaxsr.evaluate --lpips={FLAGS.out}')


def run():
  """The command: `python -m jaxsr.convert_lpips`, or `jaxsr-convert-lpips` once installed."""
  define_flags()
  cli.run(main)


if __name__ == '__main__':
  run()
