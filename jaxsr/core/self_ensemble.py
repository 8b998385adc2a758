"""The geometric self-ensemble at test time (Timofte et al., CVPR 2016; EDSR's "x8"): super-resolve each of the
eight rotations and flips of the input, undo each on its output, average."""
import jax.numpy as jnp


def _transform(x, rotations, flip):
  x = x[:, :, ::-1] if flip else x
  return jnp.rot90(x, rotations, axes=(1, 2))


def _inverse(y, rotations, flip):
  y = jnp.rot90(y, -rotations, axes=(1, 2))
  return y[:, :, ::-1] if flip else y


def self_ensemble(upscale, *inputs):
  """Mean over the 8 dihedral transforms of `upscale(*inputs)`; every input (LR, a reference photo) is rotated
  and flipped the same way. Images are (N, H, W, C), square."""
  outputs = [_inverse(upscale(*(_transform(x, r, flip) for x in inputs)), r, flip)
             for flip in (False, True) for r in range(4)]
  return jnp.mean(jnp.stack(outputs), axis=0)
