"""The export folder: a trained network's variables in sha256-checked .npz shards beside the run's config.json.

The folder holds `config.json` (the run's), `export.json` (the run, the step, the network, the dtype and the
sha256 of each weights file) and the network's variables in `variables-<i>-of-<n>.npz`, split so that no file
passes `shard_mb` (16 by default: a full-width L2H is 31 MB in bfloat16). A folder, not one .npz, for that split.
Parameters are cast back to float32 when read. Companions are further networks of the run stored beside it, each
in its own files (export.json lists them under `companions`): a GAN's discriminator, so that a run started from the
export continues the game, not only the generator. `python -m jaxsr.export` writes one from a run.
"""
import hashlib
import json
import re
from pathlib import Path

import jax
import numpy as np
from flax import traverse_util

from jaxsr.core import npz
from jaxsr.storage import checkpointing

EXPORT = 'export.json'
DTYPES = ('float32', 'bfloat16')
SHARD = re.compile(r'variables-[1-9][0-9]{0,3}-of-[1-9][0-9]{0,3}\.npz')  # a plain name: no folder, no '..'


def _to_storable(x, dtype):
  """bfloat16 is stored as its uint16 bit pattern: .npz has no bfloat16 type."""
  if dtype == 'bfloat16' and np.issubdtype(x.dtype, np.floating):
    return np.asarray(x.astype(jax.numpy.bfloat16)).view(np.uint16)
  return x


def _from_storable(x, dtype):
  if dtype == 'bfloat16' and x.dtype == np.uint16:
    return x.view(jax.numpy.bfloat16).astype(np.float32)
  return x.astype(np.float32) if np.issubdtype(x.dtype, np.floating) else x


def write(out, config_json, step, network, variables, dtype='float32', shard_mb=16.0, source='', companions=None):
  """Writes the export folder `out`: the run's config.json text, and `variables` ({'params': ..., 'batch_stats':
  ...}) of its network `network`; `companions` ({name: variables}), further networks, each in files of its own.
  Returns {file name: sha256}."""
  if dtype not in DTYPES:
    raise ValueError(f'--dtype: unknown {dtype!r} (known: {", ".join(DTYPES)})')
  out = Path(out)
  if out.exists() and not out.is_dir():
    raise FileExistsError(f'--out: {out} is a file; name a folder to create')
  if out.exists() and any(out.iterdir()):
    raise FileExistsError(f'--out: {out} exists and is not empty; choose another folder')
  shards = [(name, shard) for name, tree in {network: variables, **(companions or {})}.items()
            for shard in _shards(tree, dtype, shard_mb)]
  out.mkdir(parents=True, exist_ok=True)
  files, owned = {}, {}
  for i, (name, shard) in enumerate(shards):
    file = f'variables-{i + 1}-of-{len(shards)}.npz'
    np.savez(out / file, **shard)
    files[file] = _sha256(out / file)
    owned.setdefault(name, []).append(file)
  (out / 'config.json').write_text(config_json)
  record = {'source': str(source), 'step': int(step), 'network': network, 'dtype': dtype, 'files': files}
  if companions:
    record['companions'] = {name: owned[name] for name in companions}
  (out / EXPORT).write_text(json.dumps(record, indent=2))
  return files


def _shards(variables, dtype, shard_mb):
  """The flattened `variables` in dicts of at most `shard_mb` MiB (one array alone may pass it)."""
  flat = {k: _to_storable(np.asarray(v), dtype)
          for k, v in traverse_util.flatten_dict(jax.device_get(variables), sep='/').items()}
  shards, current, size = [], {}, 0
  for key in sorted(flat):
    if current and size + flat[key].nbytes > shard_mb * 2**20:
      shards.append(current)
      current, size = {}, 0
    current[key] = flat[key]
    size += flat[key].nbytes
  return [*shards, current]


def is_export(path: str | Path) -> bool:
  return (Path(path) / EXPORT).is_file()


