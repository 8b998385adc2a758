"""LPIPS (jaxsr.models.lpips): the converter on files of the formats the lpips package and torchvision use, made
from random weights; a distance that behaves as one; the lpips package's own values where torch is installed."""
import importlib
import sys
import types

import numpy as np
import pytest

from jaxsr import convert_lpips, evaluate
from jaxsr.models import lpips


def torch_format_files(tmp_path, net, seed=0):
  """(backbone, heads) .safetensors files with torchvision's and the lpips package's key names, random weights."""
  from safetensors.numpy import save_file
  rng = np.random.default_rng(seed)
  backbone, width = {}, 3
  for index, (_, out, kernel, _, _) in zip(lpips.TORCH_CONV_INDICES[net], lpips.convs(net)):
    scale = np.sqrt(2.0 / (width * kernel * kernel))
    kernels = rng.standard_normal((out, width, kernel, kernel)) * scale
    backbone[f'features.{index}.weight'] = kernels.astype(np.float32)
    backbone[f'features.{index}.bias'] = (rng.standard_normal(out) * 0.01).astype(np.float32)
    width = out
  backbone['classifier.1.weight'] = np.zeros((4, 4), np.float32)  # the classifier is not read
  heads = {f'lin{level}.model.1.weight': rng.uniform(0, 0.1, (1, c, 1, 1)).astype(np.float32)
           for level, c in enumerate(lpips.tap_widths(net))}
  save_file(backbone, tmp_path / f'{net}_backbone.safetensors')
  save_file(heads, tmp_path / f'{net}_heads.safetensors')
  return tmp_path / f'{net}_backbone.safetensors', tmp_path / f'{net}_heads.safetensors'


@pytest.mark.parametrize('net', ['alex', 'vgg'])
def test_converted_weights_give_a_distance(net, tmp_path):
  backbone, heads = torch_format_files(tmp_path, net)
  convert_lpips.convert(net, backbone, heads, tmp_path / 'lpips.npz')
  distance = lpips.Distance(tmp_path / 'lpips.npz')
  rng = np.random.default_rng(1)
  x = rng.integers(0, 256, (4, 64, 64, 3), np.uint8)
  noisy = [np.clip(x + rng.normal(0, s, x.shape), 0, 255).astype(np.uint8) for s in (4, 32)]
  np.testing.assert_allclose(distance(x, x), 0.0, atol=1e-6)
  np.testing.assert_allclose(distance(x, noisy[0]), distance(noisy[0], x), rtol=1e-5)
  assert (distance(x, noisy[0]) > 0).all() and (distance(x, noisy[1]) > distance(x, noisy[0])).all()


def test_the_converter_names_what_does_not_fit(tmp_path):
  backbone, heads = torch_format_files(tmp_path, 'alex')
  with pytest.raises(ValueError, match=r'--heads: no lin1.model.1.weight of shape \(1, 128, 1, 1\) for vgg'):
    convert_lpips.convert('vgg', torch_format_files(tmp_path, 'vgg')[0], heads, tmp_path / 'x.npz')
  with pytest.raises(ValueError, match='--backbone: not a torchvision alex state dict: no features.0'):
    convert_lpips.convert('alex', heads, heads, tmp_path / 'x.npz')
  np.savez(tmp_path / 'other.npz', a=np.zeros(3))
  with pytest.raises(ValueError, match='not a jaxsr LPIPS file'):
    lpips.load(tmp_path / 'other.npz')


def test_evaluate_adds_lpips_per_face(tmp_path):
  backbone, heads = torch_format_files(tmp_path, 'alex')
  convert_lpips.convert('alex', backbone, heads, tmp_path / 'lpips.npz')
  rng = np.random.default_rng(2)
  hr = rng.integers(0, 256, (3, 64, 64, 3), np.uint8)
  data = {'lr': hr[:, ::4, ::4], 'hr': hr, 'reference': hr, 'names': ['a', 'b', 'c']}
  rows, _ = evaluate.evaluate([], ['bicubic'], data, 4, lpips_distance=lpips.Distance(tmp_path / 'lpips.npz'))
  assert rows[0]['per_face']['lpips'].shape == (3,) and rows[0]['lpips'] > 0


def _torchvision_or_a_stand_in():
  """torchvision, or where it cannot load (a CPU torch build it was not compiled against) a stand-in with
  torchvision's alexnet/vgg16 `features` layouts, which is all the lpips package takes from it."""
  try:
    importlib.import_module('torchvision')
    return
  except (ImportError, RuntimeError):
    sys.modules.pop('torchvision', None)
  from torch import nn

  def features(layers):
    modules, width = [], 3
    for layer in layers:
      if layer == 'tap':
        continue
      if layer[0] == 'pool':
        modules.append(nn.MaxPool2d(layer[1], layer[2]))
      else:
        _, out, kernel, stride, pad = layer
        modules += [nn.Conv2d(width, out, kernel, stride, pad), nn.ReLU(inplace=True)]
        width = out
    return types.SimpleNamespace(features=nn.Sequential(*modules))

  models = types.ModuleType('torchvision.models')
  models.alexnet = lambda pretrained=False: features(lpips.BACKBONES['alex'])
  models.vgg16 = lambda pretrained=False: features(lpips.BACKBONES['vgg'])
  stand_in = types.ModuleType('torchvision')
  stand_in.models = models
  sys.modules.update({'torchvision': stand_in, 'torchvision.models': models})


@pytest.mark.parametrize('net', ['alex', 'vgg'])
def test_values_equal_the_lpips_packages(net, tmp_path):
  torch = pytest.importorskip('torch')
  _torchvision_or_a_stand_in()
  package = pytest.importorskip('lpips')
  reference = package.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False).eval()  # its own heads
  torch.save(reference.state_dict(), tmp_path / 'full.pth')
  convert_lpips.convert(net, tmp_path / 'full.pth', tmp_path / 'full.pth', tmp_path / 'lpips.npz')
  rng = np.random.default_rng(3)
  x, y = (rng.uniform(-1, 1, (3, 64, 64, 3)).astype(np.float32) for _ in range(2))
  with torch.no_grad():
    want = reference(*(torch.from_numpy(v.transpose(0, 3, 1, 2)) for v in (x, y))).numpy().reshape(-1)
  np.testing.assert_allclose(lpips.Distance(tmp_path / 'lpips.npz')(x, y), want, rtol=1e-4, atol=1e-6)
