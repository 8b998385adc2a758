"""Stopping cleanly when the cluster or the user asks: SIGTERM (SLURM before a preemption or at the time limit,
Kubernetes, spot VMs), SIGINT (Ctrl-C) and SIGHUP (the terminal closed) make the run save a checkpoint after the
current step and return, so the same command resumes it. A second Ctrl-C stops at once (KeyboardInterrupt),
keeping the checkpoints already complete."""
import signal
import threading

import jax
from absl import logging
from jax.experimental import multihost_utils

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class StopRequest:
  """`requested(step)` becomes True once one of SIGNALS has arrived; the handlers are in place from creation to
  `close()`.

  With several processes, jax's preemption service (started by `jax.distributed.initialize`) catches the signal
  on whichever process gets it and agrees with the others on one step at which all of them stop, so that the
  collective checkpoint save starts at the same step everywhere.
  """

  def __init__(self):
    self.signal = None  # what asked the run to stop, once something has
    # Python delivers signals to the main thread only; a run started from another thread keeps the default.
    self._installed = jax.process_count() == 1 and threading.current_thread() is threading.main_thread()
    if self._installed:
      self._previous = {s: signal.signal(s, self._handle) for s in SIGNALS}

  def close(self):
    if self._installed:
      for s, previous in self._previous.items():
        signal.signal(s, previous if previous is not None else signal.SIG_DFL)

  def _handle(self, signum, frame):
    del frame
    if self.signal is not None and signum == signal.SIGINT:
      raise KeyboardInterrupt(f'a second Ctrl-C while stopping on {self.signal}')
    self.signal = signal.Signals(signum).name
    again = ' (Ctrl-C again: stop at once)' if signum == signal.SIGINT else ''
    logging.warning('%s received: saving a checkpoint after this step, then stopping%s.', self.signal, again)

  def requested(self, step):
    """Call once per step, on every process: the multi-process agreement counts the calls."""
    if jax.process_count() > 1:
      if multihost_utils.reached_preemption_sync_point(step):
        self.signal = 'a preemption notice'
    return self.signal is not None
