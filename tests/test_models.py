import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsr.models import layers
from jaxsr.models.discriminators import SNResNetDiscriminator
from jaxsr.models.h2l import HighToLowGenerator


def test_h2l_generator_maps_64_to_16_pooling_in_the_first_block_of_each_pair():
  g = HighToLowGenerator()
  hr, z = jnp.zeros((2, 64, 64, 3)), jnp.ones((2, 64))
  out, variables = jax.jit(lambda: g.init_with_output(jax.random.key(0), hr, z, train=False))()
  assert out.shape == (2, 16, 16, 3)
  assert float(jnp.abs(out).max()) <= 1.0  # tanh
  assert 'batch_stats' in variables
  params = variables['params']
  assert params['noise']['kernel'].shape == (64, 64 * 64)  # z -> Dense(4096) -> a 64x64x1 noise channel
  # yoon28/unpaired_face_sr's High2Low: blocks 0, 2, 4, 6 pool and project their skip (with a bias), even 96 -> 96.
  assert [f'PreActResBlock_{i}' for i in range(8) if 'skip' in params[f'PreActResBlock_{i}']] == \
      [f'PreActResBlock_{i}' for i in (0, 2, 4, 6)]
  assert params['PreActResBlock_0']['skip']['bias'].shape == (96,)
  assert set(params['stem']) == set(params['head_conv']) == set(params['head_out']) == {'kernel'}  # no biases


@pytest.mark.parametrize('size,pooled', [(16, 2), (64, 4)])
def test_discriminator_gives_one_logit_per_image_and_keeps_spectral_state(size, pooled):
  d = SNResNetDiscriminator(pooled_blocks=pooled)
  x = jax.random.normal(jax.random.key(1), (3, size, size, 3))
  variables = d.init(jax.random.key(0), x, train=False)
  logits, updated = d.apply(variables, x, train=True, mutable=['batch_stats'])
  assert logits.shape == (3,)
  u_before = jax.tree.leaves(variables['batch_stats'])
  u_after = jax.tree.leaves(updated['batch_stats'])
  assert any(not np.allclose(a, b) for a, b in zip(u_before, u_after))  # one power iteration happened
  # The flattened features enter the dense layer at 4x4x512 for both resolutions.
  dense = variables['params']['SNDense_0']['Dense_0']['kernel']
  assert dense.shape == (4 * 4 * 512, 512)
  # yoon28/unpaired_face_sr's blocks: an identity skip unless the width changes or the block pools; biasless 3x3s.
  blocks = [variables['params'][f'SNResBlock_{i}'] for i in range(6)]
  pooled_from = 6 - pooled
  assert [i for i, b in enumerate(blocks) if 'skip' in b] == sorted({0, 2, 4} | set(range(pooled_from, 6)))
  assert all(set(b[c]['Conv_0']) == {'kernel'} for b in blocks for c in ('SNConv_0', 'SNConv_1'))


def test_pixel_shuffle_matches_pytorch_order():
  # torch.nn.PixelShuffle: out[c, h*r + i, w*r + j] = in[c*r*r + i*r + j, h, w]
  r, c, h, w = 2, 3, 2, 4
  x = np.arange(c * r * r * h * w, dtype=np.float32).reshape(1, h, w, c * r * r)
  out = np.asarray(layers.pixel_shuffle(jnp.asarray(x), r))
  assert out.shape == (1, h * r, w * r, c)
  for ch in range(c):
    for i in range(r):
      for j in range(r):
        np.testing.assert_array_equal(out[0, i::r, j::r, ch], x[0, :, :, ch * r * r + i * r + j])


def test_bfloat16_computes_in_bf16_with_float32_params():
  g = HighToLowGenerator(widths=(8, 8, 8, 8, 16, 16, 32, 32), up_widths=(8, 2), blocks_per_stage=1, dtype=jnp.bfloat16)
  hr, z = jnp.zeros((1, 64, 64, 3)), jnp.zeros((1, 64))
  variables = g.init(jax.random.key(0), hr, z, train=False)
  assert {p.dtype for p in jax.tree.leaves(variables['params'])} == {jnp.dtype(jnp.float32)}
  intermediates = g.apply(variables, hr, z, train=False, capture_intermediates=True,
                          mutable=['intermediates'])[1]['intermediates']
  conv_out = intermediates['stem']['__call__'][0]
  assert conv_out.dtype == jnp.bfloat16
