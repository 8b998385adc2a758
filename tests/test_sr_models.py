import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsr.models import discriminators
from jaxsr.models.sr_generators import DCGANSRGenerator, SRResNet, SrezGenerator

GENERATORS = {
    'srresnet': lambda scale: SRResNet(scale, blocks=2, features=16),
    'srez': lambda scale: SrezGenerator(scale, widths=(16,) * int(np.log2(scale)), blocks=1, head_features=8),
    'dcgan': lambda scale: DCGANSRGenerator(scale, blocks=2, features=16),
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


def test_srresnet_has_the_paper_layout():
  variables = SRResNet(4).init(jax.random.key(0), jnp.zeros((1, 16, 16, 3)), train=False)
  p = variables['params']
  assert p['Conv_0']['kernel'].shape == (9, 9, 3, 64) and p['Conv_2']['kernel'].shape == (9, 9, 64, 3)
  assert len([k for k in p if k.startswith('ResBlock_')]) == 16
  up = [k for k in p if k.startswith('PixelShuffleUpsample_')]
  assert len(up) == 2 and p[up[0]]['Conv_0']['kernel'].shape == (3, 3, 64, 256)
  assert float(p['PReLU_0']['negative_slope']) == pytest.approx(0.25)  # PyTorch's PReLU start, not Flax's 0.01


def test_scale_that_is_not_a_power_of_two_is_refused():
  with pytest.raises(ValueError, match='config.scale'):
    SRResNet(3, blocks=1, features=8).init(jax.random.key(0), jnp.zeros((1, 8, 8, 3)), train=False)
  with pytest.raises(ValueError, match='config.generator.widths'):
    SrezGenerator(8, widths=(8, 8)).init(jax.random.key(0), jnp.zeros((1, 8, 8, 3)), train=False)


def test_srez_residual_convs_start_near_zero():
  g = SrezGenerator(4, widths=(32, 16), blocks=2, residual_init_scale=0.01)
  params = g.init(jax.random.key(0), jnp.zeros((1, 8, 8, 3)), train=False)['params']
  residual = [p[c]['kernel'] for k, p in params.items() if k.startswith('PreActResBlock_') for c in p
              if c.startswith('conv')]
  assert len(residual) == 4 * 2  # 4 blocks of 2 convs
  for kernel in residual:
    he_std = np.sqrt(2.0 / np.prod(kernel.shape[:3]))
    assert 0.005 * he_std < float(jnp.std(kernel)) < 0.015 * he_std  # each block starts close to the identity
  stem = params['Conv_0']['kernel']  # the other convs keep the usual scale
  assert float(jnp.std(stem)) > 0.3 * np.sqrt(1.0 / np.prod(stem.shape[:3]))


@pytest.mark.parametrize('units,head', [(discriminators.SRGAN_UNITS, 'dense'), (discriminators.SREZ_UNITS, 'mean'),
                                        (discriminators.DCGAN_UNITS, 'mean')])
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
