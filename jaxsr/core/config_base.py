"""Defaults every config shares, and the start-up check that names a bad field before any work is done.

Config files (`configs/<method>.py`) import this module from the installed package rather than a sibling
`configs/common.py`, so they load the same way from any working directory.
"""
import difflib
import importlib.util
from pathlib import Path

import ml_collections

from jaxsr.core import optim

PRECISIONS = ('float32', 'bfloat16')
MAX_IMAGE_SIZE = 2048  # HR side; a record asking for more is refused before any network is built


def base_config():
  c = ml_collections.ConfigDict()
  c.method = ''
  c.dataset = 'procedural_faces'  # train set; see jaxsr.data.pipeline for the names
  c.eval_dataset = 'procedural_faces'  # its `test` split is evaluated
  c.data_dir = ''  # tfds data dir; '' means $TFDS_DATA_DIR or ~/tensorflow_datasets
  c.batch_size = 32  # global, over all devices and hosts
  c.num_steps = 10_000
  c.seed = 0
  c.image_size = 64  # HR side
  c.scale = 4
  c.log_every = 50
  c.eval_every = 1_000
  c.eval_size = 16
  c.checkpoint_every = 1_000
  c.keep_checkpoints = 3
  c.precision = 'float32'  # computation dtype; parameters and optimizer states stay float32
  c.data_threads = 4
  c.steps_in_flight = 2  # steps dispatched ahead of the host; a stop request waits for at most these to end
  # Stop (evaluate, checkpoint) at the first log step after this many minutes of this start; 0: num_steps only.
  # For a fixed time on a shared GPU or before a cluster's time limit; the same command resumes.
  c.train_minutes = 0.0
  # Keep an exponential moving average of each generator's weights, ema <- d * ema + (1 - d) * weights after
  # every step, checkpointed with the run; evaluation, samples, upscale and export use it. 0: off.
  c.ema_decay = 0.0
  # XLA compiling for speed of compilation (jaxsr.core.xla_flags: LLVM's optimisations off, and on jaxlib 0.10 the
  # older elemental emitters): the train step compiles faster and runs slower, the right trade for a run of a few
  # steps (the `tiny` variants); `python -m jaxsr.main` applies it before jax starts.
  c.xla_fast_compile = False
  return c


def paired_sr_config():
  """What the paired super-resolvers share (jaxsr.methods.paired_sr): data, loss terms, VGG19, init_from."""
  c = base_config()
  c.hr_feature = 'image'
  # How LR inputs are made from HR faces: bicubic, area, bilinear, blur_noise_jpeg on the host; or h2l, on the
  # device by the generator of a trained H2L run (Bulat et al.'s learned degradation, jaxsr.training.resources):
  c.degradation = 'bicubic'
  c.h2l_workdir = ''  # degradation='h2l': the H2L run
  c.h2l_step = 0  # its checkpoint; 0: the newest at this run's first start, then kept (recorded in config.json)
  c.flip = True  # random horizontal flips of training faces
  c.jitter = ''  # more augmentation of training faces: '' none, 'srez' (jaxsr.data.augment)
  c.jitter_px = 0  # the jitter's translation, px each way
  c.batch_size = 16
  # Weights of the generator's loss terms (see jaxsr.methods.paired_sr); 0 turns a term off.
  c.loss = ml_collections.ConfigDict(dict(mse=1.0, l1=0.0, dssim=0.0, vgg=0.0, lr_l1=0.0, adversarial=0.0))
  c.gan_loss = 'bce'  # bce (sigmoid cross-entropy, non-saturating G) or hinge
  # VGG19 for the perceptual term: a .npz made by `python -m jaxsr.convert_vgg`; nothing is downloaded.
  c.vgg = ml_collections.ConfigDict(dict(weights='', layer='conv5_4', pool='max', pre_activation=False))
  c.init_from = ''  # a run directory or a jaxsr.export folder whose networks start this run
  c.input_noise = 0.0  # std of Gaussian noise on G's training inputs, on [0, 1] images (srez: 0.03)
  c.conditional_discriminator = False  # D sees the image beside the bicubic-upsampled LR (FSRGAN)
  return c


