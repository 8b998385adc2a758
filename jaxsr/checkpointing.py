"""Orbax checkpoints of the train state together with the data iterator position, and reading one network of
another run (a generator to start from, a frozen network to train against)."""
import contextlib
import errno
import shutil
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging
from jax.experimental import multihost_utils


class CheckpointSaveError(OSError):
  """A checkpoint could not be written (most often: the disk is full); the previous checkpoints are untouched."""


class Checkpointer:
  """Keeps the last `keep` checkpoints under `directory`; saves asynchronously while training goes on.

  Frozen networks (`TrainState.frozen`: VGG19 weights, a trained H2L) are not saved: they come from their own
  files, which the run's config names. orbax writes each checkpoint into a temporary directory and renames it
  when complete, so a crash mid-save leaves the previous checkpoints as they were.
  """

  def __init__(self, directory, keep):
    self.directory = Path(directory)
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True, enable_async_checkpointing=True)
    self._manager = ocp.CheckpointManager(directory, options=options, item_names=('state', 'data'))

  def latest_step(self):
    return self._manager.latest_step()

  def save(self, step, state, data_state):
    """Starts writing checkpoint `step`; raises CheckpointSaveError, before writing anything, when the disk
    cannot hold it, and when the previous (asynchronous) save failed."""
    state = state.replace(frozen={})
    needed = sum(x.nbytes for x in jax.tree.leaves(state)) + _MARGIN_BYTES
    free = shutil.disk_usage(self.directory).free
    if free < needed:
      raise CheckpointSaveError(
          errno.ENOSPC, f'not enough disk space to save step {step}: it needs about {needed / 2**20:.0f} MiB and '
          f'{free / 2**20:.0f} MiB are free; the previous checkpoint ({self.latest_step()}) is intact',
          str(self.directory))
    with self._save_errors(step):
      self._manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                       data=ocp.args.JsonSave(data_state)))

  def restore_latest(self, state):
    """(step, state, data_state) of the newest checkpoint that reads back, or None when there is none.

    Newer checkpoints that cannot be read (cut short by a crash on a filesystem without atomic renames, a file
    lost or truncated) are skipped with a warning and moved aside to `<step>.unreadable`, not deleted, so that
    training can write those steps again. When no checkpoint reads, nothing is moved and the newest one's error
    is raised: that is a config that does not fit the run, not damage.
    """
    unreadable = []
    for step in sorted(self._manager.all_steps(), reverse=True):
      try:
        restored = self.restore(step, state)
      except Exception as error:  # noqa: BLE001  (orbax raises many kinds for a damaged checkpoint)
        unreadable.append((step, error))
        continue
      for bad, error in unreadable:
        aside = self.directory / f'{bad}.unreadable'
        logging.warning('Checkpoint %s cannot be read (%s: %s); resuming from step %d instead and moving it to %s.',
                        self.directory / str(bad), type(error).__name__, str(error).splitlines()[0], step, aside)
        if jax.process_index() == 0:
          (self.directory / str(bad)).rename(aside)
      if unreadable:
        multihost_utils.sync_global_devices('jaxsr: unreadable checkpoints moved aside')
        self._manager.reload()
      return (step, *restored)
    if unreadable:
      raise unreadable[0][1]
    return None

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


def load_network(run_dir, name, expected, field):
  """(params, state) of network `name` in the newest checkpoint of the run in `run_dir`.

  `expected` ({'params', 'state'}: arrays or shape structs) fixes the structure and shapes; `field` is the config entry
  that named `run_dir`, for the errors: a missing directory, a run without checkpoints, a run without that
  network or with a differently shaped one (another architecture or scale) each say which.
  """
  directory = Path(run_dir or '').absolute() / 'checkpoints'
  if not run_dir or not directory.is_dir():
    raise FileNotFoundError(f'config.{field}: {run_dir!r} is not a jaxsr run directory (no {directory})')
  saved = read_saved_state(directory)
  if saved is None:
    raise FileNotFoundError(f'config.{field}: the run in {run_dir} has no checkpoint yet')
  nets = saved['nets']
  if name not in nets:
    raise ValueError(f"config.{field}: the run in {run_dir} has no network '{name}' (it has {sorted(nets)})")
  loaded = {'params': nets[name]['params'], 'state': nets[name].get('state') or {}}
  got_paths = {jax.tree_util.keystr(p): np.shape(v) for p, v in jax.tree_util.tree_leaves_with_path(loaded)}
  for path, value in jax.tree_util.tree_leaves_with_path(expected):
    key = jax.tree_util.keystr(path)
    if got_paths.get(key) != np.shape(value):
      raise ValueError(f"config.{field}: network '{name}' of {run_dir} does not fit this config: {key} is "
                       f"{got_paths.get(key, 'missing')} there, {np.shape(value)} here")
  return jax.tree.map(np.asarray, loaded['params']), jax.tree.map(np.asarray, loaded['state'])


def read_saved_state(directory, step=None):
  """The saved state of checkpoint `step` (default: the newest) in `directory` as a tree of numpy arrays, or None
  without checkpoints. Reads a run saved on any number of devices and processes (the saved shardings are
  ignored), for reading networks into another run."""
  manager = ocp.CheckpointManager(Path(directory).absolute(), item_handlers={
      'state': ocp.StandardCheckpointHandler(), 'data': ocp.JsonCheckpointHandler()})
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
