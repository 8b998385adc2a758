"""Crafted files and names that must not reach outside their folder, run code or exhaust memory (README, "What
jaxsr refuses, and why")."""
import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import jax
import numpy as np
import pytest
from flax import traverse_util

from jaxsr.core import npz
from jaxsr.data import builders, pipeline
from jaxsr.models import vgg
from jaxsr.storage import exports
from jaxsr.using import inference


@pytest.fixture(scope='module')
def exported(srresnet_run, tmp_path_factory):
  """A float32 export of the tiny SRResNet run: (folder, its network's variables as the config builds them)."""
  model = inference.load(srresnet_run)
  folder = tmp_path_factory.mktemp('export') / 'srresnet'
  exports.write(folder, (srresnet_run / 'config.json').read_text(), model.step, model.network, model.variables())
  return folder, model.variables()


def edited_copy(folder, tmp_path, files):
  """A copy of the export `folder` whose export.json lists `files` ({name: sha256})."""
  copy = tmp_path / 'copy'
  copy.mkdir()
  for f in folder.iterdir():
    (copy / f.name).write_bytes(f.read_bytes())
  record = json.loads((copy / exports.EXPORT).read_text())
  (copy / exports.EXPORT).write_text(json.dumps({**record, 'files': files}))
  return copy


@pytest.mark.parametrize('name', ['../variables-1-of-1.npz', '/etc/passwd', 'sub/variables-1-of-1.npz', '..'])
def test_an_export_cannot_name_a_file_outside_its_folder(exported, tmp_path, name):
  folder, variables = exported
  (tmp_path / 'variables-1-of-1.npz').write_bytes((folder / 'variables-1-of-1.npz').read_bytes())
  copy = edited_copy(folder, tmp_path, {name: 'x'})
  with pytest.raises(ValueError, match='must be named variables-<i>-of-<n>.npz inside the folder'):
    exports.read(copy, variables)
  with pytest.raises(ValueError, match='must be named variables'):
    inference.load(copy)


def test_an_export_reads_only_regular_files_of_the_size_its_network_needs(exported, tmp_path):
  folder, variables = exported
  copy = edited_copy(folder, tmp_path, {'variables-1-of-2.npz': 'x', 'variables-2-of-2.npz': 'y'})
  os.mkfifo(copy / 'variables-1-of-2.npz')  # reading a pipe would hang for ever
  with pytest.raises(ValueError, match='variables-1-of-2.npz is not a regular file'):
    exports.read(copy, variables)
  (copy / 'variables-1-of-2.npz').unlink()
  (copy / 'variables-1-of-2.npz').symlink_to(folder / 'variables-1-of-1.npz')
  with pytest.raises(ValueError, match='not a regular file'):
    exports.read(copy, variables)
  (copy / 'variables-1-of-2.npz').unlink()
  with open(copy / 'variables-1-of-2.npz', 'wb') as f:  # sparse: a large size, no disk
    f.truncate(npz.nbytes({'all': (sum(np.size(v) for v in jax.tree.leaves(variables)),)}, itemsize=8) + 1)
  with pytest.raises(ValueError, match='MiB its arrays can take'):
    exports.read(copy, variables)


def test_a_zip_bomb_is_refused_from_its_headers_before_anything_is_inflated(exported, tmp_path):
  folder, variables = exported
  key = 'params/BatchNorm_0/bias'
  assert key in {'/'.join(k) for k in traverse_util.flatten_dict(variables)}
  bomb = tmp_path / 'variables-1-of-1.npz'
  with zipfile.ZipFile(bomb, 'w', zipfile.ZIP_DEFLATED) as archive:
    with archive.open(key + '.npy', 'w', force_zip64=True) as f:  # 400 MB of zeros, 400 kB on disk
      np.lib.format.write_array_header_1_0(f, {'descr': '<f4', 'fortran_order': False, 'shape': (100_000_000,)})
      for _ in range(100):
        f.write(bytes(4_000_000))
  assert bomb.stat().st_size < 2**20
  with pytest.raises(ValueError, match=rf'{key} is \(100000000,\), expected'):
    shapes = {'/'.join(k): np.shape(v) for k, v in traverse_util.flatten_dict(variables).items()}
    npz.read(bomb, '--run', 'export', shapes=shapes, part=True)
  with pytest.raises(ValueError, match='declares 381 MiB of arrays, more than'):
    npz.read(bomb, 'config.vgg.weights', 'convert_vgg')  # no shapes: capped by the file's size


