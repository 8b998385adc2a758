"""Orbax checkpoints of the train state together with the data iterator position, and reading one network of
another run (a generator to start from, a frozen network to train against)."""
import contextlib
import errno
import json
import shutil
import time
from pathlib import Path

import flax
import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging
from jax.experimental import multihost_utils

from jaxsr.storage import run_record


class CheckpointSaveError(OSError):
  """A checkpoint could not be written (most often: the disk is full); the previous checkpoints are untouched."""


class CheckpointMismatchError(ValueError):
  """A checkpoint holds other arrays than the config builds: the run was started with another config."""

  def __init__(self, step, directory, mismatches, hint='', limit=6):
    self.step, self.directory, self.mismatches = step, directory, mismatches
    shown = [f'{path}: {_shape_text(saved)} saved, {_shape_text(here)} here'
             for path, (saved, here) in list(mismatches.items())[:limit]]
    more = f' and {len(mismatches) - limit} more' if len(mismatches) > limit else ''
    super().__init__(f'checkpoint {step} in {directory} does not fit this config: {"; ".join(shown)}{more}. '
                     f'{hint}'.strip())


def _shape_text(shape):
  return 'missing' if shape is None else str(tuple(shape))


def _shapes(tree, prefix=''):
  """{'nets/h2l/params/conv/kernel': shape} of a nested dict/list tree of arrays or orbax array metadata."""
  if isinstance(tree, dict):
    items = tree.items()
  elif isinstance(tree, (list, tuple)):
    items = enumerate(tree)
  else:
    return {prefix.rstrip('/'): tuple(tree.shape)} if hasattr(tree, 'shape') else {}
  out = {}
  for key, value in items:
    out.update(_shapes(value, f'{prefix}{key}/'))
  return out


# What orbax and tensorstore say when checkpoint files are missing or cut short (tensorstore status codes).
_DAMAGE_MARKERS = ('DATA_LOSS', 'NOT_FOUND', 'OUT_OF_RANGE', 'Error decoding', 'Unexpected end', 'truncated')
# What they say when the arrays asked for are not the arrays saved.
_MISMATCH_MARKERS = ('not compatible with the stored shape', 'tree structures do not match', 'Shape mismatch')


def _causes(error):
  while error is not None:
    yield error
    error = error.__cause__ or error.__context__


def _is_damage(error):
  """Missing or truncated files: nothing a retry could fix."""
  return any(isinstance(e, (FileNotFoundError, json.JSONDecodeError)) or
             any(m in str(e) for m in _DAMAGE_MARKERS) for e in _causes(error))


def _is_mismatch(error):
  return any(any(m in str(e) for m in _MISMATCH_MARKERS) for e in _causes(error))


