"""A run's record of what it is: `config.json` (the config of its latest start) and `config_history.jsonl` (one
line per start: when, from which step, and which fields it changed). `read` gives a record upgraded to today's
fields (`upgrade`), so that no reader needs to know which fields came late.

The record is written only once a start is known to work (data found, checkpoint restored), so a failed resume
or a mistyped dataset leaves the run's record as it was: `jaxsr.upscale --run` reads `config.json`. It is
replaced atomically (a temporary file renamed over it), so a crash mid-write leaves the previous record.
"""
import json
import os
import stat
import time
from pathlib import Path

CONFIG = 'config.json'
HISTORY = 'config_history.jsonl'
# Fields every jaxsr config has (config_base.base_config): a config.json without them is another tool's.
_SIGNATURE = ('method', 'dataset', 'image_size', 'scale', 'num_steps', 'batch_size')
_MAX_BYTES = 2**20
# Fields added to the configs after runs were first recorded, with the value that reproduces how a run recorded
# without one trained: (where, name, value). Where: '' the top level; 'paired' the top level of a paired
# super-resolver's config (one with h2l_workdir); 'optimizer' and 'vgg' every sub-config of that name.
ADDED = (('', 'ema_decay', 0.0), ('', 'train_minutes', 0.0),
         ('paired', 'input_noise', 0.0), ('paired', 'conditional_discriminator', False), ('paired', 'jitter', ''),
         ('paired', 'jitter_px', 0), ('optimizer', 'clip_value', 0.0), ('vgg', 'pre_activation', False),
         ('', 'xla_fast_compile', False))


def flat(config, prefix=''):
  """{'generator.features': 64, ...}: every leaf of a config as config.json stores it, by its dotted name."""
  out = {}
  for key, value in config.items():
    if isinstance(value, dict):
      out.update(flat(value, f'{prefix}{key}.'))
    else:
      out[prefix + key] = value
  return out


def read(workdir):
  """The run's config as a plain dict, upgraded to today's fields, or None when the run has no record yet; a
  ValueError naming the file when the record is damaged or is not a jaxsr config."""
  path = Path(workdir) / CONFIG
  try:
    info = os.lstat(path)
  except FileNotFoundError:
    return None
  if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_BYTES:
    raise ValueError(f'{path}: not a jaxsr run record (not a regular file of at most 1 MiB)')
  try:
    record = json.loads(path.read_text())
  except (json.JSONDecodeError, UnicodeDecodeError) as error:
    raise ValueError(f'{path} is damaged ({error}); the configs of every start are in {path.parent / HISTORY} and '
                     f'the command that started the run: move the damaged file aside and run that command again '
                     f'(it rewrites the record and resumes from the checkpoints)') from None
  missing = [k for k in _SIGNATURE if not isinstance(record, dict) or k not in record]
  if missing:
    raise ValueError(f'{path} is not a jaxsr run record (it lacks {", ".join(missing)}); this folder belongs to '
                     f'another tool: choose another --workdir')
  return upgrade(record)


def upgrade(record):
  """`record` (a config.json's dict, changed in place and returned) with each field of ADDED it lacks."""
  def groups(node, name):
    for key, value in node.items():
      if isinstance(value, dict):
        if key == name:
          yield value
        yield from groups(value, name)

  for where, name, value in ADDED:
    if where == '':
      targets = [record]
    elif where == 'paired':
      targets = [record] if 'h2l_workdir' in record else []
    else:
      targets = list(groups(record, where))
    for target in targets:
      target.setdefault(name, value)
  return record


def differences(old, new):
  """{dotted field: [old value, new value]} of the fields that differ; a field only one side has shows None on
  the other."""
  a, b = flat(old or {}), flat(json.loads(new.to_json_best_effort()))
  return {k: [a.get(k), b.get(k)] for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)}


def describe(changes, limit=8):
  """'scale: 4 -> 2, generator.features: 64 -> 32' (at most `limit` fields, then how many more)."""
  shown = [f'{k}: {old!r} -> {new!r}' for k, (old, new) in list(changes.items())[:limit]]
  more = len(changes) - limit
  return ', '.join(shown) + (f' and {more} more' if more > 0 else '')


def write(workdir, config, step):
  """Records a start at `step`: appends to the history what changed since the previous start, then rewrites
  config.json."""
  workdir = Path(workdir)
  previous = read(workdir)
  changes = {} if previous is None else differences(previous, config)  # a first start changes nothing
  entry = {'time': time.strftime('%Y-%m-%dT%H:%M:%S%z'), 'start_step': step, 'changed': changes}
  with open(workdir / HISTORY, 'a') as f:
    f.write(json.dumps(entry) + '\n')
  atomic_write_text(workdir / CONFIG, config.to_json_best_effort(indent=2))
  return changes


def atomic_write_text(path, text):
  """Writes `path` through a temporary file renamed over it: readers see the old text or the new, never a part."""
  path = Path(path)
  temporary = path.with_name(f'.{path.name}.{os.getpid()}.tmp')
  try:
    temporary.write_text(text)
    os.replace(temporary, path)
  finally:
    temporary.unlink(missing_ok=True)
