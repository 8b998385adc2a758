"""A trained run's super-resolving network as a small folder: what `jaxsr.upscale --run=` and `jaxsr.evaluate
--runs=` need, without orbax, optimizer states, discriminators or the files only training reads.

    python -m jaxsr.export --run=runs/srresnet --out=pretrained/srresnet_x4 --dtype=bfloat16

The folder (jaxsr.storage.exports) holds config.json, export.json and the network's variables in sha256-checked
shards of at most `--shard_mb`; jaxsr.using.inference.load reads it like a run directory. `--companions=d_lr`
stores further networks of the run beside it: a GAN's discriminator, so that `config.init_from=<export>`
continues the game, not only the generator.
"""
from pathlib import Path

from absl import flags, logging

from jaxsr.core import cli
from jaxsr.storage import exports
from jaxsr.using import inference


def export_run(run: str | Path, out: str | Path, step: int | None = None, dtype: str = 'float32',
               shard_mb: float = 16.0, network: str | None = None, companions: tuple[str, ...] = (),
               source: str | None = None) -> tuple[int, dict[str, str]]:
  """Exports network `network` (default: the run's super-resolver) of checkpoint `step` (default: the newest) of
  the run in `run` to the folder `out`, with `companions`; averaged weights where the run kept them. `source`: how
  export.json names the run (default: its path). Returns (step, {file name: sha256})."""
  step, state, method = inference.restore(run, step)
  network = network or method.export_network
  unknown = [n for n in (network, *companions) if n not in state.nets]
  if unknown:
    raise ValueError(f'--network/--companions: {run} has no network {unknown[0]!r} (it has {sorted(state.nets)})')
  files = exports.write(out, (Path(run) / 'config.json').read_text(), step, network,
                        state.nets[network].variables(), dtype, shard_mb, source=source or run,
                        companions={n: state.nets[n].variables() for n in companions})
  return step, files


def define_flags():
  cli.define_path('run', None, 'The run directory to export.', required=True)
  cli.define_path('out', None, 'The folder to create.', required=True)
  flags.DEFINE_integer('step', None, 'Checkpoint step (default: the newest).')
  flags.DEFINE_enum('dtype', 'float32', list(exports.DTYPES), 'Storage dtype of floating-point variables.')
  flags.DEFINE_float('shard_mb', 16.0, 'Largest weights file, MiB.')
  flags.DEFINE_string('network', None, "The network to serve (default: the run's super-resolver; h2l for an H2L "
                      'run).')
  flags.DEFINE_list('companions', [], 'Further networks to store beside it (e.g. d_lr), so that training started '
                    'from the export continues them.')


def main(argv):
  del argv
  cli.setup_logging()
  f = flags.FLAGS
  step, files = export_run(f.run, f.out, f.step, f.dtype, f.shard_mb, f.network, f.companions)
  logging.info('Wrote %s (%s, step %d): %s', f.out, f.dtype, step, ', '.join(files))


def run():
  """The command: `python -m jaxsr.export`, or `jaxsr-export` once installed."""
  define_flags()
  cli.run(main)


if __name__ == '__main__':
  run()
