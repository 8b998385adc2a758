"""What jaxsr refuses, and that nothing the user had is lost: each test is a mistake a new user made (README,
"What jaxsr refuses, and why")."""
import importlib.util
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import jax
import numpy as np
import pytest
from conftest import FAST_COMPILE, tiny
from PIL import Image
from test_train import ONE_DEVICE

from jaxsr import upscale
from jaxsr.core import cli, config_base
from jaxsr.data import builders, image_files, pipeline
from jaxsr.models import vgg
from jaxsr.storage import checkpointing
from jaxsr.training import train

REPO = Path(__file__).resolve().parents[1]


def faces(folder, count, size=(40, 40), seed=0, names=None):
  folder.mkdir(parents=True, exist_ok=True)
  rng = np.random.default_rng(seed)
  for name in names or [f'{i}.png' for i in range(count)]:
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (*size, 3), np.uint8)).save(folder / name)
  return folder


# 1. upscale never overwrites an input, never gives two outputs one name, never replaces an output unasked.

def test_output_names_never_collide_and_inputs_are_never_replaced(tmp_path):
  source = faces(tmp_path / 'in', 0, names=['dup.jpg', 'dup.png', 'sub/a.png'])
  files = image_files.find(source)
  paths = upscale.output_paths(files, source, tmp_path / 'out')
  assert sorted(p.relative_to(tmp_path / 'out').as_posix() for p in paths) == ['dup.jpg.png', 'dup.png.png',
                                                                                 'sub/a.png']
  for inside in (source, source / 'sub'):
    with pytest.raises(FileExistsError, match='inside --input'):
      upscale.output_paths(files, source, inside)
  with pytest.raises(FileExistsError, match='would replace its input'):  # a single file, output its own folder
    upscale.output_paths([source / 'sub' / 'a.png'], source / 'sub' / 'a.png', source / 'sub')

  paths[0].parent.mkdir(parents=True)
  paths[0].write_bytes(b'an earlier result')
  with pytest.raises(FileExistsError, match='1 outputs exist already.*--overwrite'):
    upscale.output_paths(files, source, tmp_path / 'out')
  assert upscale.output_paths(files, source, tmp_path / 'out', overwrite=True) == paths
  assert paths[0].read_bytes() == b'an earlier result'  # checking writes nothing


def test_upscale_command_writes_every_face_under_an_expanded_home(srresnet_run, tmp_path):
  source = faces(tmp_path / 'in', 0, size=(16, 16), names=['dup.jpg', 'dup.png', 'c.png'])
  env = {**os.environ, 'HOME': str(tmp_path / 'home'), 'XLA_FLAGS': FAST_COMPILE}
  command = [sys.executable, '-m', 'jaxsr.upscale', f'--run={srresnet_run}', f'--input={source}',
             '--output=~/sr_out']
  first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
  assert first.returncode == 0, first.stderr[-2000:]
  written = sorted(p.name for p in (tmp_path / 'home' / 'sr_out').iterdir())
  assert written == ['c.png', 'dup.jpg.png', 'dup.png.png'] and "'crops': 3" in first.stdout
  assert not (tmp_path / '~').exists()
  assert 'orbax' not in first.stderr  # the checkpoint library's INFO lines are kept out

  again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
  assert again.returncode == 2 and again.stderr.splitlines()[-1].startswith('jaxsr.upscale: ')
  assert '3 outputs exist already' in again.stderr and 'Traceback' not in again.stderr
  into_input = subprocess.run(command[:-1] + [f'--output={source}'], env=env, capture_output=True, text=True,
                              timeout=300, cwd=tmp_path)
  assert into_input.returncode != 0 and 'inside --input' in into_input.stderr
  assert sorted(p.name for p in source.iterdir()) == ['c.png', 'dup.jpg', 'dup.png']


# 2. A start that fails leaves the run's record as it was; each start's changes are kept.

