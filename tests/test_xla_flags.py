"""jaxsr.core.xla_flags: a version-dependent flag only where XLA knows it (XLA aborts on an unknown one)."""
import os
import subprocess
import sys

import pytest

from jaxsr.core import xla_flags


@pytest.mark.parametrize('version, legacy', [((0, 9), False), ((0, 10), True), ((0, 12), False)])
def test_the_legacy_emitters_are_asked_for_only_on_the_measured_jaxlib(monkeypatch, version, legacy):
  monkeypatch.setattr(xla_flags, 'jaxlib_version', lambda: version)
  flags = xla_flags.fast_compile()
  assert flags[0] == '--xla_backend_optimization_level=0'
  assert (xla_flags.LEGACY_EMITTERS in flags) == legacy


def test_flags_are_added_once_after_the_users(monkeypatch):
  monkeypatch.setenv('XLA_FLAGS', '--xla_dump_to=/tmp/x --xla_backend_optimization_level=0')
  xla_flags.add_to_environment(['--xla_backend_optimization_level=0', '--xla_cpu_enable_fast_math=false'])
  assert os.environ['XLA_FLAGS'].split() == ['--xla_dump_to=/tmp/x', '--xla_backend_optimization_level=0',
                                             '--xla_cpu_enable_fast_math=false']


def test_this_jaxlib_starts_with_the_fast_compile_flags():
  env = {**os.environ, 'XLA_FLAGS': ' '.join(xla_flags.fast_compile())}
  run = subprocess.run([sys.executable, '-c', 'import jax; print(jax.jit(lambda x: x + 1)(1))'], env=env,
                       capture_output=True, text=True, timeout=120)
  assert run.returncode == 0 and run.stdout.strip() == '2', run.stderr[-2000:]
