"""The training loop every method shares: build, restore, step, log, evaluate, checkpoint.

It knows nothing of GANs or VAEs: a method (jaxsr/methods) supplies its networks, data, one jitted train step
that updates all of them, and what to show at evaluation.
"""
import contextlib
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import tqdm
from absl import logging
from jax.experimental import multihost_utils

from jaxsr.core import config_base, images, optim, parallel
from jaxsr.data import pipeline
from jaxsr.methods import base
from jaxsr.storage import checkpointing, run_record
from jaxsr.training import preemption, resources, summary
from jaxsr.training import workdir as workdir_lib


class NonFiniteLossError(FloatingPointError):
  """A loss, or a weight a step produced, became NaN or Inf; the run stops before it can checkpoint it."""


NONFINITE = 'nonfinite_values'  # a train step's count of NaN/Inf values in the networks it returns


def train_and_evaluate(config, workdir, devices=None):
  """Trains `config.method` in `workdir`, resuming from its last checkpoint. Returns the final TrainState.

  Nothing is written to `workdir` until the data is found and fits the config and the checkpoint (if any) is
  restored: a start that fails leaves an existing run's record (config.json, events) as it was.
  """
  workdir = Path(workdir).expanduser().absolute()  # orbax needs absolute paths
  mesh = parallel.make_mesh(devices)
  config_base.validate(config, mesh.size)
  workdir_lib.check(workdir)  # not an export, not another tool's folder
  # Files besides the run's own, before the data: a wrong path fails in seconds. A learned degradation's H2L
  # checkpoint is pinned here and recorded in config.json.
  config, method, files = resources.resolve(config, workdir)

  # Data: this process's part of every global batch, in a fixed order, with a checkpointable position.
  data_dir = config.data_dir or None
  batches = pipeline.host_batches(method.train_data(data_dir), config.batch_size,
                                  jax.process_index(), jax.process_count())
  eval_batch = method.eval_data(data_dir)
  check_image_sizes(config, method.example(), {'train': batches[0], 'evaluation': eval_batch})
  data = pipeline.iterator(batches, config.data_threads)
  eval_batch = jax.device_put(eval_batch, parallel.replicated(mesh))

  # State: initialised directly into its replicated sharding, then overwritten by the last checkpoint if any.
  state = init_state(method, mesh, config.seed, batches[0], files)
  with _lock(workdir):  # held from the first write to the last
    return _train(config, workdir, method, mesh, state, data, eval_batch)


