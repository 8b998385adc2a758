"""XLA flags for runs of a few steps (tests, the `tiny` configs), chosen before jax starts its backend.

XLA reads $XLA_FLAGS once, when the backend starts, and aborts on a flag its version does not know: a flag whose
existence depends on the version is added only for the versions it was measured on. This module imports no jax.
"""
import importlib.metadata
import os

# LLVM's optimisations off: compiles take about half as long, steps run slower (benchmarks/compile_time.py).
FAST_COMPILE = ('--xla_backend_optimization_level=0',)
# XLA:CPU's elemental emitters instead of its MLIR fusion emitters: less compile work in all. On jaxlib 0.10 the
# test suite ran in 493 s instead of 570 and the `tiny` configs started 0.2-2.1 s sooner, while their steps ran
# 7-13% slower (benchmarks/RESULTS.md, "XLA:CPU's fusion emitters"). jaxlib 0.12 no longer has the flag.
LEGACY_EMITTERS = '--xla_cpu_use_fusion_emitters=false'
LEGACY_EMITTERS_JAXLIB = ((0, 10), (0, 11))  # measured on 0.10.2; [first, last) minor versions


def jaxlib_version():
  """(major, minor) of the installed jaxlib, read without importing it."""
  major, minor = importlib.metadata.version('jaxlib').split('.')[:2]
  return int(major), int(minor)


def fast_compile():
  """The flags that make XLA compile a step fastest on this jaxlib."""
  first, last = LEGACY_EMITTERS_JAXLIB
  return FAST_COMPILE + ((LEGACY_EMITTERS,) if first <= jaxlib_version() < last else ())


def add_to_environment(flags):
  """Appends `flags` to $XLA_FLAGS, each once; call before jax starts its backend."""
  have = os.environ.get('XLA_FLAGS', '').split()
  os.environ['XLA_FLAGS'] = ' '.join(have + [f for f in flags if f not in have])
