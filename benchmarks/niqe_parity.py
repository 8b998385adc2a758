"""jaxsr.niqe against BasicSR's NIQE (XPixelGroup/BasicSR 1.4.2, `basicsr/metrics/niqe.py`, which follows the
authors' MATLAB release) on images anyone can make again: procedural faces of 288 px with a little noise, and
each also blurred (x1/4 and back, bicubic) and made noisy.

    pip download --no-deps basicsr==1.4.2 && tar xzf basicsr-1.4.2.tar.gz    # needs torch and opencv to run
    python benchmarks/niqe_parity.py --basicsr=basicsr-1.4.2/basicsr

BasicSR's package imports its training stack on import (and a torchvision module removed since 0.17), so the
metric's module is loaded from --basicsr by path, with the four modules it reads. Without --basicsr the table
holds jaxsr's values only. tests/test_niqe.py holds jaxsr to the BasicSR values this script printed.
"""
import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
from absl import app, flags
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from jaxsr.data import procedural_faces  # noqa: E402
from jaxsr.evaluation import niqe  # noqa: E402

_BASICSR = flags.DEFINE_string('basicsr', None, "BasicSR's source package folder (holding metrics/niqe.py).")
_RESULTS = flags.DEFINE_string('results', str(REPO / 'benchmarks' / 'RESULTS.md'), 'Markdown file to append to.')


def parity_images():
  """{name: uint8 (288, 288, 3)}: three procedural faces with noise of 3 grey levels, each also blurred and made
  noisy (sigma 15)."""
  rng = np.random.default_rng(0)
  out = {}
  for k in range(3):
    face = procedural_faces.render_face(k, size=288).astype(np.float64)
    clean = np.clip(np.round(face + rng.normal(0, 3, face.shape)), 0, 255).astype(np.uint8)
    small = Image.fromarray(clean).resize((72, 72), Image.BICUBIC)
    out[f'face{k}'] = clean
    out[f'face{k}_blurred'] = np.asarray(small.resize((288, 288), Image.BICUBIC))
    out[f'face{k}_noisy'] = np.clip(np.round(clean + rng.normal(0, 15, clean.shape)), 0, 255).astype(np.uint8)
  return out


def basicsr_niqe(source):
  """BasicSR's calculate_niqe(BGR image, crop_border, ...) from its source folder, without its package init."""
  import scipy.ndimage
  sys.modules.setdefault('scipy.ndimage.filters', scipy.ndimage)  # its import, gone from scipy

  def load(name, path):
    spec = importlib.util.spec_from_file_location(name, Path(source) / path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module

  for package in ('basicsr', 'basicsr.utils', 'basicsr.metrics'):
    sys.modules[package] = types.ModuleType(package)
    sys.modules[package].__path__ = []
  sys.modules['basicsr.utils'].bgr2ycbcr = load('basicsr.utils.color_util', 'utils/color_util.py').bgr2ycbcr
  load('basicsr.utils.matlab_functions', 'utils/matlab_functions.py')
  load('basicsr.utils.registry', 'utils/registry.py')
  load('basicsr.metrics.metric_util', 'metrics/metric_util.py')
  return load('basicsr.metrics.niqe', 'metrics/niqe.py').calculate_niqe


def main(argv):
  del argv
  reference = basicsr_niqe(_BASICSR.value) if _BASICSR.value else None
  rows = []
  for name, image in parity_images().items():
    ours = niqe.score(image)
    theirs = float(reference(image[..., ::-1].copy(), 0, input_order='HWC', convert_to='y')) if reference else None
    rows.append(f'| {name} | {ours:.4f} | ' + (f'{theirs:.4f} | {ours - theirs:+.1e} |' if reference else '- | - |'))
    print(rows[-1], flush=True)
  with open(_RESULTS.value, 'a') as f:
    f.write(f'\n### NIQE: jaxsr.niqe against BasicSR 1.4.2\n\n`python benchmarks/niqe_parity.py'
            f'{" --basicsr=..." if reference else ""}`\n\n| image | jaxsr | BasicSR | difference |\n|---|---|---|---|\n'
            + '\n'.join(rows) + '\n')


if __name__ == '__main__':
  app.run(main)
