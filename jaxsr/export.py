"""A trained run's super-resolving network as a small folder: what `jaxsr.upscale --run=` and `jaxsr.evaluate
--runs=` need, without orbax, optimizer states, discriminators or the files only training reads.

    python -m jaxsr.export --run=runs/srresnet --out=pretrained/srresnet_x4 --dtype=bfloat16

The folder holds `config.json` (the run's), `export.json` (the run, the step, the network, the dtype and the
sha256 of each weights file) and the network's variables in `variables-<i>-of-<n>.npz`, split so that no file
passes `--shard_mb` (16 by default: a full-width L2H is 31 MB in bfloat16). A folder, not one .npz, for that
split. jaxsr.inference.load reads it like a run directory; parameters are cast back to float32 when read.
"""
import hashlib
import json
from pathlib import Path

import jax
import numpy as np
from absl import app, flags, logging
from flax import traverse_util

from jaxsr import checkpointing, cli, npz

EXPORT = 'export.json'
DTYPES = ('float32', 'bfloat16')


def _to_storable(x, dtype):
  """bfloat16 is stored as its uint16 bit pattern: .npz has no bfloat16 type."""
  if dtype == 'bfloat16' and np.issubdtype(x.dtype, np.floating):
    return np.asarray(x.astype(jax.numpy.bfloat16)).view(np.uint16)
  return x


def _from_storable(x, dtype):
  if dtype == 'bfloat16' and x.dtype == np.uint16:
    return x.view(jax.numpy.bfloat16).astype(np.float32)
  return x.astype(np.float32) if np.issubdtype(x.dtype, np.floating) else x


def write(out, config_json, step, network, variables, dtype='float32', shard_mb=16.0, source=''):
  """Writes the export folder `out`: the run's config.json text, and `variables` ({'params': ..., 'batch_stats':
  ...}) of its network `network`."""
  if dtype not in DTYPES:
    raise ValueError(f'--dtype: unknown {dtype!r} (known: {", ".join(DTYPES)})')
  out = Path(out)
  if out.exists() and any(out.iterdir()):
    raise FileExistsError(f'--out: {out} exists and is not empty; choose another folder')
  flat = {k: _to_storable(np.asarray(v), dtype)
          for k, v in traverse_util.flatten_dict(jax.device_get(variables), sep='/').items()}
  shards, current, size = [], {}, 0
  for key in sorted(flat):
    if current and size + flat[key].nbytes > shard_mb * 2**20:
      shards.append(current)
      current, size = {}, 0
    current[key] = flat[key]
    size += flat[key].nbytes
  shards.append(current)
  out.mkdir(parents=True, exist_ok=True)
  files = {}
  for i, shard in enumerate(shards):
    name = f'variables-{i + 1}-of-{len(shards)}.npz'
    np.savez(out / name, **shard)
    files[name] = hashlib.sha256((out / name).read_bytes()).hexdigest()
  (out / 'config.json').write_text(config_json)
  (out / EXPORT).write_text(json.dumps({'source': str(source), 'step': int(step), 'network': network,
                                        'dtype': dtype, 'files': files}, indent=2))
  return files


def is_export(path):
  return (Path(path) / EXPORT).is_file()


def read_record(path):
  return json.loads((Path(path) / EXPORT).read_text())


def read(path):
  """(export record, variables as float32 numpy trees) of the export folder `path`; a file that does not match its
  recorded sha256 is refused (a damaged or replaced download)."""
  path = Path(path)
  record = read_record(path)
  flat = {}
  for name, sha256 in record['files'].items():
    if hashlib.sha256((path / name).read_bytes()).hexdigest() != sha256:
      raise ValueError(f'{path / name}: its sha256 is not the one {EXPORT} records; the file is damaged or replaced')
    flat.update({k: _from_storable(v, record['dtype']) for k, v in npz.read(path / name, '--run', 'export').items()})
  return record, traverse_util.unflatten_dict(flat, sep='/')


def load_network(path, name, expected, field):
  """(params, state) of network `name` from the export folder `path`, checked against `expected` ({'params',
  'state'}) as checkpointing.load_network checks a run's; errors name config.`field`."""
  record, variables = read(path)
  if record['network'] != name:
    raise ValueError(f"config.{field}: the export {path} holds network '{record['network']}', not '{name}'")
  params = variables.pop('params')
  return checkpointing.fitted({'params': params, 'state': variables}, expected, field, name, path)


def define_flags():
  cli.define_path('run', None, 'The run directory to export.', required=True)
  cli.define_path('out', None, 'The folder to create.', required=True)
  flags.DEFINE_integer('step', None, 'Checkpoint step (default: the newest).')
  flags.DEFINE_enum('dtype', 'float32', list(DTYPES), 'Storage dtype of floating-point variables.')
  flags.DEFINE_float('shard_mb', 16.0, 'Largest weights file, MiB.')


def main(argv):
  del argv
  cli.setup_logging()
  from jaxsr import inference
  model = inference.load(flags.FLAGS.run, flags.FLAGS.step)
  files = write(flags.FLAGS.out, (model.run / 'config.json').read_text(), model.step, model.network,
                model.variables(), flags.FLAGS.dtype, flags.FLAGS.shard_mb, source=model.run)
  logging.info('Wrote %s (%s, step %d): %s', flags.FLAGS.out, flags.FLAGS.dtype, model.step, ', '.join(files))


if __name__ == '__main__':
  define_flags()
  app.run(main)
