"""Orbax checkpoints of the train state together with the data iterator position."""
import orbax.checkpoint as ocp


class Checkpointer:
  """Keeps the last `keep` checkpoints under `directory`; saves asynchronously while training goes on."""

  def __init__(self, directory, keep):
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True, enable_async_checkpointing=True)
    self._manager = ocp.CheckpointManager(directory, options=options, item_names=('state', 'data'))

  def latest_step(self):
    return self._manager.latest_step()

  def save(self, step, state, data_state):
    self._manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                     data=ocp.args.JsonSave(data_state)))

  def restore(self, step, abstract_state):
    """Returns (state, data_state); `abstract_state` gives shapes, dtypes and shardings."""
    restored = self._manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state),
                                                                   data=ocp.args.JsonRestore()))
    return restored.state, restored.data

  def close(self):
    self._manager.wait_until_finished()
    self._manager.close()
