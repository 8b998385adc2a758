"""TensorBoard event files (tensorboardX: no TensorFlow needed), the same scalars as JSON lines
(metrics.jsonl: one object per logged step, for pandas and plain scripts; a resumed run appends, so steps
redone after a crash appear again, the later line being the resumed run's) and PNG sample grids; process 0 only."""
import json
from pathlib import Path

import jax
from PIL import Image
from tensorboardX import SummaryWriter


class Writer:

  def __init__(self, workdir):
    self.workdir = Path(workdir)
    self._tb = SummaryWriter(str(self.workdir)) if jax.process_index() == 0 else None
    self._jsonl = None  # opened by the first scalars()

  def scalars(self, step, values):
    if self._tb:
      for name, value in values.items():
        self._tb.add_scalar(name, float(value), step)
      self._jsonl = self._jsonl or (self.workdir / 'metrics.jsonl').open('a')
      self._jsonl.write(json.dumps({'step': step, **{k: float(v) for k, v in values.items()}}) + '\n')
      self._jsonl.flush()

  def image(self, step, name, image):
    """Writes a uint8 HWC image to TensorBoard and to workdir/samples/<name>_<step>.png."""
    if self._tb:
      self._tb.add_image(name, image, step, dataformats='HWC')
      samples = self.workdir / 'samples'
      samples.mkdir(exist_ok=True)
      Image.fromarray(image).save(samples / f'{name}_{step:08d}.png')

  def text(self, name, text):
    if self._tb:
      self._tb.add_text(name, text)

  def close(self):
    if self._tb:
      self._tb.close()
    if self._jsonl:
      self._jsonl.close()