class Checkpointer:
  """Keeps the last `keep` checkpoints under `directory`; saves asynchronously while training goes on.

  Frozen networks (`TrainState.frozen`: VGG19 weights, a trained H2L) are not saved: they come from their own
  files, which the run's config names. orbax writes each checkpoint into a temporary directory and renames it
  when complete, so a crash mid-save leaves the previous checkpoints as they were.
  """

  def __init__(self, directory, keep):
    self.directory = Path(directory)
    options = ocp.CheckpointManagerOptions(preservation_policy=ocp.checkpoint_managers.LatestN(keep), create=True,
                                           enable_async_checkpointing=True)
    self._manager = ocp.CheckpointManager(directory, options=options, handler_registry=_items())

  def latest_step(self):
    return self._manager.latest_step()

  def save(self, step, state, data_state):
    """Starts writing checkpoint `step`; raises CheckpointSaveError, before writing anything, when the disk
    cannot hold it, and when the previous (asynchronous) save failed."""
    state = state.replace(frozen={})
    needed = sum(x.nbytes for x in jax.tree.leaves(state)) + _MARGIN_BYTES
    free = _free_bytes_everywhere(self.directory)
    if free.min() < needed:
      where = (f'{free.min() / 2**20:.0f} MiB are free' if len(free) == 1 else
               f'process {int(free.argmin())} of {len(free)} has {free.min() / 2**20:.0f} MiB free')
      raise CheckpointSaveError(
          errno.ENOSPC, f'not enough disk space to save step {step}: it needs about {needed / 2**20:.0f} MiB and '
          f'{where}; the previous checkpoint ({self.latest_step()}) is intact', str(self.directory))
    with self._save_errors(step):
      self._manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                       data=ocp.args.JsonSave(data_state)))

  def restore_latest(self, state):
    """(step, state, data_state) of the newest checkpoint that reads back, or None when there is none.

    Newer checkpoints that are damaged (files missing or cut short by a crash on a filesystem without atomic
    renames) are skipped with a warning and moved aside to `<step>.unreadable`, not deleted, so that training can
    write those steps again. A checkpoint that does not fit `state` raises CheckpointMismatchError naming the
    arrays; any other error (a flaky network filesystem, permissions) is retried, then raised, moving nothing:
    resuming from an older checkpoint because of a transient error would silently throw training away.
    """
    damaged = []
    for step in sorted(self._manager.all_steps(), reverse=True):
      try:
        restored = self._restore_retrying(step, state)
      except Exception as error:
        if _is_mismatch(error):
          raise CheckpointMismatchError(step, self.directory, self._mismatches(step, state)) from error
        if not _is_damage(error):
          raise
        damaged.append((step, error))
        continue
      for bad, error in damaged:
        aside = self.directory / f'{bad}.unreadable'
        logging.warning('Checkpoint %s cannot be read (%s: %s); resuming from step %d instead and moving it to %s.',
                        self.directory / str(bad), type(error).__name__, str(error).splitlines()[0][:300], step,
                        aside)
        if jax.process_index() == 0:
          (self.directory / str(bad)).rename(aside)
      if damaged:
        multihost_utils.sync_global_devices('jaxsr: unreadable checkpoints moved aside')
        self._manager.reload()
      return (step, *restored)
    if damaged:
      raise damaged[0][1]
    return None

  def restore_for_reading(self, state, step=None, attempts=3, wait_seconds=1.0):
    """(step, the saved state) for tools that only read a run (upscale, export, evaluate): checkpoint `step`, or
    the newest that reads back. A damaged newest checkpoint is skipped with a warning, nothing moved (that is
    training's job); a run that is still training may delete or add checkpoints while they are read, so a
    failure starts over from the steps on disk then, up to `attempts` times."""
    failures = {}
    for attempt in range(attempts):
      self._manager.reload()
      steps = sorted(self._manager.all_steps(), reverse=True)
      if not steps:
        raise FileNotFoundError(f'{self.directory.parent}: no checkpoint yet')
      if step is not None and step not in steps:
        raise FileNotFoundError(f'--step={step}: {self.directory} keeps steps {sorted(steps)}')
      for candidate in [step] if step is not None else steps:
        try:
          return candidate, self.restore(candidate, state)[0]
        except Exception as error:
          if _is_mismatch(error):
            raise CheckpointMismatchError(candidate, self.directory, self._mismatches(candidate, state)) from error
          failures[candidate] = error
          logging.warning('Checkpoint %d in %s cannot be read (%s: %s)%s', candidate, self.directory,
                          type(error).__name__, str(error).splitlines()[0][:200],
                          '; trying an older one.' if step is None else '.')
      time.sleep(wait_seconds)
    newest, error = max(failures.items())
    raise OSError(f'{self.directory}: no checkpoint reads back (tried steps {sorted(failures)}; step {newest}: '
                  f'{type(error).__name__}: {str(error).splitlines()[0][:200]})') from error

  def _restore_retrying(self, step, state, attempts=3, wait_seconds=2.0):
    """`restore`, tried again after an error that is neither damage nor a mismatch (it may be transient)."""
    for attempt in range(attempts):
      try:
        return self.restore(step, state)
      except Exception as error:
        if _is_mismatch(error) or _is_damage(error) or attempt == attempts - 1:
          raise
        logging.warning('Reading checkpoint %d failed (%s: %s); trying again in %.0f s.', step,
                        type(error).__name__, str(error).splitlines()[0][:300], wait_seconds)
        time.sleep(wait_seconds)
        wait_seconds *= 2

  def _mismatches(self, step, state):
    """{array path: (saved shape, expected shape)} of the arrays checkpoint `step` and `state` disagree on."""
    reader = _reader(self.directory)
    saved = _shapes(reader.item_metadata(step)['state'].tree)
    reader.close()
    expected = _shapes(flax.serialization.to_state_dict(state.replace(frozen={})))
    differing = [k for k in saved.keys() | expected.keys() if saved.get(k) != expected.get(k)]
    return {k: (saved.get(k), expected.get(k)) for k in sorted(differing, key=lambda k: ('opt_state' in k, k))}

  def restore(self, step, state):
    """Returns (the saved state, data_state); `state` gives shapes, dtypes, shardings and the frozen networks."""
    abstract = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding),
                            state.replace(frozen={}))
    restored = self._manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract),
                                                                   data=ocp.args.JsonRestore()))
    return restored.state.replace(frozen=state.frozen), restored.data

  def close(self):
    with self._save_errors(self._manager.latest_step()):
      self._manager.wait_until_finished()
    self._manager.close()

  @contextlib.contextmanager
  def _save_errors(self, step):
    try:
      yield
    except OSError as error:
      raise CheckpointSaveError(
          error.errno, f'saving checkpoint {step} failed ({error.strerror or error}); checkpoints already '
          f'complete in this directory are intact', str(self.directory)) from error


