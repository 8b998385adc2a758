"""Eight CPU devices for the data-parallel tests, the tiny embedded dataset built once, config loading."""
import importlib.util
import os
import tempfile
from pathlib import Path

from jaxsr.core import xla_flags  # imports no jax

# XLA's backend optimisations triple the compile time of the tiny networks the tests build and buy nothing at
# their sizes; subprocesses get the same flags (FAST_COMPILE) without the eight devices.
FAST_COMPILE = ' '.join(xla_flags.fast_compile())
xla_flags.add_to_environment([*xla_flags.fast_compile(), '--xla_force_host_platform_device_count=8'])
# Many tests compile the same tiny step; a persistent cache (inherited by subprocesses) compiles it once.
os.environ.setdefault('JAX_COMPILATION_CACHE_DIR', tempfile.mkdtemp(prefix='jaxsr-test-jit-'))
os.environ.setdefault('JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS', '0')
os.environ.setdefault('JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES', '0')

import pytest  # noqa: E402  (jax must not be imported before XLA_FLAGS is set)

REPO = Path(__file__).resolve().parents[1]


def load_config(name, arg=''):
  spec = importlib.util.spec_from_file_location(f'configs.{name}', REPO / 'configs' / f'{name}.py')
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


@pytest.fixture(scope='session')
def data_dir(tmp_path_factory):
  """A tfds data dir holding procedural_faces/tiny, also exported as TFDS_DATA_DIR for subprocesses."""
  from jaxsr.data import pipeline
  path = str(tmp_path_factory.mktemp('tfds'))
  os.environ['TFDS_DATA_DIR'] = path
  pipeline.data_source('procedural_faces/tiny', 'train', path)
  return path


@pytest.fixture
def tiny_config(data_dir):
  config = load_config('h2l', 'tiny')
  config.data_dir = data_dir
  return config


def tiny(name, data_dir, **overrides):
  """configs/<name>.py:tiny on the test data, with field overrides."""
  config = load_config(name, 'tiny')
  config.data_dir = data_dir
  config.update(overrides)
  return config


def setup_one_device(config):
  """(method, initial state, first host batch, jitted train step, mesh) of `config` on one device."""
  import jax

  from jaxsr import methods
  from jaxsr.core import parallel
  from jaxsr.data import pipeline
  from jaxsr.training import resources, train
  mesh = parallel.make_mesh(jax.devices()[:1])
  method = methods.create(config)
  batch = pipeline.host_batches(method.train_data(config.data_dir), config.batch_size, 0, 1)[0]
  state = train.init_state(method, mesh, config.seed, batch, resources.load(config, method))
  return method, state, batch, train.make_train_step(method, mesh), mesh


@pytest.fixture
def photo_folder(tmp_path):
  """Ten 90x70 colour photos in a subfolder, a grayscale one, a too-small one, a corrupt JPEG, a text file."""
  import numpy as np
  from PIL import Image
  rng = np.random.default_rng(0)
  root = tmp_path / 'photos'
  (root / 'person_a').mkdir(parents=True)
  for i in range(10):
    Image.fromarray(rng.integers(0, 255, (90, 70, 3), np.uint8)).save(root / 'person_a' / f'{i}.jpg')
  Image.fromarray(rng.integers(0, 255, (80, 80), np.uint8)).save(root / 'gray.png')  # grayscale: kept, as RGB
  Image.fromarray(rng.integers(0, 255, (20, 20, 3), np.uint8)).save(root / 'small.png')  # too small
  (root / 'corrupt.jpg').write_bytes(b'\xff\xd8 not really a jpeg')
  (root / 'notes.txt').write_text('not an image')
  return root


