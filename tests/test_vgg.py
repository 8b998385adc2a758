"""VGG19 weights: jaxsr's .npz, converted without network access from torchvision and Keras files."""
import importlib.util

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import load_config
from safetensors.numpy import save_file

from jaxsr import convert_vgg
from jaxsr.models import vgg
from jaxsr.training import train


def random_torch_state(seed=0):
  """A torchvision vgg19().state_dict() in shapes, with random values (and the classifier, to be ignored)."""
  rng = np.random.default_rng(seed)
  state, fan_in = {}, 3
  for name, index in zip(vgg.LAYERS, convert_vgg.TORCH_FEATURE_INDICES):
    out = vgg.BLOCKS[int(name[4]) - 1]
    state[f'features.{index}.weight'] = rng.normal(0, np.sqrt(2 / (9 * fan_in)), (out, fan_in, 3, 3)).astype(np.float32)
    state[f'features.{index}.bias'] = rng.normal(0, 0.01, (out,)).astype(np.float32)
    fan_in = out
  state['classifier.0.weight'] = np.zeros((8, 4), np.float32)
  return state


@pytest.fixture(scope='module')
def torch_weights(tmp_path_factory):
  path = tmp_path_factory.mktemp('vgg') / 'vgg19.safetensors'
  state = random_torch_state()
  save_file(state, str(path))
  return path, state


def test_torchvision_weights_convert_to_the_same_convolution(torch_weights, tmp_path):
  src, state = torch_weights
  assert convert_vgg.convert(src, tmp_path / 'vgg19.npz') == 'torch'
  params, preprocessing = vgg.load(tmp_path / 'vgg19.npz')
  assert preprocessing == 'torch'
  # conv1_1 at one pixel, computed as PyTorch does: out[o] = b[o] + sum_{i,ky,kx} w[o, i, ky, kx] x[i, y+ky-1, x+kx-1]
  x = jax.random.uniform(jax.random.key(0), (1, 16, 16, 3), minval=-1, maxval=1)
  features = vgg.VGG19(('conv1_1',)).apply({'params': params}, x)['conv1_1']
  pre = np.asarray(vgg.preprocess(x, 'torch'))[0]
  y, xx = 5, 7
  patch = pre[y - 1:y + 2, xx - 1:xx + 2].transpose(2, 0, 1)  # (in, ky, kx)
  w, b = state['features.0.weight'], state['features.0.bias']
  expected = np.maximum(np.einsum('oikl,ikl->o', w, patch) + b, 0)
  np.testing.assert_allclose(np.asarray(features[0, y, xx]), expected, rtol=1e-4, atol=1e-5)


def test_keras_h5_weights_convert_with_caffe_preprocessing(tmp_path):
  rng = np.random.default_rng(1)
  src = tmp_path / 'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5'
  kernels, fan_in = {}, 3
  with h5py.File(src, 'w') as f:
    for name in vgg.LAYERS:
      block, conv = name[4:].split('_')
      group = f.create_group(f'block{block}_conv{conv}').create_group(f'block{block}_conv{conv}')
      out = vgg.BLOCKS[int(block) - 1]
      kernels[name] = rng.normal(0, 0.1, (3, 3, fan_in, out)).astype(np.float32)
      group['kernel:0'], group['bias:0'] = kernels[name], np.zeros(out, np.float32)
      fan_in = out
    f.create_group('block1_pool')
  assert convert_vgg.convert(src, tmp_path / 'vgg19.npz') == 'caffe'
  params, preprocessing = vgg.load(tmp_path / 'vgg19.npz')
  assert preprocessing == 'caffe'
  for name in vgg.LAYERS:
    np.testing.assert_array_equal(params[name]['kernel'], kernels[name])


@pytest.mark.skipif(importlib.util.find_spec('torch') is None, reason='torch is not installed')
def test_pth_state_dict_is_read_with_weights_only(tmp_path):
  import torch
  state = random_torch_state(2)
  torch.save({k: torch.from_numpy(v) for k, v in state.items()}, tmp_path / 'vgg19.pth')
  convert_vgg.convert(tmp_path / 'vgg19.pth', tmp_path / 'vgg19.npz')
  params, _ = vgg.load(tmp_path / 'vgg19.npz')
  np.testing.assert_array_equal(params['conv5_4']['kernel'], state['features.34.weight'].transpose(2, 3, 1, 0))


def test_preprocessing_matches_each_weights_convention():
  red = jnp.array([[[[1.0, -1.0, -1.0]]]])  # pure red in [-1, 1]
  torch_in = np.asarray(vgg.preprocess(red, 'torch'))[0, 0, 0]
  np.testing.assert_allclose(torch_in, [(1 - 0.485) / 0.229, -0.456 / 0.224, -0.406 / 0.225], rtol=1e-5)
  caffe_in = np.asarray(vgg.preprocess(red, 'caffe'))[0, 0, 0]  # BGR, 0..255, mean pixel subtracted
  np.testing.assert_allclose(caffe_in, [-103.939, -116.779, 255 - 123.68], rtol=1e-5)


def test_missing_or_wrong_weights_files_are_named(tmp_path):
  with pytest.raises(FileNotFoundError, match='config.vgg.weights: no VGG19 weights file'):
    vgg.load(tmp_path / 'absent.npz', 'vgg.weights')
  np.savez(tmp_path / 'other.npz', something=np.zeros(3))
  with pytest.raises(ValueError, match=r"does not hold the arrays expected: missing .*unexpected \['something'\]"):
    vgg.load(tmp_path / 'other.npz', 'vgg.weights')
  with pytest.raises(ValueError, match='unknown weights format'):
    convert_vgg.convert(tmp_path / 'vgg19.onnx', tmp_path / 'out.npz')


def test_srgan_vgg_trains_with_frozen_weights_left_out_of_checkpoints(torch_weights, data_dir, tmp_path):
  weights = tmp_path / 'vgg19.npz'
  convert_vgg.convert(torch_weights[0], weights)
  config = load_config('srgan', 'vgg,tiny')
  config.update(data_dir=data_dir, batch_size=2, eval_size=2, num_steps=1, checkpoint_every=1)
  config.vgg.weights = str(weights)
  devices = jax.devices()[:1]
  state = train.train_and_evaluate(config, tmp_path / 'run', devices=devices)
  np.testing.assert_array_equal(np.asarray(state.frozen['vgg'].variables['params']['conv1_1']['kernel']),
                                np.load(weights)['conv1_1/kernel'])
  checkpoint_bytes = sum(f.stat().st_size for f in (tmp_path / 'run' / 'checkpoints').rglob('*') if f.is_file())
  assert checkpoint_bytes < 10e6  # the networks and optimizer states, not VGG19's 80 MB
  config.num_steps = 2
  resumed = train.train_and_evaluate(config, tmp_path / 'run', devices=devices)  # restores around the frozen VGG
  assert int(resumed.step) == 2 and 'vgg' in resumed.frozen