def test_an_export_record_asking_for_huge_images_is_refused_before_building(exported, tmp_path):
  folder, _ = exported
  copy = edited_copy(folder, tmp_path, json.loads((folder / exports.EXPORT).read_text())['files'])
  config = json.loads((copy / 'config.json').read_text())
  (copy / 'config.json').write_text(json.dumps({**config, 'image_size': 32768}))
  with pytest.raises(ValueError, match=r'config.json: config.image_size: must be in \[8, 2048\], got 32768'):
    inference.load(copy)


def test_weights_files_are_checked_by_name_and_shape_before_reading(tmp_path):
  shapes = vgg.file_shapes()
  arrays = {k: np.zeros(s, np.float32) for k, s in shapes.items() if k != 'preprocessing'}
  np.savez(tmp_path / 'vgg19.npz', preprocessing=np.array('torch'), **arrays)
  params, preprocessing = vgg.load(tmp_path / 'vgg19.npz')
  assert preprocessing == 'torch' and params['conv5_4']['kernel'].shape == (3, 3, 512, 512)
  arrays['conv1_1/kernel'] = np.zeros((3, 3, 3, 65), np.float32)
  np.savez(tmp_path / 'vgg19.npz', preprocessing=np.array('torch'), **arrays)
  with pytest.raises(ValueError, match=r'conv1_1/kernel is \(3, 3, 3, 65\), expected \(3, 3, 3, 64\)'):
    vgg.load(tmp_path / 'vgg19.npz')
  (tmp_path / 'model.pth').write_bytes(pickle.dumps({'conv1_1': 0}, protocol=4))
  with pytest.raises(ValueError, match='pickled Python objects'):
    vgg.load(tmp_path / 'model.pth')


@pytest.mark.parametrize('name', ['../../x', '/tmp/x', 'a/b', '..', '.hidden', ''])
def test_a_dataset_name_is_one_plain_folder_name(tmp_path, name):
  source = tmp_path / 'faces'
  source.mkdir()
  config = builders.FaceFolderConfig(name=name or 'placeholder', path=str(source))
  config.name = name  # tfds checks nothing of it
  data_dir = tmp_path / 'data' / 'tfds'
  with pytest.raises(ValueError, match='is not a dataset name'):
    pipeline.build_folder_dataset(builders.FaceFolder, config, str(data_dir), overwrite=True)
  assert not (tmp_path / 'data').exists() and sorted(p.name for p in tmp_path.iterdir()) == ['faces']
  if name:
    with pytest.raises(ValueError, match='is not a dataset name'):
      pipeline.data_source(f'face_folder/{name}', 'train', str(data_dir))


def test_the_build_command_refuses_a_name_with_folders(tmp_path):
  (tmp_path / 'faces').mkdir()
  result = subprocess.run([sys.executable, '-m', 'jaxsr.data.build', 'face_folder', f'--path={tmp_path / "faces"}',
                           '--name=../../escaped', f'--data_dir={tmp_path / "a" / "b"}', '--overwrite'],
                          capture_output=True, text=True, timeout=120)
  assert result.returncode != 0 and 'FATAL Flags parsing error: flag --name=../../escaped: --name' in result.stderr
  assert 'Traceback' not in result.stderr
  assert not Path(tmp_path / 'escaped').exists() and not (tmp_path / 'a').exists()