def read_record(path: str | Path) -> dict:
  """export.json of the folder `path`, checked: its weights files are plain shard names in the folder."""
  path = Path(path)
  try:
    record = json.loads(npz.regular_file(path / EXPORT, '--run', 2**20, links=False).read_text())
    files, dtype = record['files'], record['dtype']
    record['step'], record['network'] = int(record['step']), str(record['network'])
  except (ValueError, KeyError, TypeError) as error:
    raise ValueError(f'{path / EXPORT}: not a jaxsr export record ({type(error).__name__}: {error})') from None
  if dtype not in DTYPES:
    raise ValueError(f'{path / EXPORT}: unknown dtype {dtype!r} (known: {", ".join(DTYPES)})')
  bad = [name for name in files if not isinstance(name, str) or not SHARD.fullmatch(name)]
  if not isinstance(files, dict) or not files or bad:
    raise ValueError(f'{path / EXPORT}: weights files must be named variables-<i>-of-<n>.npz inside the folder, '
                     f'got {bad[:3] or files!r}; the record was edited or is not a jaxsr export')
  companions = record.setdefault('companions', {})
  if not isinstance(companions, dict) or any(
      not isinstance(v, list) or not v or any(f not in files for f in v) for v in companions.values()):
    raise ValueError(f'{path / EXPORT}: companions must map each network to weights files the record lists')
  return record


def networks(record: dict) -> list[str]:
  """The networks an export holds: the one it serves, then its companions."""
  return [record['network'], *record['companions']]


def _files_of(record, network):
  """The weights files of `network`: a companion's own, or for the served network every file no companion has."""
  if network in record['companions']:
    return record['companions'][network]
  taken = {f for files in record['companions'].values() for f in files}
  return [f for f in record['files'] if f not in taken]


def read(path: str | Path, expected: dict, network: str | None = None) -> tuple[dict, dict]:
  """(export record, variables as float32 numpy trees) of `network` (default: the one it serves) in the export
  folder `path`. `expected` (a tree of arrays or shape structs, {'params': ..., 'batch_stats': ...}) is what its
  files must hold: every file is checked against its recorded sha256 (a damaged or replaced download is refused),
  and every array name and shape against `expected` before any weights are read, so that a crafted file cannot
  make jaxsr read more than the network."""
  path = Path(path)
  record = read_record(path)
  shapes = {k: np.shape(v) for k, v in traverse_util.flatten_dict(expected, sep='/').items()}
  limit = npz.nbytes(shapes, itemsize=8)
  flat = {}
  for name in _files_of(record, network or record['network']):
    sha256 = record['files'][name]
    file = npz.regular_file(path / name, '--run', limit, links=False)  # a link could lead out of the folder
    if _sha256(file) != sha256:
      raise ValueError(f'{file}: its sha256 is not the one {EXPORT} records; the file is damaged or replaced')
    arrays = npz.read(file, '--run', 'export', shapes=shapes, part=True)
    flat.update({k: _from_storable(v, record['dtype']) for k, v in arrays.items()})
  if missing := sorted(set(shapes) - set(flat)):
    more = ' and more' if len(missing) > 3 else ''
    raise ValueError(f'{path}: the export lacks {missing[:3]}{more}; its config.json builds a network with them')
  return record, traverse_util.unflatten_dict(flat, sep='/')


def _sha256(path):
  digest = hashlib.sha256()
  with open(path, 'rb') as f:
    while chunk := f.read(2**20):
      digest.update(chunk)
  return digest.hexdigest()


def load_network(path: str | Path, name: str, expected: dict, field: str) -> tuple[dict, dict]:
  """(params, state) of network `name` from the export folder `path`, checked against `expected` ({'params',
  'state'}) as checkpointing.load_network checks a run's; errors name config.`field`."""
  record = read_record(path)
  if name not in networks(record):
    raise ValueError(f"config.{field}: the export {path} holds network '{record['network']}'"
                     f"{''.join(f', {c}' for c in record['companions'])}, not '{name}'")
  _, variables = read(path, {'params': expected['params'], **expected['state']}, name)
  params = variables.pop('params')
  return checkpointing.fitted({'params': params, 'state': variables}, expected, field, name, path)