def reference_vae_config():
  """SISR-VAE and RefSR-VAE (jaxsr.methods.reference_vae): x8 on 128x128 faces grouped by identity."""
  c = base_config()
  # Embedded procedural people, built on first use; yours: python -m jaxsr.data.build identity_folder ...
  c.dataset = c.eval_dataset = 'procedural_identities'
  c.eval_split = 'val'  # evaluated faces
  c.reference_split = 'train'  # where RefSR-VAE's evaluation references come from (other photos of the person)
  c.image_size = 128
  c.scale = 8
  c.degradation = 'bicubic'
  c.flip = True
  c.batch_size = 16
  c.num_steps = 100_000
  c.eval_border = 8  # px left out of PSNR/SSIM, as the paper measures
  c.diversity_samples = 4  # outputs with eps ~ N(0, 1) whose per-pixel std is the diversity
  # The prototxts' weights on Caffe's sums (jaxsr.methods.reference_vae): per face, summed pixel L1 on [0, 1]
  # images + 10 x summed L1 of conv5_4 features / 256 + the KL summed over latent dimensions. The VGG term needs
  # a VGG19 file that no fresh clone has, so it starts off: --config.loss.vgg=10 --config.vgg.weights=vgg19.npz
  # (from `python -m jaxsr.convert_vgg`) trains the prototxts' loss.
  c.loss = ml_collections.ConfigDict(dict(l1=1.0, vgg=0.0, kl=1.0))
  c.prior_std = 0.1  # the KL term's prior N(0, prior_std^2); SISR-VAE samples from it at test time
  c.temperature = 1.0  # multiplies sigma at test time
  c.test_noise = 'prior'  # SISR's test-time sigma: 'prior' (prior_std) or 'prototxt' (N(0, 1) draws, the deploy file's)
  # conv5_4 before its ReLU (the prototxts stop at the conv), average pooling, Caffe VGG19 weights
  c.vgg = ml_collections.ConfigDict(dict(weights='', layer='conv5_4', pool='avg', pre_activation=True))
  c.model = ml_collections.ConfigDict(dict(
      encoder_widths=(128, 256, 512), features=64, head_features=(256, 128, 128), encoder_dense=(4096, 2048),
      latent=1024, noise_dense=512, decoder_dense=(2048, 2048), decoder_channels=16, code_features=128,
      up_features=32, optimizer=optimizer('adam', 1e-4, b1=0.9, b2=0.999)))
  return c


def tiny_reference_vae(c):
  """configs/{sisr,refsr}_vae.py:tiny: small widths and a 16-wide latent, 8 procedural people of 64 px."""
  tiny(c)
  c.dataset = c.eval_dataset = 'procedural_identities/tiny'
  c.image_size = 64
  c.model.update(encoder_widths=(8, 8, 16), features=8, head_features=(8, 8, 8), encoder_dense=(32,), latent=16,
                 noise_dense=16, decoder_dense=(32,), decoder_channels=4, code_features=8, up_features=8)
  c.diversity_samples = 2
  return c


def variants(config_file, arg, known):
  """The set of variants `arg` names (`configs/x.py:tiny,gan` -> {'tiny', 'gan'}); an unknown one is named with
  the ones `known` to the config file."""
  chosen = set(filter(None, arg.split(',')))
  if chosen - set(known):
    raise ValueError(f"configs/{Path(config_file).name}: unknown variant '{arg}' (known: {', '.join(sorted(known))})")
  return chosen


def sibling_config(config_file, name, arg=''):
  """`get_config(arg)` of configs/<name>.py next to `config_file`: a variant config starts from its parent."""
  return load_file(Path(config_file).with_name(f'{name}.py'), arg)


def network_kwargs(sub):
  """A network's config sub-dict as its module's keyword arguments (`Module(**network_kwargs(config.generator))`):
  every field but its `optimizer` and the `architecture` that picks the module, sequences as tuples (a run's
  config.json gives lists). The module's field names are the config's, so a stray field fails at construction
  instead of shifting the arguments after it."""
  def frozen(value):
    return tuple(map(frozen, value)) if isinstance(value, (list, tuple)) else value
  return {k: frozen(v) for k, v in sub.items() if k not in ('optimizer', 'architecture')}


def shipped_configs():
  """The folder of the configs jaxsr ships: configs/ beside the package in a checkout or an editable install,
  jaxsr/configs/ in an installed wheel (pyproject.toml maps the one to the other)."""
  package = Path(__file__).resolve().parents[1]
  return package / 'configs' if (package / 'configs').is_dir() else package.parent / 'configs'


def config_file(path):
  """`path` when that file exists, else the shipped config of its name: `configs/h2l.py` (`:variant` kept) reads
  from any folder, in a checkout or after `pip install .`. A name neither here nor shipped is refused in a line."""
  file, colon, arg = str(path).partition(':')
  if Path(file).is_file():
    return str(path)
  shipped = shipped_configs() / Path(file).name
  if Path(file).parent.name in ('', 'configs') and shipped.is_file():
    return f'{shipped}{colon}{arg}'
  names = ', '.join(sorted(p.stem for p in shipped_configs().glob('*.py')))
  raise ValueError(f'--config={path}: no such file here, nor among the shipped configs/<name>.py ({names})')


def config_argv(argv):
  """argv with `--config`'s file looked up by config_file, so `--config=configs/h2l.py` works from any folder
  after `pip install .`."""
  argv = list(argv)
  for i, arg in enumerate(argv[1:], 1):
    if arg.startswith('--config='):
      argv[i] = '--config=' + config_file(arg[len('--config='):])
    elif arg == '--config' and i + 1 < len(argv):
      argv[i + 1] = config_file(argv[i + 1])
  return argv


