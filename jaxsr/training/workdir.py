"""Owning a run directory: one training at a time in it, and never in a folder that is not a jaxsr run's.

Two trainings in one --workdir would interleave metrics.jsonl and drop each other's checkpoints; a --workdir that
holds another tool's config.json, or a jaxsr export, would have its record replaced. `check` refuses the second
before anything is built; `Lock` refuses the first for the life of the run. The lock is a file, `run.lock`, that
names its holder's host and pid, so that the refusal can say which process holds it and a lock left by a process
that died (kill -9, a power cut) is taken over, with a warning, by the next start on the same host.
"""
import contextlib
import json
import os
import socket
import time
from pathlib import Path

from absl import logging

from jaxsr.storage import exports, run_record

LOCK = 'run.lock'


class WorkdirInUseError(RuntimeError):
  """Another training holds the run directory's lock."""


def check(workdir):
  """Refuses a `workdir` that is a jaxsr export or holds a config.json that is not a jaxsr run's record (or is
  damaged); reads only."""
  workdir = Path(workdir)
  if exports.is_export(workdir):
    raise ValueError(f'--workdir: {workdir} is a jaxsr export folder (it has {exports.EXPORT}), not a run; train in '
                     f'another --workdir, or start from the export with --config.init_from={workdir}')
  try:
    run_record.read(workdir)
  except ValueError as error:
    raise ValueError(f'--workdir: {error}') from None


def _alive(pid):
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:  # another user's live process
    return True
  return True


class Lock:
  """`with Lock(workdir):` holds workdir/run.lock for the block; WorkdirInUseError names the holder when another
  live process has it."""

  def __init__(self, workdir):
    self.path = Path(workdir) / LOCK
    self.me = {'host': socket.gethostname(), 'pid': os.getpid(), 'since': time.strftime('%Y-%m-%dT%H:%M:%S%z')}

  def __enter__(self):
    self.path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):  # the second try follows the removal of a stale lock
      try:
        fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
      except FileExistsError:
        self._take_over_if_stale()
        continue
      with os.fdopen(fd, 'w') as f:
        json.dump(self.me, f)
      return self
    raise WorkdirInUseError(f'--workdir: could not take {self.path}: another start took it at the same time')

  def _take_over_if_stale(self):
    try:
      holder = json.loads(self.path.read_text())
      host, pid = str(holder['host']), int(holder['pid'])
    except FileNotFoundError:
      return  # released meanwhile
    except (ValueError, KeyError, TypeError):
      holder, host, pid = {}, None, None  # a half-written lock: its writer died mid-write
    if host == self.me['host'] and pid is not None and _alive(pid) and pid != self.me['pid']:
      raise WorkdirInUseError(
          f'--workdir: {self.path.parent} is being trained by process {pid} on this host (since '
          f'{holder.get("since", "?")}); wait for it to end, stop it (kill {pid}: it saves a checkpoint), or '
          f'train in another --workdir')
    if host is not None and host != self.me['host']:
      raise WorkdirInUseError(
          f'--workdir: {self.path.parent} is being trained by process {pid} on host {host} (since '
          f'{holder.get("since", "?")}); if that process is gone, delete {self.path} and start again')
    logging.warning('Taking over %s from process %s, which is gone: its run ended without releasing the lock.',
                    self.path, pid)
    with contextlib.suppress(FileNotFoundError):
      self.path.unlink()

  def __exit__(self, *exc):
    with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
      if json.loads(self.path.read_text())['pid'] == self.me['pid']:
        self.path.unlink()
    return False
