"""Optimizers from config. Hyperparameters are injected into the optimizer state, so the training loop can log
every network's current learning rate without knowing the schedule."""
import optax

OPTIMIZERS = {'adam': optax.adam, 'adabelief': optax.adabelief}
SCHEDULES = ('constant', 'step')


def schedule(config):
  """'constant', or 'step': multiply by `decay_factor` every `decay_every` steps."""
  if config.schedule == 'constant':
    return optax.constant_schedule(config.learning_rate)
  return optax.exponential_decay(config.learning_rate, config.decay_every, config.decay_factor, staircase=True)


def make(config):
  """An optax optimizer from a sub-config with name, learning_rate, b1, b2, schedule (+ decay_every/factor)."""
  return optax.inject_hyperparams(OPTIMIZERS[config.name])(learning_rate=schedule(config), b1=config.b1, b2=config.b2)


def learning_rate(opt_state):
  return opt_state.hyperparams['learning_rate']
