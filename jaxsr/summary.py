"""TensorBoard event files (tensorboardX: no TensorFlow needed), the same scalars as JSON lines
(metrics.jsonl: one object per logged step, for pandas and plain scripts; a resumed run appends, so steps
redone after a crash appear again, the later line being the resumed run's) and PNG sample grids; process 0 only.

None of these writes can stop a run: a full disk or a lost network mount makes a write fail with a warning (once
per kind of file) and training goes on, while the checkpoint logic, which checks the free space before every
save, decides what is kept. Events are written synchronously, here, because tensorboardX's writer thread dies on
a write error and then blocks the training loop once its queue is full.
"""
import contextlib
import json
import time
from pathlib import Path

import jax
from absl import logging
from PIL import Image
from tensorboardX import summary as tb
from tensorboardX.event_file_writer import EventsWriter
from tensorboardX.proto import event_pb2


class Writer:

  def __init__(self, workdir):
    self.workdir = Path(workdir)
    self._active = jax.process_index() == 0
    self._events = None  # opened by the first write, as the JSON lines file
    self._jsonl = None
    self._failed = set()  # kinds of file whose write failed (warned once)

  def scalars(self, step, values):
    if not self._active:
      return
    with self._guard('metrics.jsonl'):
      self._jsonl = self._jsonl or (self.workdir / 'metrics.jsonl').open('a')
      self._jsonl.write(json.dumps({'step': step, **{k: float(v) for k, v in values.items()}}) + '\n')
      self._jsonl.flush()
    self._event(step, [tb.scalar(name, float(value)) for name, value in values.items()])

  def image(self, step, name, image):
    """Writes a uint8 HWC image to TensorBoard and to workdir/samples/<name>_<step>.png (whole or not at all)."""
    if not self._active:
      return
    self._event(step, [tb.image(name, image, dataformats='HWC')])
    path = self.workdir / 'samples' / f'{name}_{step:08d}.png'
    partial = path.with_name(f'.{path.name}.tmp')
    with self._guard('samples', cleanup=partial):
      path.parent.mkdir(exist_ok=True)
      Image.fromarray(image).save(partial, format='PNG')
      partial.replace(path)

  def text(self, name, text):
    if self._active:
      self._event(0, [tb.text(name, text)])

  def close(self):
    for f in (self._events, self._jsonl):
      if f is not None:
        with self._guard('close'):
          f.close()

  def _event(self, step, summaries):
    with self._guard('TensorBoard events'):
      self._events = self._events or EventsWriter(str(self.workdir / 'events'))
      for summary in summaries:
        self._events.write_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))
      self._events.flush()

  @contextlib.contextmanager
  def _guard(self, kind, cleanup=None):
    try:
      yield
    except OSError as error:
      if cleanup is not None:
        with contextlib.suppress(OSError):
          cleanup.unlink(missing_ok=True)
      if kind not in self._failed:
        self._failed.add(kind)
        logging.warning('Writing %s in %s failed (%s); training goes on without it, and the next checkpoint '
                        'save checks the free space.', kind, self.workdir, error)
