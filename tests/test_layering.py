"""The package's folders are its layers: each imports only from the layers below it and from itself, and no
modules import each other in a circle. Every import counts, those inside functions too (a lazy import is still a
dependency).

    4  jaxsr/*.py                               commands (python -m jaxsr.<name>), each also a library for benchmarks
    3  training/  using/  evaluation/           the training runtime; loading a run for use; scores needing models
    2  methods/                                 what a method trains and how it super-resolves
    1  data/  models/  storage/                 datasets; Flax networks; runs, checkpoints and exports on disk
    0  core/                                    images, metrics, losses, optimizers, configs, meshes, file readers
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'jaxsr'
LAYERS = {'core': 0, 'data': 1, 'models': 1, 'storage': 1, 'methods': 2, 'training': 3, 'using': 3,
          'evaluation': 3}
COMMAND_LAYER = 4


def module_name(path):
  parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
  return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob('*.py')}


def imports(path):
  """The jaxsr modules (or packages) `path` imports, anywhere in it."""
  found = set()
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.ImportFrom) and node.module and node.module.split('.')[0] == 'jaxsr':
      for alias in node.names:
        child = f'{node.module}.{alias.name}'
        found.add(child if child in MODULES else node.module)
    elif isinstance(node, ast.Import):
      found.update(a.name for a in node.names if a.name.split('.')[0] == 'jaxsr')
  return found


def unit(module):
  """(layer, the folder or command the module belongs to)."""
  parts = module.split('.')
  if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS):
    return LAYERS[parts[1]], parts[1]
  return COMMAND_LAYER, module


GRAPH = {name: imports(path) for name, path in MODULES.items()}


def test_every_folder_has_a_layer_and_every_top_level_module_is_a_command():
  folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / '__init__.py').is_file()}
  assert folders == set(LAYERS), 'a new folder needs its place in LAYERS (and in the docstring above)'
  for path in PACKAGE.glob('*.py'):
    if path.name != '__init__.py':
      assert "if __name__ == '__main__':" in path.read_text(), f'{path.name}: jaxsr/*.py are commands only'


@pytest.mark.parametrize('module', sorted(MODULES))
def test_imports_go_down_the_layers(module):
  layer, own = unit(module)
  upward = [(target, unit(target)) for target in sorted(GRAPH[module])
            if unit(target)[1] != own and unit(target)[0] >= layer]
  assert not upward, f'{module} (layer {layer}) imports ' + ', '.join(
      f'{t} (layer {lay}{", the same" if lay == layer else ""})' for t, (lay, _) in upward)


def test_no_circles():
  """Depth-first search for a module that reaches itself."""
  state, circles = {}, []

  def visit(module, path):
    state[module] = 'open'
    for target in sorted(t for t in GRAPH.get(module, ()) if t in GRAPH and t != module.rpartition('.')[0]):
      if state.get(target) == 'open':
        circles.append(' -> '.join([*path[path.index(target):], target]))
      elif target not in state:
        visit(target, [*path, target])
    state[module] = 'done'

  for module in sorted(GRAPH):
    if module not in state:
      visit(module, [module])
  assert not circles, circles


def test_the_layering_check_sees_an_upward_import(tmp_path):
  """The checker itself: a models/ module importing methods/ is upward, one importing core/ is not."""
  path = tmp_path / 'x.py'
  path.write_text('def f():\n  from jaxsr.methods import h2l\n  from jaxsr.core import images\n')
  found = imports(path)
  assert found == {'jaxsr.methods.h2l', 'jaxsr.core.images'}
  assert [unit(t)[0] >= unit('jaxsr.models.x')[0] for t in sorted(found)] == [False, True]