def _train(config, workdir, method, mesh, state, data, eval_batch):
  """From the restore of the last checkpoint to the last save: the loop train_and_evaluate runs holding the
  run directory's lock."""
  checkpoints = checkpointing.Checkpointer(workdir / 'checkpoints', config.keep_checkpoints)
  try:
    restored = checkpoints.restore_latest(state)
  except checkpointing.CheckpointMismatchError as error:
    checkpoints.close()
    changed = run_record.differences(run_record.read(workdir), config)
    raise checkpointing.CheckpointMismatchError(
        error.step, error.directory, error.mismatches,
        hint=(f'config fields that differ from the run\'s {run_record.CONFIG}: {run_record.describe(changed)}. '
              if changed else '') + 'Resume with the run\'s config, or start a new run in another --workdir.'
    ) from None
  if restored is not None:
    latest, state, data_state = restored
    data.set_state(data_state)
    logging.info('Resumed from step %d of %s.', latest, workdir)
  start = int(state.step)
  logging.info('%s: %s parameters', config.method,
               {k: _count(n.params) for k, n in state.nets.items()})

  writer = summary.Writer(workdir)
  if jax.process_index() == 0:
    changed = run_record.write(workdir, config, start)
    if start and changed:
      logging.warning('This start changes the run\'s config (kept in %s): %s', run_record.HISTORY,
                      run_record.describe(changed))
    writer.text('config', f'```\n{config}\n```')

  train_step = make_train_step(method, mesh)
  evaluate = base.evaluator(method)

  # Metrics stay on the device until a log or a checkpoint needs them (one copy per log, not per step). The host
  # waits for step s - steps_in_flight before going on from step s: the device always has work queued, and a stop
  # request waits for at most that many steps before the checkpoint is written.
  pending = []
  progress = tqdm.tqdm(total=config.num_steps, initial=start, desc=config.method, unit='step',
                       disable=jax.process_index() != 0, dynamic_ncols=True)

  def flush():
    """Fetches pending metrics and returns their means; stops the run on a non-finite loss, or a non-finite value
    in the networks a step returned, before any save: a state is saved only once its own step is checked."""
    values = jax.device_get(pending)
    pending.clear()
    for step, m in values:
      broken = int(m.pop(NONFINITE))
      bad = sorted(k for k, v in m.items() if not np.isfinite(v))
      if bad or broken:
        what = ', '.join(bad + ([f'{broken} values in the networks it updated'] if broken else []))
        raise NonFiniteLossError(
            f'step {step}: non-finite {what}; stopping without saving a checkpoint (the last good one '
            f'is step {checkpoints.latest_step()} in {workdir / "checkpoints"})')
    return {k: float(np.mean([m[k] for _, m in values])) for k in values[0][1]} if values else {}

  timer = _Timer()
  stop = preemption.StopRequest()
  deadline = time.monotonic() + 60.0 * config.train_minutes if config.train_minutes else None
  try:
    for step in range(start + 1, config.num_steps + 1):
      state, metrics = train_step(state, parallel.global_batch(next(data), mesh))
      pending.append((step, metrics))
      if len(pending) > config.steps_in_flight:
        jax.block_until_ready(pending[-config.steps_in_flight - 1][1])  # a wait, not a copy
      if step == start + 1:
        timer.first_step_done(step, state)
      progress.update()
      stopping = stop.requested(step)
      out_of_time = deadline is not None and step % config.log_every == 0 and _all_agree(time.monotonic() > deadline)
      last = step == config.num_steps or out_of_time

      if step % config.log_every == 0 or last:
        scalars = {**flush(), **timer.rates(step, config.batch_size)}
        writer.scalars(step, scalars)
        progress.set_postfix({k.split('/', 1)[0] + ' ' + k.rsplit('/', 1)[-1]: f'{v:.3g}'
                              for k, v in scalars.items() if k.endswith('/loss')})
        logging.info('step %d: %s', step, ', '.join(f'{k}={v:.4g}' for k, v in scalars.items()))

      if step % config.eval_every == 0 or last:  # a fixed key: every grid of a run uses the same noise
        outputs, eval_scalars = jax.device_get(evaluate(state, eval_batch, jax.random.PRNGKey(config.seed)))
        writer.scalars(step, {f'eval/{k}': v for k, v in eval_scalars.items()})
        logging.info('eval at step %d: %s', step, eval_summary(eval_scalars))
        writer.image(step, 'samples', images.grid({k: outputs[k] for k in method.eval_columns},
                                                  title=f'{config.method}, step {step}'))

      if step % config.checkpoint_every == 0 or last or stopping:
        flush()
        checkpoints.save(step, state, data.get_state())
      if stopping:
        logging.warning('Stopped at step %d on %s; the checkpoint is saved and the same command resumes the run.',
                        step, stop.signal)
        break
      if out_of_time:
        logging.info('Stopped at step %d: config.train_minutes=%g have passed; the same command resumes the run.',
                     step, config.train_minutes)
        break
  finally:
    stop.close()
    progress.close()
    checkpoints.close()
    writer.close()
  return state


def eval_summary(scalars):
  """One line of evaluation scalars: each '<metric>/output' beside its '<metric>/bicubic' ('psnr 26.45 (bicubic
  23.43)'), then the others as name=value."""
  parts, shown = [], set()
  for key, value in scalars.items():
    metric, _, name = key.rpartition('/')
    if name == 'output' and f'{metric}/bicubic' in scalars:
      parts.append(f'{metric} {float(value):.4g} (bicubic {float(scalars[metric + "/bicubic"]):.4g})')
      shown |= {key, f'{metric}/bicubic'}
  return ', '.join(parts + [f'{k}={float(v):.4g}' for k, v in scalars.items() if k not in shown])


