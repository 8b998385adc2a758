"""jaxsr: face super-resolution in JAX/Flax.

    import jaxsr
    model = jaxsr.load('pretrained/edsr_x4_celeba')   # a run directory, a checkpoint step of it, or an export
    sr = model(lr)                                      # (h, w, 3) or (N, h, w, 3), uint8 or float in [0, 1]
"""


def load(path, step: int | None = None):
  """The super-resolver of a trained run (its newest checkpoint, or `step`) or of a `jaxsr.export` folder:
  jaxsr.using.inference.SuperResolver. Imported on first use, so that `import jaxsr` stays light."""
  from jaxsr.using import inference
  return inference.load(path, step)
