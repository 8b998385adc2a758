"""The random numbers networks start from: a counter-based hash generator, used for initialisation only.

jax.random's threefry lowers on the CPU to a while loop per draw, which XLA compiles draw by draw: initialising
a method's networks (a few hundred kernels and biases) took as long to compile as its training step
(benchmarks/compile_time.py). Here a tensor's bits are MurmurHash3's 32-bit finaliser (Appleby), applied twice
to a counter keyed by the two words of the key: a handful of elementwise integer operations that XLA fuses into
one loop per tensor. Keys split and fold in by the same hash, so Flax's per-parameter keys stay independent
streams. The draws have the distributions the initialisers ask for (tested: moments, correlation between
streams), not threefry's values; the key is made from the run's threefry key, so the seed still decides
everything, and the same numbers come from every jax version (threefry's changed with jax_threefry_partitionable).
Training's randomness (noise, dropout, the step keys) stays threefry's.
"""
import jax
import jax.extend.random
import jax.numpy as jnp
import numpy as np

_GOLDEN = np.uint32(0x9E3779B9)


def _fmix32(h):
  """MurmurHash3's finaliser: every input bit flips each output bit with probability close to 1/2."""
  h = h ^ (h >> 16)
  h = h * np.uint32(0x85EBCA6B)
  h = h ^ (h >> 13)
  h = h * np.uint32(0xC2B2AE35)
  return h ^ (h >> 16)


def _stream(key, count):
  """`count` uint32 words of the stream of `key` (uint32[2])."""
  counter = jax.lax.iota(jnp.uint32, count)
  return _fmix32(_fmix32(counter ^ key[0]) + key[1] * _GOLDEN)


def _seed(seed):
  seed = jnp.asarray(seed).astype(jnp.uint32)
  return jnp.stack([_fmix32(seed ^ np.uint32(0x3C6EF372)), _fmix32(seed + np.uint32(0xA54FF53A))])


def _split(key, shape):
  count = int(np.prod(shape))
  return _stream(jnp.stack([key[0] ^ np.uint32(0x68E31DA4), key[1]]), 2 * count).reshape(*shape, 2)


def _fold_in(key, data):
  data = jnp.asarray(data).astype(jnp.uint32)
  return jnp.stack([_fmix32(key[0] ^ _fmix32(data)), _fmix32(key[1] + data * _GOLDEN)])


def _random_bits(key, bit_width, shape):
  count = int(np.prod(shape))
  low = _stream(key, count)
  if bit_width == 64:
    high = _stream(key[::-1], count)
    return ((high.astype(jnp.uint64) << 32) | low.astype(jnp.uint64)).reshape(shape)
  dtype = {8: jnp.uint8, 16: jnp.uint16, 32: jnp.uint32}[bit_width]
  return (low >> (32 - bit_width)).astype(dtype).reshape(shape)


HASH = jax.extend.random.define_prng_impl(key_shape=(2,), seed=_seed, split=_split, random_bits=_random_bits,
                                          fold_in=_fold_in, name='jaxsr_hash32', tag='h32')


def key(threefry_key):
  """The initialisation key made from a raw threefry key (jax.random.PRNGKey's uint32[2])."""
  return jax.random.wrap_key_data(jnp.asarray(threefry_key, jnp.uint32), impl=HASH)
