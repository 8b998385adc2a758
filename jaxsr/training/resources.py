"""Everything a run reads from files besides its own checkpoints, resolved in one trip at start-up (`resolve`),
before any data is built, so that a wrong path fails in seconds and no method constructor does I/O. A method
declares the frozen networks its step reads (`Method.frozen_networks`); the config names their files:

  'vgg'   config.vgg.weights    VGG19 for a perceptual term                          -> TrainState.frozen['vgg']
  'h2l'   config.h2l_workdir    a trained H2L run (or its jaxsr.export) whose generator makes the LR inputs
                                (config.degradation = 'h2l'), at step config.h2l_step  -> TrainState.frozen['h2l']
          config.init_from      a run (or export) whose networks start this one (SRGAN from SRResNet, a new round
                                of a GAN from the last one's generator and discriminator)

The H2L step is pinned: the first start uses config.h2l_step (0: the H2L run's newest checkpoint) and records it
in the run's config.json; a resumed run reads it back and keeps the same degradation even if the H2L run has gone
on since.
"""
import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging
from jax.experimental import multihost_utils

from jaxsr import methods
from jaxsr.core.train_state import FrozenNetwork
from jaxsr.methods.h2l import LEARNED, HighToLow, LearnedDegradation
from jaxsr.models import vgg
from jaxsr.storage import checkpointing, exports, run_record


@dataclasses.dataclass
class Resources:
  frozen: dict  # name -> FrozenNetwork or LearnedDegradation, for TrainState.frozen
  init_from: str = ''  # a run directory or export whose networks start this run


def resolve(config, workdir):
  """(config with its H2L step pinned, the method it makes, the Resources it reads): what a start needs from
  files besides the run's own checkpoints."""
  config = pin(config, workdir)
  method = methods.create(config)
  return config, method, load(config, method)


def load(config, method):
  """The frozen networks `method` declares, read from the files `config` names, and config.init_from checked;
  errors name the config field."""
  frozen = {name: LOADERS[name](config, method.dtype) for name in method.frozen_networks()}
  if 'vgg' not in frozen and config.get('vgg', {}).get('weights'):
    logging.warning('config.vgg.weights is set but config.loss.vgg is 0: the perceptual term is off.')
  init_from = config.get('init_from', '')
  if init_from and not ((Path(init_from).expanduser() / 'checkpoints').is_dir() or exports.is_export(
      Path(init_from).expanduser())):
    raise FileNotFoundError(f'config.init_from: {init_from!r} is neither a jaxsr run directory (no checkpoints/) '
                            f'nor a jaxsr.export folder (no {exports.EXPORT})')
  return Resources(frozen, init_from)


def perceptual_network(config, dtype=jnp.float32):
  """VGG19 from config.vgg.weights, for a perceptual loss term."""
  if not config.vgg.weights:
    raise ValueError(f'config.loss.vgg={config.loss.vgg} needs VGG19 weights: make a file with `python -m '
                     'jaxsr.convert_vgg` and set config.vgg.weights, or set config.loss.vgg=0')
  module, params = vgg.from_config(config.vgg, dtype)
  return FrozenNetwork({'params': params}, module)


def h2l_run_config(config):
  """The config.json of the H2L run in config.h2l_workdir, checked against `config`."""
  run = Path(config.get('h2l_workdir') or '').expanduser()
  record = run_record.read(run) if config.get('h2l_workdir') else None
  if record is None:
    raise FileNotFoundError(f"config.h2l_workdir: {config.get('h2l_workdir')!r} is not an H2L run directory (no "
                            f"config.json); train one first: python -m jaxsr.main --config=configs/h2l.py "
                            f"--workdir=runs/h2l, or choose another config.degradation")
  h2l = ml_collections.ConfigDict(record)
  if h2l.get('method') != 'h2l':
    raise ValueError(f"config.h2l_workdir: {run} is a '{h2l.get('method')}' run, not an h2l one")
  if (h2l.image_size, h2l.scale) != (config.image_size, config.scale):
    raise ValueError(f'config.h2l_workdir: the H2L run in {run} degrades {h2l.image_size} px faces by x'
                     f'{h2l.scale}; this config is {config.image_size} px, x{config.scale}')
  return h2l


