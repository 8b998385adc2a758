"""Orbax checkpoints of the train state together with the data iterator position, and reading one network of
another run (a generator to start from, a frozen network to train against)."""
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp


class Checkpointer:
  """Keeps the last `keep` checkpoints under `directory`; saves asynchronously while training goes on.

  Frozen networks (`TrainState.frozen`: VGG19 weights, a trained H2L) are not saved: they come from their own
  files, which the run's config names.
  """

  def __init__(self, directory, keep):
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True, enable_async_checkpointing=True)
    self._manager = ocp.CheckpointManager(directory, options=options, item_names=('state', 'data'))

  def latest_step(self):
    return self._manager.latest_step()

  def save(self, step, state, data_state):
    self._manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state.replace(frozen={})),
                                                     data=ocp.args.JsonSave(data_state)))

  def restore(self, step, state):
    """Returns (the saved state, data_state); `state` gives shapes, dtypes, shardings and the frozen networks."""
    abstract = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding),
                            state.replace(frozen={}))
    restored = self._manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract),
                                                                   data=ocp.args.JsonRestore()))
    return restored.state.replace(frozen=state.frozen), restored.data

  def close(self):
    self._manager.wait_until_finished()
    self._manager.close()


def load_network(run_dir, name, expected, field):
  """(params, state) of network `name` in the newest checkpoint of the run in `run_dir`.

  `expected` ({'params', 'state'}: arrays or shape structs) fixes the structure and shapes; `field` is the config entry
  that named `run_dir`, for the errors: a missing directory, a run without checkpoints, a run without that
  network or with a differently shaped one (another architecture or scale) each say which.
  """
  directory = Path(run_dir or '').absolute() / 'checkpoints'
  if not run_dir or not directory.is_dir():
    raise FileNotFoundError(f'config.{field}: {run_dir!r} is not a jaxsr run directory (no {directory})')
  manager = ocp.CheckpointManager(directory, item_names=('state', 'data'))
  step = manager.latest_step()
  if step is None:
    raise FileNotFoundError(f'config.{field}: the run in {run_dir} has no checkpoint yet')
  saved = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore())).state
  manager.close()
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