def _lock(workdir):
  """The run directory's lock, taken by process 0 (all processes share the directory)."""
  return workdir_lib.Lock(workdir) if jax.process_index() == 0 else contextlib.nullcontext()


def _all_agree(flag):
  """Process 0's `flag` on every process, so that all stop at the same step (their clocks differ)."""
  if jax.process_count() == 1:
    return bool(flag)
  return bool(multihost_utils.broadcast_one_to_all(np.int32(flag)))


def init_state(method, mesh, seed, batch, files=None):
  """base.initial_state with what `files` (resources.load: frozen networks, a run to start from) holds; None:
  nothing from files."""
  state = base.initial_state(method, mesh, seed, batch)
  if files is None:
    return state
  return jax.device_put(resources.start_from(files, state.replace(frozen=files.frozen)),
                        parallel.replicated(mesh))


def make_train_step(method, mesh):
  """The jitted step: batch sharded over `data`, state replicated and donated, step s drawing fold_in(rng, s)."""
  def step_fn(state, batch):
    rng = jax.random.fold_in(state.rng, state.step)
    state, metrics = method.train_step(state, batch, rng)
    metrics.update({f'lr/{k}': optim.learning_rate(n.opt_state) for k, n in state.nets.items()})
    metrics[NONFINITE] = sum(jnp.sum(~jnp.isfinite(x)) for x in jax.tree.leaves(state.nets)
                             if jnp.issubdtype(x.dtype, jnp.inexact))
    return state.replace(step=state.step + 1), metrics

  replicated = parallel.replicated(mesh)
  return jax.jit(step_fn, in_shardings=(replicated, parallel.batch_sharding(mesh)),
                 out_shardings=(replicated, replicated), donate_argnums=0)


def check_image_sizes(config, example, batches):
  """Names a dataset whose examples are not shaped as the method's `example` says (a set built at 128 px under a
  64 px config would train, and the run's config.json would then describe another model than the one trained)."""
  for what, batch in batches.items():
    for key, expected in example.items():
      got = tuple(batch[key].shape[1:]) if key in batch else expected.shape
      if got == expected.shape:
        continue
      dataset = config.dataset if what == 'train' else config.eval_dataset
      if key == 'lr' and config.get('lr_dataset'):
        dataset = f'{dataset} / {config.lr_dataset}'
      if len(got) != 3:
        raise ValueError(f"the {what} data ({dataset}) gives '{key}' of shape {got}, expected {expected.shape}")
      raise ValueError(
          f"config.image_size={config.image_size}, scale={config.scale}: the {what} data ({dataset}) gives "
          f"'{key}' images of {got[0]}x{got[1]} px, expected {expected.shape[0]}x{expected.shape[1]}. Set "
          f"--config.image_size to the dataset's size, or rebuild the dataset with --image_size.")


def _count(tree):
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


class _Timer:
  """Steps/s and images/s between logs; the first step, which includes compilation, is timed on its own."""

  def __init__(self):
    self.start = time.perf_counter()
    self.first_step_seconds = None
    self.mark = None  # (step, time) of the last measurement

  def first_step_done(self, step, state):
    jax.block_until_ready(state)
    self.first_step_seconds = time.perf_counter() - self.start
    self.mark = (step, time.perf_counter())

  def rates(self, step, batch_size):
    """Called right after metrics were fetched, so the device has finished `step`."""
    now = time.perf_counter()
    (mark_step, mark_time), self.mark = self.mark, (step, now)
    out = {}
    if self.first_step_seconds is not None:
      out['perf/first_step_seconds'] = self.first_step_seconds
      self.first_step_seconds = None
    if step > mark_step:
      steps_per_second = (step - mark_step) / (now - mark_time)
      out.update({'perf/steps_per_second': steps_per_second, 'perf/images_per_second': steps_per_second * batch_size})
    return out