def test_a_mistyped_dataset_leaves_no_workdir(data_dir, tmp_path):
  with pytest.raises(FileNotFoundError, match="'face_folder/celbea' is not built"):
    train.train_and_evaluate(tiny('h2l', data_dir, dataset='face_folder/celbea'), tmp_path / 'run', ONE_DEVICE)
  assert not (tmp_path / 'run').exists()


def test_every_start_is_recorded_with_what_it_changed(data_dir, tmp_path):
  config = tiny('edsr', data_dir, num_steps=2, eval_every=100)  # any method: the record is the point
  train.train_and_evaluate(config, tmp_path, ONE_DEVICE)
  config.num_steps, config.generator.optimizer.learning_rate = 3, 5e-5
  train.train_and_evaluate(config, tmp_path, ONE_DEVICE)
  history = [json.loads(line) for line in (tmp_path / 'config_history.jsonl').read_text().splitlines()]
  assert [h['start_step'] for h in history] == [0, 2]
  assert history[0]['changed'] == {}
  assert history[1]['changed'] == {'generator.optimizer.learning_rate': [1e-4, 5e-5], 'num_steps': [2, 3]}
  assert json.loads((tmp_path / 'config.json').read_text())['num_steps'] == 3


# 3. A dataset name is bound to what it was built from.

def test_a_second_build_under_the_same_name_from_elsewhere_is_refused(tmp_path):
  first, second = faces(tmp_path / 'a', 6), faces(tmp_path / 'b', 9, seed=1)
  data_dir = str(tmp_path / 'tfds')

  def build(path, overwrite=False, **options):
    config = builders.FaceFolderConfig(name='x', path=str(path), image_size=32, **options)
    builder = pipeline.build_folder_dataset(builders.FaceFolder, config, data_dir, overwrite)
    return sum(builder.info.splits[s].num_examples for s in builder.info.splits)

  assert build(first) == 6
  assert build(first) == 6  # the same source: reused
  with pytest.raises(FileExistsError, match=r"path: '.*/a' there, '.*/b' now.*--overwrite"):
    build(second)
  with pytest.raises(FileExistsError, match='crop'):
    build(first, crop='none')
  assert build(first) == 6  # the refused builds changed nothing
  assert build(second, overwrite=True) == 9


# 4. The data must have the config's image size.

def test_a_dataset_of_another_image_size_stops_the_run_at_start_up(data_dir, tmp_path):
  config = builders.FaceFolderConfig(name='big', path=str(faces(tmp_path / 'big', 8, size=(128, 128))),
                                     image_size=128)
  pipeline.build_folder_dataset(builders.FaceFolder, config, data_dir)
  bad = tiny('srresnet', data_dir, dataset='face_folder/big', eval_dataset='face_folder/big')
  with pytest.raises(ValueError, match=r"image_size=64.*face_folder/big.*'hr' images of 128x128 px, expected 64x64"):
    train.train_and_evaluate(bad, tmp_path / 'run', ONE_DEVICE)
  assert not (tmp_path / 'run').exists()


# 5. Bad images: too small, 16-bit, too few for a test split.

def test_tiny_images_are_skipped_and_16_bit_images_keep_their_levels(tmp_path):
  folder = faces(tmp_path / 'mixed', 4)
  Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(folder / 'dot.png')
  gray16 = np.full((48, 48), 32768, np.uint16)  # mid grey in 16 bits
  Image.fromarray(gray16).save(folder / 'gray16.png')
  assert np.asarray(image_files.read_rgb(folder / 'gray16.png')).mean() == 128  # not clipped to white

  config = builders.FaceFolderConfig(name='mixed', path=str(folder), image_size=32, test_fraction=0.5)
  builder = pipeline.build_folder_dataset(builders.FaceFolder, config, str(tmp_path / 'tfds'))
  skipped = builder.info.metadata['skipped']
  assert sum(s['too_small'] for s in skipped.values()) == 1  # the 1x1 image; the default min_size is 16
  stored = {e['filename'].decode(): e['image'] for s in ('train', 'test') for e in builder.as_data_source(s)}
  assert 'dot.png' not in stored and stored['gray16.png'].mean() == 128


