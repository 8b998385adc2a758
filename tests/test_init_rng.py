"""jaxsr.core.init_rng: the hash generator networks are initialised from draws what the initialisers ask for, in
independent streams, the same every time."""
import jax
import numpy as np
import pytest

from jaxsr.core import init_rng


def test_draws_have_the_distributions_asked_for():
  key = init_rng.key(jax.random.PRNGKey(0))
  u = np.asarray(jax.random.uniform(key, (1_000_000,)))
  assert u.mean() == pytest.approx(0.5, abs=2e-3) and u.var() == pytest.approx(1 / 12, rel=5e-3)
  assert np.histogram(u, bins=10, range=(0, 1))[0].min() > 0.098 * len(u)
  x = np.asarray(jax.random.normal(key, (1_000_000,)))
  assert abs(x.mean()) < 3e-3 and x.std() == pytest.approx(1.0, rel=3e-3)
  assert ((x - x.mean()) ** 4).mean() / x.var() ** 2 == pytest.approx(3.0, rel=0.02)  # Gaussian tails
  t = np.asarray(jax.random.truncated_normal(key, -2.0, 2.0, (1_000_000,)))
  assert np.abs(t).max() <= 2.0 and t.std() == pytest.approx(0.8796, rel=5e-3)
  assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 5e-3  # no serial correlation within a stream


def test_folded_and_split_keys_give_independent_streams():
  key = init_rng.key(jax.random.PRNGKey(3))
  for keys in ([jax.random.fold_in(key, i) for i in range(64)], list(jax.random.split(key, 64))):
    streams = np.stack([np.asarray(jax.random.uniform(k, (4096,))) for k in keys])
    correlation = np.corrcoef(streams)
    np.fill_diagonal(correlation, 0)
    assert np.abs(correlation).max() < 6 / np.sqrt(4096)  # what independent streams of this length reach
    assert len({s.tobytes() for s in streams}) == 64


def test_the_seed_decides_and_jit_changes_nothing():
  draw = lambda seed: jax.random.normal(init_rng.key(jax.random.PRNGKey(seed)), (1000,))  # noqa: E731
  np.testing.assert_array_equal(draw(0), draw(0))
  np.testing.assert_array_equal(draw(0), jax.jit(draw, static_argnums=0)(0))
  assert not np.allclose(draw(0), draw(1))
  bits = jax.random.bits(init_rng.key(jax.random.PRNGKey(0)), (1000,), np.uint8)
  assert bits.dtype == np.uint8 and len(np.unique(np.asarray(bits))) > 200
