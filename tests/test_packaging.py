"""A non-editable install holds what a checkout has (every module, the configs as jaxsr/configs, NIQE's model), and
`--config=configs/<name>.py` then reads the shipped file from any folder. (jaxsr.main is not imported here: its
required --config flag would then be checked by every other test that parses flags in this process.)"""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from jaxsr.core import config_base

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
  """The wheel of `pip wheel .`, unpacked as site-packages holds it; built from a copy of the sources, since
  setuptools would reuse the files a checkout's build/ folder kept from an earlier build."""
  out = tmp_path_factory.mktemp('wheel')
  source = out / 'source'
  source.mkdir()
  for name in ('pyproject.toml', 'README.md'):
    shutil.copy(REPO / name, source)
  for name in ('jaxsr', 'configs'):
    shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns('__pycache__'))
  subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', str(out),
                  str(source)], check=True, capture_output=True)
  site = out / 'site'
  zipfile.ZipFile(next(out.glob('jaxsr-*.whl'))).extractall(site)
  return site


def test_the_wheel_holds_every_module_and_config(installed):
  checkout = ({p.relative_to(REPO).as_posix() for p in (REPO / 'jaxsr').rglob('*.py')}
              | {f'jaxsr/configs/{p.name}' for p in (REPO / 'configs').glob('*.py')}
              | {'jaxsr/evaluation/niqe_pristine.npz'})
  wheel = {p.relative_to(installed).as_posix() for p in (installed / 'jaxsr').rglob('*') if p.is_file()}
  assert not checkout - wheel, 'pyproject.toml [tool.setuptools] packages misses these'


def test_an_installed_jaxsr_reads_its_configs_from_any_folder(installed, tmp_path):
  code = ('import jaxsr; from jaxsr.core import config_base; print(jaxsr.__file__); '
          "argv = config_base.config_argv(['jaxsr-train', '--config=configs/edsr.py:tiny', '--workdir=w']); "
          "print(argv[1]); print(config_base.load_file(*argv[1][len('--config='):].split(':')).dataset)")
  result = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, capture_output=True, text=True, check=True,
                          env={**os.environ, 'PYTHONPATH': str(installed)})
  package, config, dataset = result.stdout.split()
  assert Path(package) == installed / 'jaxsr' / '__init__.py'
  assert config == f'--config={installed / "jaxsr" / "configs" / "edsr.py"}:tiny'
  assert dataset == 'procedural_faces/tiny'  # the variant was applied


def test_a_config_file_here_comes_before_the_shipped_one(tmp_path, monkeypatch):
  (tmp_path / 'configs').mkdir()
  (tmp_path / 'configs' / 'edsr.py').write_text('def get_config(arg):\n  return arg\n')
  monkeypatch.chdir(tmp_path)
  assert config_base.config_argv(['x', '--config', 'configs/edsr.py:a']) == ['x', '--config', 'configs/edsr.py:a']
  assert config_base.config_argv(['x', '--config=configs/h2l.py']) == [
      'x', f'--config={config_base.shipped_configs() / "h2l.py"}']


def test_an_unknown_config_is_refused_with_the_shipped_names():
  with pytest.raises(ValueError, match=r'configs/nope\.py: no such file.*edsr, espcn'):
    config_base.config_file('configs/nope.py')
  with pytest.raises(ValueError, match='no such file'):  # another folder's file is not replaced by a shipped one
    config_base.config_file('elsewhere/edsr.py')