def test_a_small_folder_still_gets_a_test_split_and_a_single_image_is_an_error(tmp_path):
  folder = faces(tmp_path / 'few', 3)
  train_files, test_files = builders.split_files(folder, image_files.find(folder), 0.0001)  # holds nothing out
  assert len(test_files) == 1 and len(train_files) == 2
  with pytest.raises(ValueError, match='at least 2'):
    builders.split_files(folder, image_files.find(folder)[:1], 0.05)
  config = builders.FaceFolderConfig(name='few', path=str(folder), image_size=32)
  builder = pipeline.build_folder_dataset(builders.FaceFolder, config, str(tmp_path / 'tfds'))
  assert builder.info.splits['test'].num_examples == 1

  config = builders.FaceFolderConfig(name='all_small', path=str(folder), image_size=32, min_size=100)
  with pytest.raises(ValueError, match='No examples were yielded.*too_small.: 2.*not kept'):
    pipeline.build_folder_dataset(builders.FaceFolder, config, str(tmp_path / 'tfds'))
  assert not list((tmp_path / 'tfds' / 'face_folder' / 'all_small').glob('*/*.array_record*'))


# 6. `~` is expanded wherever a path is given.

def test_paths_expand_the_home_directory(monkeypatch, tmp_path):
  monkeypatch.setenv('HOME', str(tmp_path))
  assert cli._PathParser().parse('~/sr_out') == str(tmp_path / 'sr_out')
  faces(tmp_path / 'photos', 2)
  assert len(image_files.find('~/photos')) == 2
  with pytest.raises(FileNotFoundError, match=str(tmp_path / 'vgg19.npz')):
    vgg.load('~/vgg19.npz')


# 7. A stop waits for at most `steps_in_flight` steps.

def test_only_a_few_steps_are_in_flight_on_a_slow_device(data_dir, tmp_path, monkeypatch):
  """Each step sleeps 0.2 s on the device; the host may not run more than steps_in_flight + 1 steps ahead."""
  real_make_train_step, unfinished = train.make_train_step, []

  def slow_make_train_step(method, mesh):
    inner = method.train_step

    def slow_train_step(state, batch, rng):
      state, metrics = inner(state, batch, rng)
      loss = next(iter(metrics))
      metrics[loss] = jax.pure_callback(lambda x: (time.sleep(0.2), x)[1], jax.ShapeDtypeStruct((), np.float32),
                                        metrics[loss])
      return state, metrics
    method.train_step = slow_train_step
    step, issued = real_make_train_step(method, mesh), []

    def counting_step(state, batch):
      unfinished.append(sum(not m.is_ready() for m in issued))
      state, metrics = step(state, batch)
      issued.append(next(iter(metrics.values())))
      return state, metrics
    return counting_step

  monkeypatch.setattr(train, 'make_train_step', slow_make_train_step)
  config = tiny('edsr', data_dir, num_steps=10, log_every=10, eval_every=10, checkpoint_every=10, steps_in_flight=2)
  train.train_and_evaluate(config, tmp_path, ONE_DEVICE)
  assert len(unfinished) == 10 and max(unfinished) <= 2


# 8. A transient read error is retried, never taken for damage.

def test_a_transient_read_error_is_retried_and_never_moves_the_checkpoint(data_dir, tmp_path, monkeypatch):
  config = tiny('edsr', data_dir, num_steps=4, checkpoint_every=2, eval_every=100)
  saved = train.train_and_evaluate(config, tmp_path, ONE_DEVICE)
  checkpoints = checkpointing.Checkpointer(tmp_path / 'checkpoints', 3)
  real_restore, failures = checkpointing.Checkpointer.restore, []

  def flaky(self, step, state):
    if len(failures) < 2:
      failures.append(step)
      raise OSError(5, 'Input/output error')  # a network filesystem's hiccup
    return real_restore(self, step, state)
  monkeypatch.setattr(checkpointing.Checkpointer, 'restore', flaky)
  monkeypatch.setattr(checkpointing.time, 'sleep', lambda seconds: None)
  step, _, _ = checkpoints.restore_latest(saved)
  assert step == 4 and failures == [4, 4]

  def always_failing(self, step, state):
    raise OSError(5, 'Input/output error')
  monkeypatch.setattr(checkpointing.Checkpointer, 'restore', always_failing)
  with pytest.raises(OSError, match='Input/output'):
    checkpoints.restore_latest(saved)
  checkpoints.close()
  assert sorted(p.name for p in (tmp_path / 'checkpoints').iterdir()) == ['2', '4']  # nothing moved aside