def load_file(path, arg=''):
  """`get_config(arg)` of the config file at `path` (`--config=path:arg` on the command line)."""
  spec = importlib.util.spec_from_file_location(f'jaxsr_configs.{Path(path).stem}', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


def tiny(c):
  """The seconds-long variant of a config: the 256-face embedded dataset, small batches, frequent logs."""
  c.dataset = c.eval_dataset = 'procedural_faces/tiny'
  c.batch_size = 8
  c.num_steps = 20
  c.log_every = c.eval_every = c.checkpoint_every = 10
  c.eval_size = 8
  c.xla_fast_compile = True
  return c


def optimizer(name='adam', learning_rate=1e-4, b1=0.9, b2=0.999, schedule='constant', decay_every=0,
              decay_factor=1.0, clip_value=0.0, warmup_steps=0, decay_steps=0):
  """jaxsr.core.optim: adam, adabelief or rmsprop (b2 is its rho); clip_value > 0 clips gradients elementwise.
  Schedules: constant, step (decay_every, decay_factor), warmup_cosine (warmup_steps, decay_steps)."""
  return ml_collections.ConfigDict(dict(name=name, learning_rate=learning_rate, b1=b1, b2=b2, schedule=schedule,
                                        decay_every=decay_every, decay_factor=decay_factor, clip_value=clip_value,
                                        warmup_steps=warmup_steps, decay_steps=decay_steps))


def uses_vgg(config):
  """Whether the config's loss has a perceptual term, whose VGG19 weights the run then reads at start-up."""
  return config.get('loss', {}).get('vgg', 0.0) > 0


def unknown_field(config, dotted):
  """For an override `--config.<dotted>=...`: a message naming the first part of `dotted` the config lacks and
  the closest names at that depth, or None when the field exists."""
  node, walked = config, []
  for part in dotted.split('.'):
    if not isinstance(node, ml_collections.ConfigDict) or part not in node:
      known = sorted(node.keys()) if isinstance(node, ml_collections.ConfigDict) else []
      close = difflib.get_close_matches(part, known, n=3, cutoff=0.5)
      where = 'config.' + '.'.join(walked) if walked else 'the config'
      hint = f'; did you mean {" or ".join(repr(c) for c in close)}?' if close else ''
      listing = f' ({where} has {", ".join(known)})' if known else f' ({where} is a value, not a group)'
      return f"config.{'.'.join([*walked, part])}: {where} has no field '{part}'{hint}{listing}"
    node = node[part]
    walked.append(part)
  return None


def _check(ok, field, message):
  if not ok:
    raise ValueError(f'config.{field}: {message}')


def validate(config, device_count):
  """Raises ValueError naming the first invalid field."""
  c = config
  _check(c.batch_size > 0, 'batch_size', f'must be positive, got {c.batch_size}')
  _check(c.batch_size % device_count == 0, 'batch_size',
         f'{c.batch_size} does not split over {device_count} devices')
  _check(c.num_steps >= 0, 'num_steps', f'must be >= 0, got {c.num_steps}')
  for field in ('log_every', 'eval_every', 'checkpoint_every', 'keep_checkpoints', 'eval_size', 'scale',
                'data_threads', 'steps_in_flight'):
    _check(c[field] > 0, field, f'must be positive, got {c[field]}')
  minutes = c.train_minutes
  _check(minutes >= 0, 'train_minutes', f'must be 0 (off) or positive, got {minutes}')
  ema = c.ema_decay
  _check(0 <= ema < 1, 'ema_decay', f'must be 0 (off) or in (0, 1), got {ema}')
  _check(c.precision in PRECISIONS, 'precision', f"must be one of {PRECISIONS}, got '{c.precision}'")
  _check(8 <= c.image_size <= MAX_IMAGE_SIZE, 'image_size', f'must be in [8, {MAX_IMAGE_SIZE}], got {c.image_size}')
  _check(c.image_size % c.scale == 0, 'image_size', f'{c.image_size} is not a multiple of scale={c.scale}')
  for field, o in _optimizers(c):
    _check(o.name in optim.OPTIMIZERS, f'{field}.name', f"unknown '{o.name}'; known: {sorted(optim.OPTIMIZERS)}")
    _check(o.learning_rate >= 0, f'{field}.learning_rate', f'must be >= 0, got {o.learning_rate}')
    _check(o.schedule in optim.SCHEDULES, f'{field}.schedule', f"must be one of {optim.SCHEDULES}")
    _check(o.schedule != 'step' or o.decay_every > 0, f'{field}.decay_every', 'must be positive for a step schedule')
    if o.schedule == 'warmup_cosine':
      _check(0 <= o.warmup_steps < o.decay_steps, f'{field}.decay_steps',
             f'warmup_cosine needs 0 <= warmup_steps < decay_steps, got {o.warmup_steps} and {o.decay_steps}')


def _optimizers(c, prefix=''):
  """(dotted name, sub-config) of every `optimizer` at any depth, e.g. ('l2h.generator.optimizer', ...)."""
  for name, sub in c.items():
    if isinstance(sub, ml_collections.ConfigDict):
      if name == 'optimizer':
        yield prefix + name, sub
      else:
        yield from _optimizers(sub, f'{prefix}{name}.')
