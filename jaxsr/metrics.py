"""Image quality metrics on float images in [-1, 1]."""
import jax.numpy as jnp


def psnr(x, y):
  """Mean over the batch of 10 log10(peak^2 / MSE), peak = 2 for [-1, 1] images (= 1 on [0, 1])."""
  mse = jnp.mean(jnp.square(x.astype(jnp.float32) - y.astype(jnp.float32)), axis=(1, 2, 3))
  return jnp.mean(10.0 * jnp.log10(4.0 / jnp.maximum(mse, 1e-10)))