_MARGIN_BYTES = 16 * 2**20  # orbax's metadata and the data iterator state


def _free_bytes_everywhere(directory):
  """Free bytes under `directory` on every process (one entry per process). Every process learns every other's
  number, so all of them stop or all of them enter orbax's collective save: a lone process raising would leave
  the others waiting in the save until the heartbeat timeout."""
  free = shutil.disk_usage(directory).free
  if jax.process_count() == 1:
    return np.array([free])
  mib = multihost_utils.process_allgather(np.int32(min(free // 2**20, 2**31 - 1)))  # jax's default ints: 32 bits
  return np.asarray(mib, np.int64).reshape(-1) * 2**20


def save_run(workdir, config, state, step=0):
  """Writes the run directory `workdir` holding `state` as checkpoint `step` and `config` as its record: a run that
  was not trained here (imported weights), which upscale, evaluate and init_from take like any other."""
  workdir = Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  checkpoints = Checkpointer(workdir / 'checkpoints', config.keep_checkpoints)
  checkpoints.save(step, state, {})
  checkpoints.close()
  run_record.write(workdir, config, step)


def load_network(run_dir, name, expected, field, step=None, averaged=False):
  """(params, state) of network `name` in checkpoint `step` (default: the newest) of the run in `run_dir`; with
  `averaged`, its moving average of the parameters where the run kept one (config.ema_decay).

  `expected` ({'params', 'state'}: arrays or shape structs) fixes the structure and shapes; `field` is the config entry
  that named `run_dir`, for the errors: a missing directory, a run without checkpoints, a run without that
  network or with a differently shaped one (another architecture or scale) each say which.
  """
  found = load_networks(run_dir, {name: expected}, field, step, averaged)
  if name not in found:
    raise ValueError(f"config.{field}: the run in {run_dir} has no network '{name}' (it has "
                     f"{network_names(run_dir)})")
  return found[name]


def load_networks(run_dir, expected, field, step=None, averaged=False):
  """{name: (params, state)} of every network of `expected` ({name: {'params', 'state'}}) that checkpoint `step`
  of the run in `run_dir` holds, checked as load_network checks one."""
  directory = _checkpoints_of(run_dir, field, step)
  nets = read_saved_state(directory, step)['nets']
  found = {}
  for name in expected:
    if name in nets:
      net = nets[name]
      params = net['ema'] if averaged and net.get('ema') is not None else net['params']
      found[name] = fitted({'params': params, 'state': net.get('state') or {}}, expected[name], field, name, run_dir)
  return found


def network_names(run_dir):
  """The networks the newest checkpoint of the run in `run_dir` holds."""
  return sorted(read_saved_state(Path(run_dir).expanduser().absolute() / 'checkpoints')['nets'])


def _checkpoints_of(run_dir, field, step):
  """The checkpoints directory of the run in `run_dir`, refused (naming config.`field`) when it has no checkpoint
  `step` (None: any)."""
  directory = Path(run_dir or '').expanduser().absolute() / 'checkpoints'
  if not run_dir or not directory.is_dir():
    raise FileNotFoundError(f'config.{field}: {run_dir!r} is not a jaxsr run directory (no {directory})')
  steps = saved_steps(directory)
  if not steps:
    raise FileNotFoundError(f'config.{field}: the run in {run_dir} has no checkpoint yet')
  if step is not None and step not in steps:
    raise FileNotFoundError(f'config.{field}: the run in {run_dir} has no checkpoint {step} (it keeps {steps}); '
                            'copy the run while it had it, or choose a step it keeps')
  return directory


def fitted(loaded, expected, field, name, source):
  """(params, state) of `loaded` as numpy arrays when every array of `expected` is there with its shape; else a
  ValueError naming config.`field`, the network and the first array that differs."""
  got_paths = {jax.tree_util.keystr(p): np.shape(v) for p, v in jax.tree_util.tree_leaves_with_path(loaded)}
  for path, value in jax.tree_util.tree_leaves_with_path(expected):
    key = jax.tree_util.keystr(path)
    if got_paths.get(key) != np.shape(value):
      raise ValueError(f"config.{field}: network '{name}' of {source} does not fit this config: {key} is "
                       f"{got_paths.get(key, 'missing')} there, {np.shape(value)} here")
  return jax.tree.map(np.asarray, loaded['params']), jax.tree.map(np.asarray, loaded['state'])


def _items():
  """A checkpoint's two items and how each is written and read: the train state (orbax's standard pytree) and the
  data iterator's position (JSON)."""
  registry = ocp.handlers.DefaultCheckpointHandlerRegistry()
  state, data = ocp.StandardCheckpointHandler(), ocp.JsonCheckpointHandler()
  for item, handler, kinds in (('state', state, (ocp.args.StandardSave, ocp.args.StandardRestore)),
                               ('data', data, (ocp.args.JsonSave, ocp.args.JsonRestore))):
    for kind in kinds:
      registry.add(item, kind, handler)
  return registry


def _reader(directory):
  """A manager that reads checkpoints (and their metadata) without being told their structure first."""
  return ocp.CheckpointManager(Path(directory).absolute(), handler_registry=_items())


def saved_steps(directory):
  """The steps of the complete checkpoints in `directory`, ascending ([] when there are none)."""
  if not Path(directory).is_dir():
    return []
  manager = _reader(directory)
  steps = sorted(manager.all_steps())
  manager.close()
  return steps


def read_saved_state(directory, step=None):
  """The saved state of checkpoint `step` (default: the newest) in `directory` as a tree of numpy arrays, or None
  without checkpoints. Reads a run saved on any number of devices and processes (the saved shardings are
  ignored), for reading networks into another run."""
  manager = _reader(directory)
  step = manager.latest_step() if step is None else step
  if step is None:
    manager.close()
    return None
  here = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
  abstract = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=here),
                          manager.item_metadata(step)['state'])
  saved = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract))).state
  manager.close()
  return jax.tree.map(np.asarray, saved)
