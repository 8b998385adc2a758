import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsr.models import discriminators
from jaxsr.models.sr_generators import DCGANSRGenerator, EDSRGenerator, ESPCNGenerator, SrezGenerator, SRResNetGenerator

GENERATORS = {
    'srresnet': lambda scale: SRResNetGenerator(scale, blocks=2, features=16),
    'srez': lambda scale: SrezGenerator(scale, widths=(16,) * int(np.log2(scale)), blocks=1, head_features=8),
    'dcgan': lambda scale: DCGANSRGenerator(scale, widths=(16, 8)),
}


@pytest.mark.parametrize('scale', [2, 4, 8])
@pytest.mark.parametrize('name', sorted(GENERATORS))
def test_generators_upscale_by_the_configured_factor(name, scale):
  g = GENERATORS[name](scale)
  lr = jax.random.uniform(jax.random.key(0), (2, 8, 8, 3), minval=-1, maxval=1)
  out, variables = g.init_with_output(jax.random.key(1), lr, train=False)
  assert out.shape == (2, 8 * scale, 8 * scale, 3)
  assert float(jnp.abs(out).max()) <= 1.0
  sr, updated = g.apply(variables, lr, train=True, mutable=['batch_stats'])
  assert sr.shape == out.shape and jax.tree.structure(updated) == jax.tree.structure(
      {'batch_stats': variables['batch_stats']})


@pytest.mark.parametrize('scale', [2, 3, 4])
def test_espcn_shuffles_once_by_any_integer_scale_with_the_papers_layers(scale):
  lr = jax.random.uniform(jax.random.key(0), (2, 8, 8, 3), minval=-1, maxval=1)
  out, variables = ESPCNGenerator(scale).init_with_output(jax.random.key(1), lr, train=False)
  assert out.shape == (2, 8 * scale, 8 * scale, 3) and set(variables) == {'params'}
  # (5x5x3 + 1) 64 + (3x3x64 + 1) 32 + (3x3x32 + 1) 3 r^2: Shi et al.'s (f1, n1) = (5, 64), (f2, n2) = (3, 32), f3 = 3
  count = sum(x.size for x in jax.tree.leaves(variables))
  assert count == 76 * 64 + 577 * 32 + 289 * 3 * scale ** 2


def test_srresnet_has_the_paper_layout():
  variables = SRResNetGenerator(4).init(jax.random.key(0), jnp.zeros((1, 16, 16, 3)), train=False)
  p = variables['params']
  assert p['Conv_0']['kernel'].shape == (9, 9, 3, 64) and p['Conv_2']['kernel'].shape == (9, 9, 64, 3)
  assert len([k for k in p if k.startswith('ResBlock_')]) == 16
  up = [k for k in p if k.startswith('PixelShuffleUpsample_')]
  assert len(up) == 2 and p[up[0]]['Conv_0']['kernel'].shape == (3, 3, 64, 256)
  assert float(p['PReLU_0']['negative_slope']) == pytest.approx(0.25)  # PyTorch's PReLU start, not Flax's 0.01


def test_scale_that_is_not_a_power_of_two_is_refused():
  with pytest.raises(ValueError, match='config.scale'):
    SRResNetGenerator(3, blocks=1, features=8).init(jax.random.key(0), jnp.zeros((1, 8, 8, 3)), train=False)
  with pytest.raises(ValueError, match='config.generator.widths'):
    SrezGenerator(8, widths=(8, 8)).init(jax.random.key(0), jnp.zeros((1, 8, 8, 3)), train=False)


def test_srez_convs_are_initialised_as_the_tensorflow_original():
  # srez_model.py: std sqrt(factor / (sqrt(fan_in fan_out) k^2)) truncated at 2 std (which keeps 0.88 of the std);
  # factor 1e-3 in the residual blocks (each starts close to the identity), 2 in the head, biases everywhere.
  g = SrezGenerator(4, widths=(32, 16), blocks=2)
  params = g.init(jax.random.key(0), jnp.zeros((1, 8, 8, 3)), train=False)['params']

  def expected_std(kernel, factor):
    kh, kw, fan_in, fan_out = kernel.shape
    return 0.88 * np.sqrt(factor / (np.sqrt(fan_in * fan_out) * kh * kw))

  residual = [p[c] for k, p in params.items() if k.startswith('PreActResBlock_') for c in ('conv1', 'conv2')]
  assert len(residual) == 4 * 2  # 4 blocks of 2 convs
  for conv in residual:
    assert float(jnp.std(conv['kernel'])) == pytest.approx(expected_std(conv['kernel'], 1e-3), rel=0.1)
    assert conv['bias'].shape == conv['kernel'].shape[-1:]
  upsampling, head = params['Conv_3']['kernel'], params['Conv_4']['kernel']  # stage 2's conv, the head's 3x3
  assert head.shape == (3, 3, 16, 96) and float(jnp.std(head)) == pytest.approx(expected_std(head, 2.0), rel=0.1)
  assert float(jnp.std(upsampling)) == pytest.approx(expected_std(upsampling, 1.0), rel=0.1)