@pytest.fixture
def paired_folders(tmp_path):
  """Twelve 96x96 HR photos under hr/ (two in a subfolder) with their 24x24 LR versions under lr/ (names pair
  without suffix: 3.png with 3.bmp), plus one LR file without HR, one HR without LR, a pair 3x apart, and an
  unreadable LR file."""
  import numpy as np
  from PIL import Image
  rng = np.random.default_rng(0)
  hr_root, lr_root = tmp_path / 'hr', tmp_path / 'lr'
  for root in (hr_root / 'sub', lr_root / 'sub'):
    root.mkdir(parents=True)
  names = [f'{i}' for i in range(10)] + ['sub/a', 'sub/b']
  for name in names:
    hr = Image.fromarray(rng.integers(0, 255, (96, 96, 3), np.uint8))
    hr.save(hr_root / f'{name}.png')
    hr.resize((24, 24), Image.BICUBIC).save(lr_root / f'{name}.png' if name != '3' else lr_root / '3.bmp')
  Image.fromarray(rng.integers(0, 255, (24, 24, 3), np.uint8)).save(lr_root / 'lonely_lr.png')
  Image.fromarray(rng.integers(0, 255, (96, 96, 3), np.uint8)).save(hr_root / 'lonely_hr.png')
  Image.fromarray(rng.integers(0, 255, (96, 96, 3), np.uint8)).save(hr_root / 'thirds.png')
  Image.fromarray(rng.integers(0, 255, (32, 32, 3), np.uint8)).save(lr_root / 'thirds.png')
  Image.fromarray(rng.integers(0, 255, (96, 96, 3), np.uint8)).save(hr_root / 'broken.png')
  (lr_root / 'broken.png').write_bytes(b'\x89PNG not really')
  return hr_root, lr_root


@pytest.fixture(scope='session')
def identity_data(data_dir, tmp_path_factory):
  """`identity_folder/ids` in the test data dir: 6 procedural people, 4 train and 2 val photos each (64 px), the
  photos of a person the same face shifted, mirrored and relit."""
  from jaxsr.data import builders, pipeline, procedural_faces
  root = tmp_path_factory.mktemp('ids')
  procedural_faces.write_identity_photos(root, people=6)
  config = builders.IdentityFolderConfig(name='ids', path=str(root), image_size=64)
  pipeline.make_builder(builders.IdentityFolder, data_dir, config=config).download_and_prepare()
  return 'identity_folder/ids'


@pytest.fixture(scope='session')
def srresnet_run(data_dir, tmp_path_factory):
  """A run directory of configs/srresnet.py:tiny trained for 2 steps."""
  from jaxsr.training import train
  run = tmp_path_factory.mktemp('runs') / 'srresnet'
  train.train_and_evaluate(tiny('srresnet', data_dir, num_steps=2, checkpoint_every=2, eval_every=2), run)
  return run


def assert_same_training(a, b):
  """Two runs of the same global batches on different device layouts (`nets` trees, numpy or jax) took the same
  steps up to summation order. The gradients, as Adam's first moments, must agree to 2% of each array's scale:
  a BatchNorm or a mean computed per device instead of over the global batch differs by 100%. Parameters cannot be
  held tighter than two Adam steps (lr 1e-4): a gradient that is zero up to rounding moves a weight by +-lr at the
  first step whatever its sign; the authors' H2L has conv biases before BatchNorms, whose gradients are zero up to
  rounding (some 4e-7 a step, 1.4e-6 seen after three), hence the first moments' floor of 3e-6."""
  import jax
  import numpy as np
  for (path, x), y in zip(jax.tree_util.tree_leaves_with_path(a), jax.tree.leaves(b), strict=True):
    x, y, name = np.asarray(x, np.float64), np.asarray(y, np.float64), jax.tree_util.keystr(path)
    keys = {str(getattr(k, 'key', getattr(k, 'name', ''))) for k in path}
    if 'mu' in keys:
      assert np.abs(x - y).max() <= 0.02 * np.abs(x).max() + 3e-6, name
    elif 'nu' not in keys:  # squared gradients: as close as the first moments, and no more telling
      np.testing.assert_allclose(x, y, rtol=1e-4, atol=5e-4, err_msg=name)
