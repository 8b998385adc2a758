"""The methods: `config.method` names one. Each recipe module of this package lists its methods in a `METHODS`
dict ({name: Method subclass}), so a new module registers itself and nothing else changes."""
import importlib
import pkgutil


def registry():
  """{name: Method subclass} of every module of this package."""
  found = {}
  for info in pkgutil.iter_modules(__path__):
    found.update(getattr(importlib.import_module(f'{__name__}.{info.name}'), 'METHODS', {}))
  return found


def create(config):
  known = registry()
  if config.method not in known:
    raise ValueError(f"config.method: unknown method '{config.method}'; known: {', '.join(sorted(known))}")
  return known[config.method](config)
