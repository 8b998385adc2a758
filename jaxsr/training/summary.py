"""TensorBoard event files (tensorboard's protos and record format: no TensorFlow, no tensorboardX, whose import
pulls in PyTorch where it is installed, 2-3 s of every start), the same scalars as JSON lines
(metrics.jsonl: one object per logged step, for pandas and plain scripts; a resumed run appends, so steps
redone after a crash appear again, the later line being the resumed run's) and PNG sample grids; process 0 only.

None of these writes can stop a run: a full disk or a lost network mount makes a write fail with a warning (once
per kind of file) and training goes on, while the checkpoint logic, which checks the free space before every
save, decides what is kept. Events are written synchronously, here: an event-writer thread that dies on a write
error (tensorboardX's) blocks the training loop once its queue is full.
"""
import contextlib
import io
import json
import socket
import time
from pathlib import Path

import jax
from absl import logging
from PIL import Image
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.plugins.text import metadata as text_metadata
from tensorboard.summary.writer.record_writer import RecordWriter


class EventFile:
  """`<prefix>.out.tfevents.<time>.<host>`: TFRecord-framed Event protos, the first one naming the format."""

  def __init__(self, prefix):
    self._records = RecordWriter(open(f'{prefix}.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}', 'ab'))
    self.write_event(event_pb2.Event(wall_time=time.time(), file_version='brain.Event:2'))

  def write_event(self, event):
    self._records.write(event.SerializeToString())

  def flush(self):
    self._records.flush()

  def close(self):
    self._records.close()


def scalar_value(name, value):
  return summary_pb2.Summary.Value(tag=name, simple_value=value)


def image_value(name, image):
  """A uint8 HWC image, PNG-encoded."""
  png = io.BytesIO()
  Image.fromarray(image).save(png, format='PNG')
  h, w, c = image.shape
  return summary_pb2.Summary.Value(tag=name, image=summary_pb2.Summary.Image(
      height=h, width=w, colorspace=c, encoded_image_string=png.getvalue()))


def text_value(name, text):
  """Markdown text for TensorBoard's text plugin."""
  tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[text.encode()],
                                  tensor_shape=tensor_shape_pb2.TensorShapeProto(
                                      dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=1)]))
  return summary_pb2.Summary.Value(tag=name, metadata=text_metadata.create_summary_metadata(name, ''),
                                   tensor=tensor)


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
    self._event(step, [scalar_value(name, float(value)) for name, value in values.items()])

  def image(self, step, name, image):
    """Writes a uint8 HWC image to TensorBoard and to workdir/samples/<name>_<step>.png (whole or not at all)."""
    if not self._active:
      return
    self._event(step, [image_value(name, image)])
    path = self.workdir / 'samples' / f'{name}_{step:08d}.png'
    partial = path.with_name(f'.{path.name}.tmp')
    with self._guard('samples', cleanup=partial):
      path.parent.mkdir(exist_ok=True)
      Image.fromarray(image).save(partial, format='PNG')
      partial.replace(path)

  def text(self, name, text):
    if self._active:
      self._event(0, [text_value(name, text)])

  def close(self):
    for f in (self._events, self._jsonl):
      if f is not None:
        with self._guard('close'):
          f.close()

  def _event(self, step, summaries):
    with self._guard('TensorBoard events'):
      self._events = self._events or EventFile(self.workdir / 'events')
      for value in summaries:
        self._events.write_event(event_pb2.Event(wall_time=time.time(), step=step,
                                                 summary=summary_pb2.Summary(value=[value])))
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
