"""The state a run trains: its networks (with optimizer states and, when on, a moving average of the generator's
weights), the step and the base rng, as one pytree to jit, shard, donate and checkpoint; and the networks it only
reads (VGG19 for a perceptual loss, a trained H2L that makes LR inputs).

A `Network` bundles one Flax module's parameters, its non-trainable collections (BatchNorm running statistics,
spectral-norm vectors: both live in `batch_stats`) and its optax state.
"""
from typing import Any

import flax.linen as nn
import jax
import optax
from flax import struct


class Network(struct.PyTreeNode):
  params: Any
  state: Any  # non-trainable collections, e.g. {'batch_stats': ...}; {} when there are none
  opt_state: Any
  module: nn.Module = struct.field(pytree_node=False)
  tx: optax.GradientTransformation = struct.field(pytree_node=False)
  # An exponential moving average of `params` (Polyak averaging; Karras et al., ICLR 2018, keep one for their
  # generators): ema <- decay * ema + (1 - decay) * params after every update. None when off.
  ema: Any = None
  ema_decay: float = struct.field(pytree_node=False, default=0.0)

  @classmethod
  def create(cls, module, tx, rng, *inputs, ema_decay=0.0):
    variables = dict(module.init(rng, *inputs, train=False))
    params = variables.pop('params')
    return cls(params=params, state=variables, opt_state=tx.init(params), module=module, tx=tx,
               ema=params if ema_decay else None, ema_decay=ema_decay)

  def __call__(self, *inputs, **options):
    """The output in inference mode: BatchNorm running statistics, no state change."""
    return self.module.apply(self.variables(), *inputs, train=False, **options)

  def train_apply(self, *inputs, params=None, state=None):
    """(output, updated state) in training mode (batch statistics; a spectral norm's power-iteration vector kept), with
    `params` and `state` in place of the network's own when given (to differentiate, to chain two calls)."""
    variables = {'params': self.params if params is None else params, **(self.state if state is None else state)}
    if not self.state:
      return self.module.apply(variables, *inputs, train=True), {}
    return self.module.apply(variables, *inputs, train=True, mutable=list(self.state))

  def update(self, grads, state):
    """One optimizer step with `grads`; `state` replaces the non-trainable collections."""
    updates, opt_state = self.tx.update(grads, self.opt_state, self.params)
    params = optax.apply_updates(self.params, updates)
    ema = self.ema
    if ema is not None:
      ema = jax.tree.map(lambda e, p: self.ema_decay * e + (1.0 - self.ema_decay) * p, ema, params)
    return self.replace(params=params, state=state, opt_state=opt_state, ema=ema)

  def with_weights(self, params, state):
    """Weights from elsewhere (another run, a file); the average restarts from them."""
    return self.replace(params=params, state=state, ema=None if self.ema is None else params)

  def averaged(self):
    """The network with its averaged weights, for evaluation and inference (itself when averaging is off)."""
    return self if self.ema is None else self.replace(params=self.ema)

  def variables(self):
    """{'params': ..., 'batch_stats': ...}: what `module.apply` takes."""
    return {'params': self.params, **self.state}


class FrozenNetwork(struct.PyTreeNode):
  """A network a method runs but never trains: its module and variables, loaded from a file or another run."""
  variables: Any
  module: nn.Module = struct.field(pytree_node=False)

  def __call__(self, *inputs, **kwargs):
    return self.module.apply(self.variables, *inputs, **kwargs)


class TrainState(struct.PyTreeNode):
  step: jax.Array
  rng: jax.Array  # the run's base key; step s uses fold_in(rng, s), so a resumed run draws the same noise
  nets: dict[str, Network]
  # Networks used but never trained, named in the config and loaded by jaxsr.training.resources; not checkpointed.
  frozen: dict[str, FrozenNetwork] = struct.field(default_factory=dict)

  def averaged(self):
    """Every network with its averaged weights where it keeps an average: what evaluation and inference run."""
    return self.replace(nets={k: n.averaged() for k, n in self.nets.items()})
