"""Data parallelism with jit and shardings: one `data` mesh axis over every device of every host.

The pmap programming model, written with today's API: the global batch is split over the `data` axis, the state is
replicated, and XLA inserts the gradient all-reduce; BatchNorm statistics are computed over the global batch.
"""
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P


def make_mesh(devices=None):
  devices = jax.devices() if devices is None else devices
  return Mesh(np.asarray(devices), ('data',))


def replicated(mesh):
  return NamedSharding(mesh, P())


def batch_sharding(mesh):
  return NamedSharding(mesh, P('data'))


def global_batch(local_batch, mesh):
  """Assembles each process's part of the batch into global arrays sharded over `data`."""
  sharding = batch_sharding(mesh)
  return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, x), local_batch)