# 9. Processes agree on the free-space check, so none waits in a save the others never join.

SAVE_SCRIPT = textwrap.dedent('''
    import sys, jax, numpy as np
    jax.distributed.initialize(sys.argv[1], num_processes=2, process_id=int(sys.argv[2]))
    from jaxsr.storage import checkpointing
    from jaxsr.core.train_state import TrainState
    if jax.process_index() == 1:  # only this process's disk is full
      real = checkpointing.shutil.disk_usage
      checkpointing.shutil.disk_usage = lambda path: real(path)._replace(free=2**20)
    state = TrainState(step=np.int32(0), rng=np.zeros(2, np.uint32), nets={})
    try:
      checkpointing.Checkpointer(sys.argv[3], 3).save(1, state, {})
    except checkpointing.CheckpointSaveError as error:
      print('refused:', error)
      sys.exit(3)
''')


def test_a_full_disk_on_one_process_stops_every_process(tmp_path):
  with socket.socket() as s:
    s.bind(('localhost', 0))
    address = f'localhost:{s.getsockname()[1]}'
  env = {**os.environ, 'XLA_FLAGS': FAST_COMPILE}
  processes = [subprocess.Popen([sys.executable, '-c', SAVE_SCRIPT, address, str(i), str(tmp_path / 'ckpt')],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for i in range(2)]
  outputs = [p.communicate(timeout=120)[0] for p in processes]
  assert [p.returncode for p in processes] == [3, 3], outputs
  assert all('process 1 of 2 has 1 MiB free' in out for out in outputs)


# 10. Weights and metrics to trust.

def test_mtcnn_weights_that_are_not_the_pinned_files_are_never_unpickled(tmp_path):
  import shutil

  from jaxsr.data import mtcnn
  assert set(mtcnn.load_weights()) == {'pnet', 'rnet', 'onet'}  # the pinned package's files
  spec = importlib.util.find_spec('mtcnn')
  copy = shutil.copytree(Path(spec.submodule_search_locations[0]) / 'assets' / 'weights', tmp_path / 'weights')
  (copy / 'rnet.lz4').write_bytes((copy / 'rnet.lz4').read_bytes() + b'\x00')
  with pytest.raises(ValueError, match='rnet.lz4: sha256 .* refusing to unpickle it'):
    mtcnn.load_weights(copy)


# 11. Messages that name the problem.

def test_a_misspelled_nested_field_is_named_with_the_closest_fields():
  config = config_base.load_file(REPO / 'configs' / 'h2l.py')
  message = config_base.unknown_field(config, 'generator.featurs')
  assert "config.generator has no field 'featurs'; did you mean 'features'" in message
  assert config_base.unknown_field(config, 'generator.features') is None
  result = subprocess.run([sys.executable, '-m', 'jaxsr.main', f'--config={REPO}/configs/h2l.py:tiny',
                           '--workdir=unused', '--config.generator.featurs=3'], capture_output=True, text=True,
                          timeout=120)
  assert result.returncode != 0 and "did you mean 'features'" in result.stderr.splitlines()[-1]


def test_an_unknown_embedded_variant_lists_the_known_ones(tmp_path):
  with pytest.raises(ValueError, match='no config .huge.; known: default, tiny'):
    pipeline.data_source('procedural_faces/huge', 'train', str(tmp_path))


def test_a_pickled_weights_file_is_refused_naming_the_config_field(tmp_path):
  np.save(tmp_path / 'vgg19.npy', np.array([{'conv1_1': 0}], dtype=object), allow_pickle=True)
  (tmp_path / 'vgg19.npy').rename(tmp_path / 'vgg19.npz')
  with pytest.raises(ValueError, match=r'config\.vgg\.weights: .* pickled Python objects.*convert_vgg'):
    vgg.load(tmp_path / 'vgg19.npz')


def test_log_lines_do_not_land_inside_a_progress_bar():
  program = textwrap.dedent('''
      import tqdm
      from absl import app, logging
      from jaxsr.core import cli
      def main(argv):
        cli.setup_logging()
        with tqdm.tqdm(total=10, desc='working') as bar:
          bar.update(3)
          logging.warning('a line of its own')
      app.run(main)
  ''')
  result = subprocess.run([sys.executable, '-c', program], capture_output=True, text=True, timeout=60)
  line = next(line for line in result.stderr.splitlines() if 'a line of its own' in line)
  assert line.rsplit('\r', 1)[-1].startswith('W')  # what is left on screen starts with the log line, not the bar


# 12. README's promises hold after its install command.

def test_tensorboard_is_installed_with_jaxsr():
  import importlib.metadata
  requirements = importlib.metadata.requires('jaxsr')
  assert any(r.startswith('tensorboard') for r in requirements)
  assert importlib.util.find_spec('tensorboard') is not None


def test_every_command_is_an_installed_console_script():
  """pyproject's [project.scripts] names every command module's `run` (jaxsr/*.py, data.build, data.prepare), and
  the install puts them beside the interpreter: `jaxsr-niqe` refuses a missing folder in one line under its name."""
  import ast
  import tomllib
  scripts = tomllib.loads((REPO / 'pyproject.toml').read_text())['project']['scripts']
  package = REPO / 'jaxsr'
  commands = {f'jaxsr.{p.stem}' for p in package.glob('*.py') if p.name != '__init__.py'}
  assert {t.split(':')[0] for t in scripts.values()} == commands | {'jaxsr.data.build', 'jaxsr.data.prepare'}
  for target in scripts.values():
    module, function = target.split(':')
    tree = ast.parse((REPO / (module.replace('.', '/') + '.py')).read_text())
    assert function in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}, target
  result = subprocess.run([Path(sys.executable).parent / 'jaxsr-niqe', f'--images={REPO / "no_such_folder"}'],
                          capture_output=True, text=True, timeout=120)
  assert result.returncode == 2 and result.stderr.strip().splitlines()[-1].startswith('jaxsr-niqe: '), result.stderr


