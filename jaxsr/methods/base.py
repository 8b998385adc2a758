"""What a method is, for the training loop: networks, one train step, evaluation outputs, its data.

A `Network` bundles one Flax module's parameters, its non-trainable collections (BatchNorm running statistics,
spectral-norm vectors: both live in `batch_stats`) and its optax state. A `TrainState` holds every network of a
method plus the step and the run's base rng, so a GAN, a two-GAN pipeline or a VAE is one pytree to jit,
shard, donate and checkpoint.
"""
import abc
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct


class Network(struct.PyTreeNode):
  params: Any
  state: Any  # non-trainable collections, e.g. {'batch_stats': ...}; {} when there are none
  opt_state: Any
  module: nn.Module = struct.field(pytree_node=False)
  tx: optax.GradientTransformation = struct.field(pytree_node=False)

  @classmethod
  def create(cls, module, tx, rng, *inputs):
    variables = dict(module.init(rng, *inputs, train=False))
    params = variables.pop('params')
    return cls(params=params, state=variables, opt_state=tx.init(params), module=module, tx=tx)

  def __call__(self, *inputs, train, params=None, state=None):
    """Runs the network. With train=True returns (output, updated state) and uses batch statistics."""
    variables = {'params': self.params if params is None else params, **(self.state if state is None else state)}
    if not train:
      return self.module.apply(variables, *inputs, train=False)
    if not self.state:
      return self.module.apply(variables, *inputs, train=True), {}
    return self.module.apply(variables, *inputs, train=True, mutable=list(self.state))

  def update(self, grads, state):
    """One optimizer step with `grads`; `state` replaces the non-trainable collections."""
    updates, opt_state = self.tx.update(grads, self.opt_state, self.params)
    return self.replace(params=optax.apply_updates(self.params, updates), state=state, opt_state=opt_state)


class TrainState(struct.PyTreeNode):
  step: jax.Array
  rng: jax.Array  # the run's base key; step s uses fold_in(rng, s), so a resumed run draws the same noise
  nets: dict[str, Network]
  # Parameters used but never trained (VGG19 for a perceptual loss, a trained H2L): loaded from their files by
  # Method.load_pretrained, not checkpointed.
  frozen: dict[str, Any] = struct.field(default_factory=dict)


class Method(abc.ABC):
  """Subclasses name their networks, build them, and update all of them in one `train_step`."""

  eval_columns: tuple[str, ...] = ()  # the image grid's columns, left to right (jit returns dicts key-sorted)

  def __init__(self, config):
    self.config = config
    # Computation dtype for every module; parameters and optimizer states stay float32.
    self.dtype = jnp.bfloat16 if config.precision == 'bfloat16' else jnp.float32

  @abc.abstractmethod
  def train_data(self, data_dir):
    """An endless grain MapDataset of examples (dicts of uint8 arrays) in a deterministic order."""

  @abc.abstractmethod
  def eval_data(self, data_dir):
    """A fixed batch (dict of numpy arrays) to evaluate on."""

  @abc.abstractmethod
  def init_networks(self, rng, batch) -> dict[str, Network]:
    """Every network of the method, initialised for inputs shaped like `batch`."""

  def load_pretrained(self, state: TrainState) -> TrainState:
    """Fills in what comes from files, on the host, after initialisation and before any resume: frozen networks
    and weights to start from. Most methods have none."""
    return state

  @abc.abstractmethod
  def train_step(self, state: TrainState, batch, rng) -> tuple[TrainState, dict]:
    """Updates every network once; returns the new state and scalar metrics (losses first)."""

  @abc.abstractmethod
  def evaluate(self, state: TrainState, batch, rng) -> tuple[dict, dict]:
    """Returns (images: each of `eval_columns` -> (N, h, w, 3) in [-1, 1]; scalar metrics)."""


def prefixed(prefix, metrics):
  """{'loss': x} -> {'<prefix>/loss': x}: every metric is named after its network."""
  return {f'{prefix}/{k}': v for k, v in metrics.items()}
