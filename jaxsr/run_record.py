"""A run's record of what it is: `config.json` (the config of its latest start) and `config_history.jsonl` (one
line per start: when, from which step, and which fields it changed).

The record is written only once a start is known to work (data found, checkpoint restored), so a failed resume
or a mistyped dataset leaves the run's record as it was: `jaxsr.upscale --run` reads `config.json`.
"""
import json
import time
from pathlib import Path

CONFIG = 'config.json'
HISTORY = 'config_history.jsonl'


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
  """The run's config as a plain dict, or None when the run has no record yet."""
  path = Path(workdir) / CONFIG
  return json.loads(path.read_text()) if path.is_file() else None


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
  (workdir / CONFIG).write_text(config.to_json_best_effort(indent=2))
  return changes
