"""A method of another package (examples/external_method) trains through `python -m jaxsr.main` and its runs load,
once the package is installed: found by its `jaxsr.methods` entry point, never by a module name a record gives."""
import importlib.metadata
import os
import subprocess
import sys

import ml_collections
import pytest
from conftest import FAST_COMPILE, REPO

from jaxsr import methods
from jaxsr.storage import run_record
from jaxsr.using import inference

EXAMPLE = REPO / 'examples' / 'external_method'


def installed(site, entry_points):
  """What `pip install` leaves for importlib.metadata: a dist-info folder in `site` with the entry points."""
  info = site / 'tiny_sr-0.1.dist-info'
  info.mkdir(parents=True)
  (info / 'METADATA').write_text('Metadata-Version: 2.1\nName: tiny-sr\nVersion: 0.1\n')
  (info / 'entry_points.txt').write_text('[jaxsr.methods]\n' + entry_points)
  return site


def test_a_method_of_another_package_trains_and_its_run_loads(data_dir, tmp_path, monkeypatch):
  site = installed(tmp_path / 'site', 'tiny_sr = tiny_sr:TinySR\n')
  path = os.pathsep.join([str(site), str(EXAMPLE)])
  env = {**os.environ, 'PYTHONPATH': path, 'TFDS_DATA_DIR': data_dir, 'XLA_FLAGS': FAST_COMPILE}
  run = tmp_path / 'run'
  result = subprocess.run([sys.executable, '-m', 'jaxsr.main', f'--config={EXAMPLE / "config.py"}:tiny',
                           f'--workdir={run}', '--config.num_steps=2', '--config.eval_every=2'],
                          env=env, capture_output=True, text=True, timeout=400)
  assert result.returncode == 0, result.stderr[-3000:]
  assert run_record.read(run)['method'] == 'tiny_sr' and (run / 'checkpoints' / '2').is_dir()

  monkeypatch.syspath_prepend(str(EXAMPLE))
  monkeypatch.syspath_prepend(str(site))
  importlib.invalidate_caches()
  model = inference.load(run)
  assert type(model.method).__name__ == 'TinySR' and model.step == 2


def test_only_installed_methods_load(tmp_path, monkeypatch):
  site = installed(tmp_path / 'site', 'not_a_method = os:getcwd\nmissing = tiny_sr_gone:Nothing\n')
  monkeypatch.syspath_prepend(str(site))
  importlib.invalidate_caches()
  config = ml_collections.ConfigDict({'method': 'os:system'})
  with pytest.raises(ValueError, match="unknown method 'os:system'.*entry-point group 'jaxsr.methods'"):
    methods.create(config)
  config.method = 'not_a_method'
  with pytest.raises(ValueError, match='not a jaxsr.methods.base.Method subclass'):
    methods.create(config)
  config.method = 'missing'
  with pytest.raises(ValueError, match='does not load'):
    methods.create(config)
  assert 'not_a_method' in methods.registry() and importlib.metadata.entry_points(group=methods.GROUP)
