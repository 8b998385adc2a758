"""A trained run as a super-resolver: its config and a checkpoint (or a `jaxsr.export` folder), without the files
only training needs (VGG19 weights, the H2L run an L2H run trained against, the run it started from)."""
import dataclasses
import json
from pathlib import Path
from typing import Any

import jax
import ml_collections
import numpy as np

from jaxsr import checkpointing, export, methods, metrics, parallel, train

# Methods whose networks another method builds without the training-only inputs.
INFERENCE_METHOD = {'l2h': 'l2h_bicubic'}


@dataclasses.dataclass
class SuperResolver:
  """`upscale(lr[, reference])`: uint8 (N, h, w, 3) -> uint8 (N, h * scale, w * scale, 3), jitted."""
  run: Path
  config: ml_collections.ConfigDict
  step: int
  method: Any
  state: Any
  network: str  # the run's name of the super-resolving network ('generator', 'l2h' in the joint pipeline, 'vae')

  def __post_init__(self):
    self._upscale = jax.jit(lambda state, *x: metrics.quantize(self.method.upscale(state, *x)))

  @property
  def scale(self):
    return self.config.scale

  @property
  def needs_reference(self):
    return bool(getattr(self.method, 'reference', False))

  def _net(self):
    return self.state.nets['generator' if 'generator' in self.state.nets else 'vae']

  @property
  def parameters(self):
    return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(self._net().params))

  def variables(self):
    """The super-resolving network's variables: {'params': ..., 'batch_stats': ...}."""
    return {'params': self._net().params, **self._net().state}

  def upscale(self, lr, reference=None):
    if self.needs_reference and reference is None:
      raise ValueError(f'{self.run}: a {self.config.method} run needs a reference photo of the same person')
    inputs = [np.asarray(lr, np.float32) / 127.5 - 1.0]
    if self.needs_reference:
      inputs.append(np.asarray(reference, np.float32) / 127.5 - 1.0)
    return np.clip(np.round((np.asarray(self._upscale(self.state, *inputs)) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def load(run_dir, step=None):
  """The run in `run_dir` at checkpoint `step` (default: its newest), or a `jaxsr.export` folder, as a
  SuperResolver on one device."""
  run = Path(run_dir).expanduser().absolute()
  if not (run / 'config.json').is_file():
    raise FileNotFoundError(f'{run_dir}: not a jaxsr run directory or export (no config.json)')
  config = ml_collections.ConfigDict(json.loads((run / 'config.json').read_text()))
  config.method = INFERENCE_METHOD.get(config.method, config.method)
  for c in (config, config.get('l2h')):
    if c is not None and 'vgg' in c.get('loss', {}):
      c.loss.vgg = 0.0  # the perceptual loss's network is not needed to run the generator
  method = methods.create(config)
  if not hasattr(method, 'upscale') and not hasattr(method, 'l2h'):
    raise ValueError(f'{run_dir}: a {config.method} run does not super-resolve (it learns a degradation)')
  size, scale = config.image_size, config.scale
  batch = {'hr': np.zeros((1, size, size, 3), np.uint8), 'reference': np.zeros((1, size, size, 3), np.uint8),
           'lr': np.zeros((1, size // scale, size // scale, 3), np.uint8)}
  state = train.init_state(method, parallel.make_mesh(jax.devices()[:1]), config.seed, batch, pretrained=False)
  network = 'l2h' if hasattr(method, 'l2h') else ('generator' if 'generator' in state.nets else 'vae')
  if export.is_export(run):
    state, step = _from_export(run, state, network), export.read_record(run)['step']
  else:
    checkpoints = checkpointing.Checkpointer(run / 'checkpoints', config.keep_checkpoints)
    step = checkpoints.latest_step() if step is None else step
    if step is None:
      raise FileNotFoundError(f'{run_dir}: no checkpoint yet')
    state, _ = checkpoints.restore(step, state)
    checkpoints.close()
  if hasattr(method, 'l2h'):  # the joint pipeline: its L2H half super-resolves
    method, state = method.l2h, state.replace(nets={'generator': state.nets['l2h']})
  return SuperResolver(run, config, int(step), method, state, network)


def _from_export(folder, state, network):
  """`state` with network `network` replaced by the exported variables, which must have its shapes."""
  record, variables = export.read(folder)
  if record['network'] != network:
    raise ValueError(f"{folder}: holds network '{record['network']}', this config's super-resolver is '{network}'")
  net = state.nets[network]
  expected = {'params': net.params, **net.state}
  shapes = lambda tree: {jax.tree_util.keystr(p): np.shape(v) for p, v in  # noqa: E731
                         jax.tree_util.tree_leaves_with_path(tree)}
  if shapes(variables) != shapes(expected):
    differ = sorted(set(shapes(variables).items()) ^ set(shapes(expected).items()))[:4]
    raise ValueError(f'{folder}: the exported variables do not fit its config.json: {differ}')
  variables = jax.tree.map(lambda v, like: np.asarray(v, like.dtype), variables, expected)
  params = variables.pop('params')
  return state.replace(nets={**state.nets, network: net.replace(params=params, state=variables)})
