"""A trained run as a super-resolver: its config and a checkpoint (or a `jaxsr.export` folder), without the files
only training needs (VGG19 weights, the H2L run that made its LR inputs, the run it started from).

Every method says which of its networks super-resolves (`Method.sr_network`) and how (`Method.upscale`); nothing
here knows one method from another. A run that kept a moving average of its generator (config.ema_decay) is used
with the average.
"""
import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxsr import methods
from jaxsr.core import config_base, metrics, parallel
from jaxsr.core.train_state import TrainState
from jaxsr.methods import base
from jaxsr.storage import checkpointing, exports, run_record


@dataclasses.dataclass(repr=False)
class SuperResolver:
  """`model(lr[, reference])`: one face (h, w, 3) or a batch (N, h, w, 3), uint8 in [0, 255] or float in [0, 1]
  (the dtype decides), -> the same kind at scale x the size; `upscale(lr[, reference])`: uint8 batches only."""
  run: Path
  config: ml_collections.ConfigDict
  step: int
  method: base.Method
  state: TrainState  # the run's TrainState, averaged weights in place of the trained ones where it kept them

  def __post_init__(self):
    self._upscale = jax.jit(lambda state, *x: metrics.quantize(self.method.upscale(state, *x)))
    self._upscale_float = jax.jit(lambda state, *x: jnp.clip((self.method.upscale(state, *x) + 1.0) / 2.0, 0, 1))

  def __repr__(self):
    side = self.config.image_size // self.scale
    return (f'SuperResolver({self.config.method} x{self.scale}, {side} -> {self.config.image_size} px faces, step '
            f'{self.step}, {self.parameters / 1e6:.2f} M parameters, from {self.run})')

  def __call__(self, lr: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    lr = np.asarray(lr)
    if lr.ndim not in (3, 4) or lr.shape[-1] != 3:
      raise ValueError(f'expected RGB faces (h, w, 3) or (N, h, w, 3), got shape {lr.shape}')
    single = lr.ndim == 3
    batch = lambda x: None if x is None else (np.asarray(x)[None] if single else np.asarray(x))  # noqa: E731
    if lr.dtype == np.uint8:
      out = self.upscale(batch(lr), batch(reference))
    elif np.issubdtype(lr.dtype, np.floating):
      if self.needs_reference and reference is None:
        raise ValueError(f'{self.run}: a {self.config.method} run needs a reference photo of the same person')
      inputs = [batch(x).astype(np.float32) * 2.0 - 1.0 for x in (lr, reference) if x is not None]
      out = np.asarray(self._upscale_float(self.state, *inputs))
    else:
      raise TypeError(f'faces must be uint8 in [0, 255] or float in [0, 1], got {lr.dtype}')
    return out[0] if single else out

  @property
  def scale(self) -> int:
    return self.config.scale

  @property
  def network(self) -> str:
    """The run's name of the super-resolving network ('generator'; 'l2h' in the joint pipeline; 'vae')."""
    return self.method.sr_network

  @property
  def fully_convolutional(self) -> bool:
    """Whether faces of any size may go in (else image_size / scale px only)."""
    return self.method.fully_convolutional

  @property
  def needs_reference(self) -> bool:
    return self.method.needs_reference

  @property
  def parameters(self) -> int:
    return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(self.state.nets[self.network].params))

  def variables(self) -> dict:
    """The super-resolving network's variables: {'params': ..., 'batch_stats': ...}."""
    return self.state.nets[self.network].variables()

  def upscale(self, lr: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    if self.needs_reference and reference is None:
      raise ValueError(f'{self.run}: a {self.config.method} run needs a reference photo of the same person')
    inputs = [np.asarray(lr, np.float32) / 127.5 - 1.0]
    if self.needs_reference:
      inputs.append(np.asarray(reference, np.float32) / 127.5 - 1.0)
    return np.clip(np.round((np.asarray(self._upscale(self.state, *inputs)) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def load(run_dir: str | Path, step: int | None = None) -> SuperResolver:
  """The run in `run_dir` at checkpoint `step` (default: its newest), or a `jaxsr.export` folder, as a
  SuperResolver on one device."""
  run, config, method = _read_config(run_dir)
  if method.sr_network is None:
    raise ValueError(f'{run_dir}: a {config.method} run does not super-resolve')
  if exports.is_export(run):
    exported = exports.read_record(run)['step']
    if step is not None and step != exported:
      raise ValueError(f'--step={step}: {run_dir} is an export of step {exported} only; drop --step')
    state = _from_export(run, state_shapes(method, config), method.sr_network)
    return SuperResolver(run, config, exported, method, state)
  step, state = _restore(run, config, method, step)
  return SuperResolver(run, config, step, method, state)


def placeholder_state(method: base.Method, config: ml_collections.ConfigDict) -> TrainState:
  """`config`'s networks freshly initialised on one device for a placeholder example (zeros shaped as its faces),
  with nothing read from files: what imported weights are put into before they are saved as a run."""
  return base.initial_state(method, parallel.make_mesh(jax.devices()[:1]), config.seed, base.placeholder_batch(method))


def state_shapes(method: base.Method, config: ml_collections.ConfigDict) -> TrainState:
  """placeholder_state's shapes and dtypes on one device, nothing computed or compiled (jax.eval_shape): the
  structure a checkpoint or an export is read into."""
  one = jax.sharding.SingleDeviceSharding(jax.devices()[0])
  shapes = jax.eval_shape(lambda: base.initial_state(method, parallel.make_mesh(jax.devices()[:1]), config.seed,
                                                     base.placeholder_batch(method)))
  return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=one), shapes)


def restore(run_dir: str | Path, step: int | None = None) -> tuple[int, TrainState, base.Method]:
  """(step, TrainState with every network's averaged weights, method) of checkpoint `step` (default: the newest)
  of the run in `run_dir`, on one device: what an export is written from."""
  run, config, method = _read_config(run_dir)
  return (*_restore(run, config, method, step), method)


def _restore(run, config, method, step):
  """(step, averaged TrainState) of the checked run record `config` of the run in `run`."""
  if not (run / 'checkpoints').is_dir():
    raise FileNotFoundError(f'{run}: no checkpoint yet')
  state = state_shapes(method, config)
  checkpoints = checkpointing.Checkpointer(run / 'checkpoints', config.keep_checkpoints)
  try:
    step, state = checkpoints.restore_for_reading(state, step)
  finally:
    checkpoints.close()
  return int(step), state.averaged()


def _read_config(run_dir):
  """(absolute path, config, method) of the run or export in `run_dir`, its config checked."""
  run = Path(run_dir).expanduser().absolute()
  record = run_record.read(run)  # a damaged or foreign record is named here
  if record is None:
    raise FileNotFoundError(f'{run_dir}: not a jaxsr run directory or export (no config.json)')
  config = ml_collections.ConfigDict(record)
  try:
    config_base.validate(config, 1)  # sizes checked before any network is built
  except ValueError as error:
    raise ValueError(f'{run / run_record.CONFIG}: {error}') from None
  return run, config, methods.create(config)


def _from_export(folder, shapes, network):
  """A TrainState of the network `network` alone, its variables read from the export (they must have the shapes
  `shapes` gives it); no optimizer state."""
  record = exports.read_record(folder)
  if record['network'] != network:
    raise ValueError(f"{folder}: holds network '{record['network']}', this config's super-resolver is '{network}'")
  net = shapes.nets[network]
  expected = net.variables()
  try:
    _, variables = exports.read(folder, expected)
  except ValueError as error:
    raise ValueError(f'{error} (the export does not fit its config.json)') from None
  variables = jax.tree.map(lambda v, like: np.asarray(v, like.dtype), variables, expected)
  params = variables.pop('params')
  served = net.replace(params=params, state=variables, opt_state=None, ema=None)
  return TrainState(step=np.int32(0), rng=np.zeros(2, np.uint32), nets={network: served})