def pin(config, workdir):
  """`config` with h2l_step set to the H2L checkpoint this run uses: config.h2l_step when set, else the step the
  run recorded at its first start, else the H2L run's newest. Every process gets process 0's answer."""
  if config.get('degradation') != LEARNED:
    return config
  h2l_run_config(config)  # a wrong h2l_workdir is named before anything else
  source = Path(config.h2l_workdir).expanduser()
  if exports.is_export(source):  # one step only
    exported = exports.read_record(source)['step']
    if config.get('h2l_step', 0) not in (0, exported):
      raise ValueError(f'config.h2l_step={config.h2l_step}: {source} is an export of H2L step {exported} only; '
                       'set config.h2l_step=0')
  newest = (exports.read_record(source)['step'] if exports.is_export(source)
            else max(checkpointing.saved_steps(source / 'checkpoints'), default=0))
  recorded = (run_record.read(workdir) or {}) if workdir else {}
  same_run = _resolved(recorded.get('h2l_workdir')) == _resolved(config.h2l_workdir)
  pinned = recorded.get('h2l_step', 0) if same_run else 0
  step = config.get('h2l_step', 0) or pinned or newest
  if jax.process_count() > 1:
    step = int(multihost_utils.broadcast_one_to_all(np.int32(step)))
  if pinned and step != pinned:
    logging.warning('config.h2l_step=%d: this run started with H2L step %d; its LR inputs change from here.', step,
                    pinned)
  elif newest > step:
    logging.info('The H2L run in %s has gone on to step %d; this run keeps step %d (pinned at its first start; '
                 '--config.h2l_step chooses another).', config.h2l_workdir, newest, step)
  config = ml_collections.ConfigDict(config.to_dict())
  config.h2l_step = step
  return config


def _resolved(path):
  return Path(path).expanduser().resolve() if path else None


def learned_degradation(config, dtype=jnp.float32):
  """The H2L generator of config.h2l_workdir at config.h2l_step (0: newest), as a LearnedDegradation: its
  averaged weights when the H2L run kept them."""
  h2l_config = h2l_run_config(config)
  h2l_config.precision = 'bfloat16' if dtype == jnp.bfloat16 else 'float32'
  generator = HighToLow(h2l_config).generator
  size = config.image_size
  shapes = jax.eval_shape(lambda: generator.init(jax.random.key(0), jnp.zeros((1, size, size, 3)),
                                                 jnp.zeros((1, h2l_config.z_dim)), train=False))
  expected = {'params': shapes['params'], 'state': {k: v for k, v in shapes.items() if k != 'params'}}
  if exports.is_export(Path(config.h2l_workdir).expanduser()):
    params, state = exports.load_network(Path(config.h2l_workdir).expanduser(), 'h2l', expected, 'h2l_workdir')
  else:
    params, state = checkpointing.load_network(config.h2l_workdir, 'h2l', expected, 'h2l_workdir',
                                               config.get('h2l_step', 0) or None, averaged=True)
  return LearnedDegradation({'params': params, **state}, generator, h2l_config.z_dim)


LOADERS = {'vgg': perceptual_network, LEARNED: learned_degradation}  # Method.frozen_networks names -> loaders


def start_from(files, state):
  """`state` with every network that files.init_from holds replaced by its weights: a run's newest checkpoint (its
  moving averages where it kept them: the weights it was evaluated and exported with) or a `jaxsr.export` folder
  (its network and companions). A network the source lacks starts afresh (SRGAN's discriminator from an SRResNet
  run); only the weights come over, every optimizer state starts afresh."""
  if not files.init_from:
    return state
  source = Path(files.init_from).expanduser()
  expected = {name: {'params': net.params, 'state': net.state} for name, net in state.nets.items()}
  if exports.is_export(source):
    held = exports.networks(exports.read_record(source))
    found = {name: exports.load_network(source, name, expected[name], 'init_from') for name in expected if name in held}
  else:
    held = checkpointing.network_names(source)
    found = checkpointing.load_networks(source, expected, 'init_from', averaged=True)
  if not found:
    raise ValueError(f'config.init_from: {files.init_from} holds {held}, none of the networks of this run '
                     f'({sorted(state.nets)})')
  logging.info('%s initialised from %s (weights only; the optimizer starts afresh)%s.', ', '.join(found),
               files.init_from, f'; {", ".join(sorted(set(state.nets) - set(found)))} start afresh'
               if set(state.nets) - set(found) else '')
  return state.replace(nets={**state.nets, **{n: state.nets[n].with_weights(*found[n]) for n in found}})
