"""The methods: `config.method` names one. Each recipe module of this package lists its methods in a `METHODS`
dict ({name: Method subclass}), so a new module registers itself and nothing else changes. A method of another
installed package registers under the entry-point group `jaxsr.methods` (its pyproject.toml:
`[project.entry-points."jaxsr.methods"] my_method = "my_pkg.module:MyMethod"`); only installed code is ever
imported, so a run record naming a method cannot make jaxsr import a module of its choosing."""
import importlib
import importlib.metadata
import pkgutil

from absl import logging

GROUP = 'jaxsr.methods'


def registry():
  """{name: Method subclass, or the EntryPoint of another package's method (loaded when created)}."""
  found = {}
  for info in pkgutil.iter_modules(__path__):
    found.update(getattr(importlib.import_module(f'{__name__}.{info.name}'), 'METHODS', {}))
  for entry in importlib.metadata.entry_points(group=GROUP):
    if entry.name in found:
      logging.warning("Entry point %s of group %s is named like a jaxsr method; jaxsr's is used", entry.value, GROUP)
      continue
    found[entry.name] = entry
  return found


def create(config):
  known = registry()
  if config.method not in known:
    raise ValueError(f"config.method: unknown method '{config.method}'; known: {', '.join(sorted(known))} (a method "
                     f"of your own package registers under the entry-point group '{GROUP}')")
  method = known[config.method]
  if isinstance(method, importlib.metadata.EntryPoint):
    from jaxsr.methods import base
    try:
      method = method.load()
    except (ImportError, AttributeError) as error:
      raise ValueError(f"config.method: '{config.method}' is registered as {method.value}, which does not load "
                       f'({type(error).__name__}: {error})') from None
    if not (isinstance(method, type) and issubclass(method, base.Method)):
      raise ValueError(f"config.method: '{config.method}' names {method!r}, not a jaxsr.methods.base.Method subclass")
  return method(config)
