"""The face-SR write-up's U-Net pipeline: the figures' shapes and skips, a joint step that updates what it should,
and pixel losses that fall on the embedded faces."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import setup_one_device, tiny
from flax import traverse_util

from jaxsr import methods
from jaxsr.core import images
from jaxsr.models import unet


def shapes(module, *inputs):
  return jax.eval_shape(lambda: module.init(jax.random.key(0), *inputs, train=False))['params']


def decoder_inputs(params):
  """{side: input channels of the decoder's upsampling conv to that side, 'head': the head conv's} from the UNet's
  parameter shapes (_Stage_0, _Stage_1: 1x1 -> 2x2; _Stage_2, _Stage_3: -> 4x4; ...; the last: the head). A skip
  doubles what the next conv reads."""
  convs = [c for _, c in sorted((int(k.split('_')[-1]), v['TorchConv_0']['conv']['kernel'].shape[2])
                                for k, v in params['unet'].items() if k.startswith('_Stage'))]
  return {**{side: convs[2 * i] for i, side in enumerate((2, 4, 8, 16, 32, 64))}, 'head': convs[-1]}


def test_the_figures_shapes_and_skips():
  hr, z = jnp.zeros((2, 64, 64, 3)), jnp.zeros((2, 64))
  h2l, l2h, d = unet.UNetHighToLow(), unet.UNetLowToHigh(), unet.UNetDiscriminator()
  assert h2l.apply(h2l.init(jax.random.key(0), hr, z, train=False), hr, z, train=False).shape == (2, 64, 64, 3)
  assert jax.eval_shape(lambda: d.apply(d.init(jax.random.key(0), hr, train=False), hr, train=False)).shape == (2,)
  h2l_params, l2h_params = shapes(h2l, hr, z), shapes(l2h, hr)
  assert h2l_params['noise']['kernel'].shape == (64, 64 * 64)  # N(0, 1)^64 -> the 64x64 noise channel
  assert h2l_params['unet']['UNetEncoder_0']['TorchConv_0']['conv']['kernel'].shape == (3, 3, 4, 64)
  # Each conv reads the level below it: doubled where that level concatenated the encoder's features.
  widths = {2: 256, 4: 256, 8: 128, 16: 128, 32: 64, 64: 64}
  below = {4: 2, 8: 4, 16: 8, 32: 16, 64: 32, 'head': 64}
  assert decoder_inputs(h2l_params) == {2: 512, **{s: widths[b] * (2 if b in unet.H2L_SKIPS else 1)
                                                   for s, b in below.items()}}
  assert decoder_inputs(l2h_params) == {2: 512, **{s: 2 * widths[b] for s, b in below.items()}}
  # no normalisation in the discriminator, none on the encoder's stages that end at 1x1
  assert not any('BatchNorm' in '/'.join(k) for k in traverse_util.flatten_dict(shapes(d, hr)))
  stages = l2h_params['unet']['UNetEncoder_0']
  assert 'BatchNorm_0' in stages['_Stage_9'] and 'BatchNorm_0' not in stages['_Stage_10']


def test_the_residual_carries_the_input_and_the_noise_changes_the_degradation():
  x = jax.random.uniform(jax.random.key(1), (1, 64, 64, 3), minval=-0.5, maxval=0.5)
  l2h = unet.UNetLowToHigh(width=8)
  variables = l2h.init(jax.random.key(0), x, train=False)
  shifted = x.at[:, 10, 20].add(0.3)
  change = jnp.abs(l2h.apply(variables, shifted, train=False) - l2h.apply(variables, x, train=False))[0]
  assert float(change[10, 20].max()) > 0.1 and float(change[10, 20].max()) > 10 * float(jnp.median(change))
  h2l = unet.UNetHighToLow(width=8)
  z = jax.random.normal(jax.random.key(2), (2, 64))
  variables = h2l.init(jax.random.key(0), jnp.tile(x, (2, 1, 1, 1)), z, train=False)
  # In training mode (batch statistics): at initialisation the running statistics are the identity, and 25
  # PyTorch-initialised layers shrink any signal by some 1e-8.
  out, _ = h2l.apply(variables, jnp.tile(x, (2, 1, 1, 1)), z, train=True, mutable=['batch_stats'])
  assert float(jnp.abs(out[0] - out[1]).mean()) > 1e-3  # the same face, two noises, two degradations


def test_a_joint_step_updates_each_network_from_its_own_loss(data_dir):
  config = tiny('unet_degradation', data_dir, hr_discriminator=True)  # the write-up's section 5: + D on L2H
  _, state, batch, step, _ = setup_one_device(config)
  assert set(state.nets) == {'h2l', 'd_lr', 'l2h', 'd_hr'}
  before = jax.device_get({k: n.params for k, n in state.nets.items()})
  state, metrics = step(state, batch)
  after = jax.device_get({k: n.params for k, n in state.nets.items()})
  for name in before:
    assert any(np.any(a != b) for a, b in zip(jax.tree.leaves(before[name]), jax.tree.leaves(after[name]))), name
  assert {'h2l/pixel', 'h2l/adversarial', 'l2h/pixel', 'l2h/adversarial', 'd_lr/loss', 'd_hr/loss'} <= set(metrics)

  # L2H's loss reaches L2H only: without it H2L and D_LR take the same step, and L2H none (D_HR still learns).
  config.l2h_alpha, config.l2h_beta = 0.0, 0.0
  _, quiet_state, _, quiet_step, _ = setup_one_device(config)
  quiet_state, _ = quiet_step(quiet_state, batch)
  for name in ('h2l', 'd_lr'):
    for a, b in zip(jax.tree.leaves(after[name]), jax.tree.leaves(jax.device_get(quiet_state.nets[name].params))):
      np.testing.assert_array_equal(a, b)
  for a, b in zip(jax.tree.leaves(before['l2h']), jax.tree.leaves(jax.device_get(quiet_state.nets['l2h'].params))):
    np.testing.assert_array_equal(a, b)


def test_pixel_losses_fall_and_the_model_upscales_16_px_faces(data_dir):
  config = tiny('unet_degradation', data_dir)
  for net in ('h2l', 'd_lr', 'l2h', 'd_hr'):
    config[net].optimizer.learning_rate = 3e-4
  method, state, batch, step, _ = setup_one_device(config)
  first = None
  for _ in range(8):
    state, metrics = step(state, batch)
    first = first or {k: float(metrics[k]) for k in ('h2l/pixel', 'l2h/pixel')}
  for k, value in first.items():  # H2L's against its discriminator's pull
    assert float(metrics[k]) < 0.9 * value, k
  assert 'd_hr' not in state.nets and 'l2h/adversarial' not in metrics
  lr = images.to_float(batch['lr'][:2])
  assert method.upscale(state, lr).shape == (2, 64, 64, 3)
  assert methods.create(config).sr_network == 'l2h'


def test_sizes_other_than_16_to_64_are_refused(data_dir):
  with pytest.raises(ValueError, match=r'config.image_size, scale: .* \(64, 4\), got \(128, 4\)'):
    methods.create(tiny('unet_degradation', data_dir, image_size=128))
  with pytest.raises(ValueError, match="config.activation: unknown 'gelu'"):
    methods.create(tiny('unet_degradation', data_dir, activation='gelu'))
  with pytest.raises(ValueError, match="config.h2l_target: unknown 'lr'"):
    methods.create(tiny('unet_degradation', data_dir, h2l_target='lr'))


def test_the_lr_l1_term_holds_the_output_to_its_inputs_averages(data_dir):
  config = tiny('unet_degradation', data_dir)
  method = methods.create(config)
  rng = np.random.default_rng(0)
  sr, hr, lr_up = (jnp.asarray(rng.uniform(-1, 1, (2, 64, 64, 3)), jnp.float32) for _ in range(3))
  assert 'lr_l1' not in method.l2h_loss(sr, hr, lr_up)[1]  # off by default: the write-up has no such term
  config.l2h_lr_l1 = 2.0
  loss, terms = methods.create(config).l2h_loss(sr, hr, lr_up)
  pool = lambda x: np.asarray(x).reshape(2, 16, 4, 16, 4, 3).mean(axis=(2, 4))  # noqa: E731
  np.testing.assert_allclose(terms['lr_l1'], np.abs(pool(sr) - pool(lr_up)).mean(), rtol=1e-5)
  np.testing.assert_allclose(loss, terms['pixel'] + 2.0 * terms['lr_l1'], rtol=1e-5)
  # an output whose 4x4 averages are its input's pays nothing, whatever its detail
  detail = jnp.asarray(np.tile([[1.0, -1.0], [-1.0, 1.0]], (32, 32))[None, :, :, None] * 0.1, jnp.float32)
  assert float(methods.create(config).l2h_loss(lr_up + detail, hr, lr_up)[1]['lr_l1']) < 1e-6