@pytest.mark.parametrize('tool, flags', [('upscale', ('--run', '--input', '--output')), ('main', ('--workdir',)),
                                         ('evaluate', ('--out', '--hr_dir')), ('export', ('--run', '--out'))])
def test_help_lists_every_flag_of_the_tool(tool, flags):
  result = subprocess.run([sys.executable, '-m', f'jaxsr.{tool}', '--help'], capture_output=True, text=True,
                          timeout=120)
  listed = {line.split(':')[0].strip() for line in result.stdout.splitlines() if line.startswith('  --')}
  assert set(flags) <= listed, result.stdout[-2000:]


def test_a_users_mistake_is_one_line_and_a_bug_keeps_its_traceback():
  """cli.run tells jaxsr's own refusals (ValueError, KeyError, OSError raised by a line of jaxsr) from bugs."""
  from jaxsr.core import cli
  from jaxsr.storage import exports

  def caught(fn):
    try:
      fn()
    except Exception as error:  # noqa: BLE001
      return error
  assert cli.is_user_error(caught(lambda: exports.read_record('/nowhere')))  # FileNotFoundError, from jaxsr
  assert cli.is_user_error(caught(lambda: exports.write('/x', '{}', 0, 'g', {}, dtype='float8')))
  assert not cli.is_user_error(caught(lambda: np.zeros(3).reshape(2)))  # raised inside numpy: a bug
  assert not cli.is_user_error(caught(lambda: exports.write(None, '{}', 0, 'g', {})))  # TypeError: a bug
