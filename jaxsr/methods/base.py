"""What a method is, for the training loop and for the code that uses a trained run: networks, one train
step, evaluation outputs, its data, and which network super-resolves.

A method's networks are built from its config alone: nothing is read from files in a constructor. What comes
from files (VGG19 weights, a trained H2L, a run to start from) is named in the config and loaded at start-up by
the training runtime (training.resources) into `TrainState.frozen`.
"""
import abc
from typing import Any

import grain
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxsr.core import config_base, init_rng, parallel
from jaxsr.core.train_state import Network, TrainState


class Method(abc.ABC):
  """Subclasses name their networks, build them, and update all of them in one `train_step`."""

  eval_columns: tuple[str, ...] = ()  # the image grid's columns, left to right (jit returns dicts key-sorted)
  # The network `upscale` runs, as named in TrainState.nets; None for a method that does not super-resolve (H2L).
  sr_network: str | None = None
  needs_reference = False  # upscale takes a photo of the same person besides the LR face (RefSR-VAE)
  # upscale takes LR faces of any size (a face in a photo is then super-resolved at its own size), where others
  # take image_size / scale only
  fully_convolutional = False

  @property
  def export_network(self) -> str | None:
    """The network `jaxsr.export` writes by default: the super-resolver, or what the method is trained for."""
    return self.sr_network

  def __init__(self, config: ml_collections.ConfigDict):
    self.config = config
    # Computation dtype for every module; parameters and optimizer states stay float32.
    self.dtype = jnp.bfloat16 if config.precision == 'bfloat16' else jnp.float32

  def example(self) -> dict[str, jax.ShapeDtypeStruct]:
    """One training example's features as `train_data` gives them (shapes and dtypes, no batch axis): what the
    loop checks a dataset against at start-up, and what a run's networks are built for without its data."""
    c = self.config
    return {'hr': face(c.image_size), 'lr': face(c.image_size // c.scale)}

  def network(self, module: type, fields: ml_collections.ConfigDict, **fixed) -> Any:
    """`module` built by keyword from its config sub-dict `fields` (config_base.network_kwargs) and the `fixed`
    arguments the method sets itself, in the method's dtype."""
    return module(dtype=self.dtype, **fixed, **config_base.network_kwargs(fields))

  def frozen_networks(self) -> tuple[str, ...]:
    """The trained networks the step reads from files (TrainState.frozen), which training.resources loads at
    start-up from the files the config names: 'vgg' (a perceptual term), 'h2l' (LR made by a trained H2L)."""
    return ('vgg',) if config_base.uses_vgg(self.config) else ()

  @abc.abstractmethod
  def train_data(self, data_dir: str | None) -> grain.MapDataset:
    """An endless grain MapDataset of examples (dicts of uint8 arrays) in a deterministic order."""

  @abc.abstractmethod
  def eval_data(self, data_dir: str | None) -> dict[str, np.ndarray]:
    """A fixed batch (dict of numpy arrays) to evaluate on."""

  @abc.abstractmethod
  def init_networks(self, rng: jax.Array, batch: dict[str, Any]) -> dict[str, Network]:
    """Every network of the method, initialised for inputs shaped like `batch`."""

  @abc.abstractmethod
  def train_step(self, state: TrainState, batch: dict[str, jax.Array], rng: jax.Array) -> tuple[TrainState, dict]:
    """Updates every network once; returns the new state and scalar metrics (losses first)."""

  @abc.abstractmethod
  def evaluate(self, state: TrainState, batch: dict[str, jax.Array], rng: jax.Array) -> tuple[dict, dict]:
    """Returns (images: each of `eval_columns` -> (N, h, w, 3) in [-1, 1]; scalar metrics)."""

  def upscale(self, state: TrainState, lr: jax.Array, reference: jax.Array | None = None) -> jax.Array:
    """LR faces (and, when `needs_reference`, a photo of the same person) in [-1, 1] -> SR faces in [-1, 1], in
    inference mode. Methods with an `sr_network` define it."""
    raise ValueError(f'a {self.config.method} run does not super-resolve')


def evaluator(method: Method):
  """`method.evaluate` jitted on the weights a run serves (its moving average where it keeps one): what the loop
  logs every eval_every steps and what `evaluate_set` averages."""
  return jax.jit(lambda state, batch, rng: method.evaluate(state.averaged(), batch, rng))


def evaluate_set(method: Method, state: TrainState, examples: dict[str, np.ndarray], batch_size: int = 50,
                 rng: jax.Array | None = None) -> tuple[dict[str, float], dict[str, np.ndarray]]:
  """(the evaluation scalars' means over `examples`, taken `batch_size` at a time; the first batch's images)."""
  evaluate, rng = evaluator(method), jax.random.PRNGKey(0) if rng is None else rng
  count = len(next(iter(examples.values())))
  sums, first = {}, None
  for start in range(0, count, batch_size):
    chunk = {k: v[start:start + batch_size] for k, v in examples.items()}
    outputs, scalars = jax.device_get(evaluate(state, chunk, rng))
    first = outputs if first is None else first
    for k, v in scalars.items():
      sums[k] = sums.get(k, 0.0) + float(v) * len(next(iter(chunk.values())))
  return {k: v / count for k, v in sums.items()}, first


def face(side: int) -> jax.ShapeDtypeStruct:
  """An RGB face of side x side pixels as datasets hold it."""
  return jax.ShapeDtypeStruct((side, side, 3), jnp.uint8)


def placeholder_batch(method: Method, n: int = 1) -> dict[str, np.ndarray]:
  """`n` examples of zeros shaped as `method.example()`: what networks are built from when only shapes matter."""
  return {k: np.zeros((n, *x.shape), x.dtype) for k, x in method.example().items()}


def initial_state(method: Method, mesh: jax.sharding.Mesh, seed: int, batch: dict[str, Any]) -> TrainState:
  """Every network of `method`, initialised for `batch` directly into the replicated sharding of `mesh`: the
  networks from a counter-based hash generator keyed by the run's key (core.init_rng says why), training's rng
  from threefry."""
  def init(rng, batch):
    init_key, train_rng = jax.random.split(rng)
    return TrainState(step=np.int32(0), rng=train_rng, nets=method.init_networks(init_rng.key(init_key), batch))

  return jax.jit(init, out_shardings=parallel.replicated(mesh))(jax.random.PRNGKey(seed), batch)


def prefixed(prefix, metrics):
  """{'loss': x} -> {'<prefix>/loss': x}: every metric is named after its network."""
  return {f'{prefix}/{k}': v for k, v in metrics.items()}
