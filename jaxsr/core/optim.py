"""Optimizers from config. Hyperparameters are injected into the optimizer state, so the training loop can log
every network's current learning rate without knowing the schedule."""
import optax


def rmsprop(learning_rate, b1, b2):
  """Keras's RMSprop: rho = b2 (the squared-gradient average, as Adam's b2), eps 1e-7 outside the square root, no
  momentum (b1 unused)."""
  del b1
  return optax.rmsprop(learning_rate, decay=b2, eps=1e-7, eps_in_sqrt=False)


OPTIMIZERS = {'adam': optax.adam, 'adabelief': optax.adabelief, 'rmsprop': rmsprop}
SCHEDULES = ('constant', 'step', 'warmup_cosine')


def schedule(config):
  """'constant'; 'step': multiply by `decay_factor` every `decay_every` steps; 'warmup_cosine': linear from 0 to
  `learning_rate` over `warmup_steps`, then half a cosine down to 0 at `decay_steps` (Loshchilov & Hutter, ICLR
  2017, without restarts; Goyal et al. 2017's warmup), and 0 after."""
  if config.schedule == 'constant':
    return optax.constant_schedule(config.learning_rate)
  if config.schedule == 'warmup_cosine':
    return optax.warmup_cosine_decay_schedule(0.0, config.learning_rate, config.warmup_steps, config.decay_steps)
  return optax.exponential_decay(config.learning_rate, config.decay_every, config.decay_factor, staircase=True)


def make(config):
  """An optax optimizer from a sub-config with name, learning_rate, b1, b2, schedule (+ decay_every/factor), and
  clip_value: gradients clipped elementwise to [-clip_value, clip_value] first (Keras `clipvalue`; 0: off)."""
  update = OPTIMIZERS[config.name]
  clip = config.clip_value

  def clipped(learning_rate, b1, b2):
    return optax.chain(optax.clip(clip), update(learning_rate, b1, b2))

  # Without clipping, the bare optimizer: its state (and so every earlier checkpoint) keeps its structure.
  factory = clipped if clip else update
  return optax.inject_hyperparams(factory)(learning_rate=schedule(config), b1=config.b1, b2=config.b2)


def learning_rate(opt_state):
  return opt_state.hyperparams['learning_rate']
