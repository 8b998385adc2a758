"""Entry point: python -m jaxsr.main --config=configs/h2l.py --workdir=runs/h2l [--config.x=y ...]

Running the same command again resumes from the last checkpoint in --workdir.
"""
import os
import shutil
import sys

import jax
from absl import app, flags, logging
from ml_collections import config_flags

from jaxsr.core import cli, config_base
from jaxsr.training import train

_CONFIG = config_flags.DEFINE_config_file('config', None, 'A configs/<method>.py file (`file.py:variant` too).',
                                          lock_config=True)
_WORKDIR = cli.define_path('workdir', None, 'Directory for checkpoints, TensorBoard logs and samples.')
_CACHE = cli.define_path('compilation_cache', '~/.cache/jaxsr/xla', "Compiled steps kept between starts (jax's "
                         'persistent compilation cache): a resumed or repeated run skips most compiling. "" turns it '
                         'off; $JAX_COMPILATION_CACHE_DIR, when set, comes first.')
flags.mark_flags_as_required(['config', 'workdir'])


def _initialize_distributed():
  """Joins a multi-process run when a launcher started one: launch/local.sh sets JAX_COORDINATOR_ADDRESS,
  JAX_NUM_PROCESSES and JAX_PROCESS_ID; under SLURM (srun) or Open MPI (mpirun) jax reads its own variables."""
  if 'JAX_COORDINATOR_ADDRESS' in os.environ:
    jax.distributed.initialize(num_processes=int(os.environ['JAX_NUM_PROCESSES']),
                               process_id=int(os.environ['JAX_PROCESS_ID']))
  elif int(os.environ.get('SLURM_NTASKS', 1)) > 1 or int(os.environ.get('OMPI_COMM_WORLD_SIZE', 1)) > 1:
    jax.distributed.initialize()


def _parse_flags(argv):
  """absl's flag parsing, with a misspelled `--config.a.b=` override named at its depth with the closest fields
  (ml_collections suggests names only for top-level fields)."""
  try:
    argv = config_base.config_argv(argv)
  except ValueError as error:
    sys.exit(f'FATAL Flags parsing error: {error}')
  try:
    return flags.FLAGS(argv)
  except Exception as error:
    files = [a.split('=', 1)[1] for a in argv[1:] if a.startswith('--config=')]
    if files:
      path, _, arg = files[-1].partition(':')
      config = config_base.load_file(path, arg)
      for override in (a[len('--config.'):].split('=', 1)[0] for a in argv[1:] if a.startswith('--config.')):
        if message := config_base.unknown_field(config, override):
          sys.exit(f'FATAL Flags parsing error: {message}')
    raise error


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  cli.setup_logging()
  cli.set_up_compilation(_CONFIG.value, _CACHE.value)
  _initialize_distributed()
  device = jax.devices()[0]
  logging.info('process %d of %d; %d local / %d global devices (%s: %s)', jax.process_index(), jax.process_count(),
               jax.local_device_count(), jax.device_count(), device.platform, device.device_kind)
  if device.platform == 'cpu' and shutil.which('nvidia-smi'):
    logging.warning('This machine has an NVIDIA GPU but jax runs on the CPU: install jax with CUDA, '
                    'pip install -e ".[cuda12]" (README, "On a GPU").')
  train.train_and_evaluate(_CONFIG.value, _WORKDIR.value)


def run():
  """The command: `python -m jaxsr.main`, or `jaxsr-train` once installed."""
  cli.run(main, flags_parser=_parse_flags)


if __name__ == '__main__':
  run()