@pytest.mark.parametrize('units,head', [(discriminators.SRGAN_UNITS, 'dense'), (discriminators.SREZ_UNITS, 'mean')])
def test_conv_discriminators_give_one_logit_per_image(units, head):
  d = discriminators.ConvDiscriminator(units, head=head, first_norm=head == 'mean')
  x = jax.random.normal(jax.random.key(0), (3, 64, 64, 3))
  variables = d.init(jax.random.key(1), x, train=False)
  logits, _ = d.apply(variables, x, train=True, mutable=['batch_stats'])
  assert logits.shape == (3,) and logits.dtype == jnp.float32
  if head == 'dense':  # SRGAN: 64 -> 4x4x512 after four stride-2 convs, then Dense 1024; no BN on the first conv
    assert variables['params']['Dense_0']['kernel'].shape == (4 * 4 * 512, 1024)
    assert 'ConvNormAct_0' not in variables['batch_stats']
    assert 'BatchNorm_0' in variables['batch_stats']['ConvNormAct_1']


@pytest.mark.parametrize('bn_activations', [False, True])
def test_dcgan_sr_networks_have_the_notebooks_parameter_counts(bn_activations):
  # Super_Resolution_DCGAN.ipynb's model.summary(): Keras counts BatchNorm moving statistics as non-trainable.
  def counts(module, x):
    variables = jax.eval_shape(lambda: module.init(jax.random.key(0), x, train=False))
    size = lambda tree: sum(int(np.prod(v.shape)) for v in jax.tree.leaves(tree))  # noqa: E731
    return size(variables['params']), size(variables['params']) + size(variables['batch_stats'])

  g = DCGANSRGenerator(bn_activations=bn_activations)
  d = discriminators.DCGANSRDiscriminator(bn_activations=bn_activations)
  assert counts(g, jnp.zeros((1, 32, 32, 3))) == (3_052_035, 3_057_539)
  assert counts(d, jnp.zeros((1, 128, 128, 3))) == (3_036_481, 3_040_961)
  out = jax.eval_shape(lambda: g.init_with_output(jax.random.key(0), jnp.zeros((2, 32, 32, 3)), train=False))[0]
  assert out.shape == (2, 128, 128, 3)


def test_the_notebooks_no_op_activations_are_a_switch():
  x = jax.random.normal(jax.random.key(0), (2, 32, 32, 3))
  g = DCGANSRGenerator(widths=(8, 8))
  variables = g.init(jax.random.key(1), x, train=False)
  as_run, described = (DCGANSRGenerator(widths=(8, 8), bn_activations=b).apply(variables, x, train=False)
                       for b in (False, True))
  assert not np.allclose(as_run, described)


def _count(variables):
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(variables))


def test_edsr_baseline_has_the_papers_parameter_count_and_pytorch_initialisation():
  g = EDSRGenerator(4)
  variables = g.init(jax.random.key(0), jnp.zeros((1, 16, 16, 3)), train=False)
  # head, 16 blocks of two convs, the body's last conv, two x2 upsampling convs to 256, the conv to RGB (biases on)
  conv = lambda fan_in, out, k=3: k * k * fan_in * out + out  # noqa: E731
  assert _count(variables) == conv(3, 64) + 32 * conv(64, 64) + conv(64, 64) + 2 * conv(64, 256) + conv(64, 3) \
      == 1_517_571  # EDSR-PyTorch's baseline x4
  kernel = variables['params']['EDSRBlock_0']['TorchConv_0']['conv']
  bound = 1 / np.sqrt(9 * 64)  # nn.Conv2d's kaiming_uniform(a=sqrt(5)) and bias: uniform(+-1/sqrt(fan_in))
  for x in (kernel['kernel'], kernel['bias']):
    assert np.abs(x).max() <= bound and np.abs(x).max() > 0.9 * bound and abs(float(np.std(x)) - bound / np.sqrt(3)) \
        < 0.1 * bound


@pytest.mark.parametrize('upsampler', ['x2_stages', 'single_shuffle'])
def test_edsr_with_the_bicubic_skip_starts_from_bicubic_upsampling(upsampler):
  g = EDSRGenerator(4, blocks=2, features=16, bicubic_skip=True, upsampler=upsampler)
  lr = jax.random.uniform(jax.random.key(0), (2, 8, 8, 3), minval=-1, maxval=1)
  variables = g.init(jax.random.key(1), lr, train=False)
  last = max(k for k in variables['params'] if k.startswith('TorchConv'))  # the tail's last conv
  zeroed = jax.tree.map(jnp.zeros_like, variables['params'][last])
  out = g.apply({'params': {**variables['params'], last: zeroed}}, lr, train=False)
  np.testing.assert_allclose(out, jax.image.resize(lr, (2, 32, 32, 3), 'bicubic'), atol=1e-6)
  assert not np.allclose(g.apply(variables, lr, train=False), out, atol=1e-3)  # the residual is learned
  single = EDSRGenerator(4, blocks=2, features=16, upsampler='single_shuffle').init(jax.random.key(1), lr, train=False)
  stages = EDSRGenerator(4, blocks=2, features=16).init(jax.random.key(1), lr, train=False)
  assert _count(stages) - _count(single) == 2 * (9 * 16 * 64 + 64) + (9 * 16 * 3 + 3) - (9 * 16 * 48 + 48)
  with pytest.raises(ValueError, match='config.generator.upsampler'):
    EDSRGenerator(4, upsampler='nearest').init(jax.random.key(1), lr, train=False)
