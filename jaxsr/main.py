"""Entry point: python -m jaxsr.main --config=configs/h2l.py --workdir=runs/h2l [--config.x=y ...]

Running the same command again resumes from the last checkpoint in --workdir.
"""
import logging as std_logging
import os

import jax
from absl import app, flags, logging
from ml_collections import config_flags

from jaxsr import train

_CONFIG = config_flags.DEFINE_config_file('config', None, 'A configs/<method>.py file (`file.py:variant` too).',
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Directory for checkpoints, TensorBoard logs and samples.')
flags.mark_flags_as_required(['config', 'workdir'])


def _initialize_distributed():
  """Joins a multi-process run when a launcher started one: launch/local.sh sets JAX_COORDINATOR_ADDRESS,
  JAX_NUM_PROCESSES and JAX_PROCESS_ID; under SLURM (srun) or Open MPI (mpirun) jax reads its own variables."""
  if 'JAX_COORDINATOR_ADDRESS' in os.environ:
    jax.distributed.initialize(num_processes=int(os.environ['JAX_NUM_PROCESSES']),
                               process_id=int(os.environ['JAX_PROCESS_ID']))
  elif int(os.environ.get('SLURM_NTASKS', 1)) > 1 or int(os.environ.get('OMPI_COMM_WORLD_SIZE', 1)) > 1:
    jax.distributed.initialize()


class _QuietLibraries(std_logging.Filter):
  """Keeps orbax's and tfds's INFO chatter (several lines per checkpoint) out of the training log."""

  def filter(self, record):
    return record.levelno >= std_logging.WARNING or not any(
        f'/{lib}/' in record.pathname for lib in ('orbax', 'tensorflow_datasets', 'grain'))


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  logging.get_absl_handler().addFilter(_QuietLibraries())
  _initialize_distributed()
  logging.info('process %d of %d; %d local / %d global devices (%s)', jax.process_index(), jax.process_count(),
               jax.local_device_count(), jax.device_count(), jax.devices()[0].platform)
  train.train_and_evaluate(_CONFIG.value, _WORKDIR.value)


if __name__ == '__main__':
  app.run(main)
