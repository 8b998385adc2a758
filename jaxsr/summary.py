"""TensorBoard event files (tensorboardX: no TensorFlow needed) and PNG sample grids, from process 0 only."""
from pathlib import Path

import jax
from PIL import Image
from tensorboardX import SummaryWriter


class Writer:

  def __init__(self, workdir):
    self.workdir = Path(workdir)
    self._tb = SummaryWriter(str(self.workdir)) if jax.process_index() == 0 else None

  def scalars(self, step, values):
    if self._tb:
      for name, value in values.items():
        self._tb.add_scalar(name, float(value), step)

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
