"""`jaxsr.upscale`'s photo mode on photos made from held-out CelebA faces: is the result closer to the HR photo
than the bicubic enlargement, face size by face size?

    python benchmarks/photo_mode.py --run=pretrained/edsr_x4_celeba --photos=../shared/data/celeba_ids/val \
        --exclude=../shared/data/celeba_hr --sizes=12,16,24,32 --faces=40

Each HR photo is one 178x218 CelebA photo (of --photos, leaving out every file name under --exclude, the model's
training and held-out set, so no face was seen in training) turned by a random angle in [-20, 20] degrees and
scaled so its face spans 4 x size px in the middle of a canvas three faces wide; its LR photo is the PIL bicubic
x1/4 of it, as the paired models' LR faces are made. `upscale_photo` then enlarges the LR photo x4 with the faces
found by the landmarks the photo was made with (`--detector=mtcnn`: found by MTCNN, as the command line does;
faces it misses stay bicubic and count). Measured: RGB PSNR over each face's core (where the paste mask is 1, the
middle 70% of the aligned square) against the HR photo, for the bicubic enlargement, the network given each face
at its own size (`native`) and the network given every face at its 16 px training size (`--nonative`).
"""
import sys
from pathlib import Path

import numpy as np
import tqdm
from absl import app, flags
from PIL import Image

from jaxsr import upscale
from jaxsr.data import alignment, face_detection, image_files, mtcnn
from jaxsr.using import inference

import common

REPO = Path(__file__).resolve().parents[1]
_RUN = flags.DEFINE_string('run', str(REPO / 'pretrained' / 'edsr_x4_celeba'), 'A x4 run or export.')
_PHOTOS = flags.DEFINE_string('photos', str(REPO.parent / 'shared' / 'data' / 'celeba_ids' / 'val'),
                              '178x218 aligned CelebA photos, searched recursively.')
_EXCLUDE = flags.DEFINE_string('exclude', str(REPO.parent / 'shared' / 'data' / 'celeba_hr'),
                               'File names under this folder are left out (the training set).')
_SIZES = flags.DEFINE_list('sizes', ['12', '16', '24', '32'], 'Face sizes in the LR photo (px of the square).')
_FACES = flags.DEFINE_integer('faces', 40, 'Photos per size.')
_DETECTOR = flags.DEFINE_enum('detector', 'landmarks', ['landmarks', 'mtcnn'], 'How faces are found.')
_RESULTS = flags.DEFINE_string('results', str(REPO / 'benchmarks' / 'RESULTS.md'), 'Markdown file to append to.')
SCALE = 4
# The face square of a 178x218 aligned CelebA photo: celeba_hr's 64x64 crop at (12, 22), at twice the size.
SOURCE_BOX, SOURCE_SIDE = np.array([24.0, 44.0]), 128.0


def make_photos(source, lr_side, rng):
  """(HR photo, LR photo, the LR photo's landmarks, canvas -> aligned unit square matrix of the HR photo)."""
  hr_side = SCALE * lr_side
  width = 3 * hr_side
  angle = np.deg2rad(rng.uniform(-20, 20))
  rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
  # the source's aligned unit square -> the HR canvas: scaled to hr_side, turned, centred
  unit_to_canvas = np.hstack([hr_side * rotation, (width / 2 - hr_side * rotation @ [0.5, 0.5])[:, None]])
  source_to_unit = np.array([[1 / SOURCE_SIDE, 0, -SOURCE_BOX[0] / SOURCE_SIDE],
                             [0, 1 / SOURCE_SIDE, -SOURCE_BOX[1] / SOURCE_SIDE]])
  canvas_to_source = alignment.invert(alignment.compose(unit_to_canvas, source_to_unit))
  hr = alignment.warp(source, canvas_to_source, (width, width))
  lr = hr.resize((width // SCALE, width // SCALE), Image.BICUBIC)
  # the template's landmarks, in the LR photo's pixel indices
  landmarks = (alignment.apply(unit_to_canvas, alignment.TEMPLATE + 0.5 / 64) / SCALE - 0.5).astype(np.float32)
  return hr, lr, landmarks, alignment.invert(unit_to_canvas)


def face_core(canvas_to_unit, width, inner=0.15):
  """The HR canvas pixels whose centres fall in the middle of the aligned square (the paste mask's 1s)."""
  ys, xs = np.mgrid[:width, :width] + 0.5
  unit = alignment.apply(canvas_to_unit, np.stack([xs.ravel(), ys.ravel()], 1)).reshape(width, width, 2)
  return np.all((unit > inner) & (unit < 1 - inner), axis=-1)


def psnr(x, y, where):
  mse = np.mean(np.square(np.asarray(x, np.float64)[where] - np.asarray(y, np.float64)[where]))
  return 10 * np.log10(255.0 ** 2 / mse)


def main(argv):
  del argv
  model = inference.load(_RUN.value)
  if model.scale != SCALE:
    raise app.UsageError(f'--run: a x{SCALE} model is needed, {_RUN.value} is x{model.scale}')
  seen = {p.name for p in image_files.find(_EXCLUDE.value)} if _EXCLUDE.value else set()
  sources = [p for p in image_files.find(_PHOTOS.value) if p.name not in seen]
  found_by_mtcnn = mtcnn.detector(min_face_size=8) if _DETECTOR.value == 'mtcnn' else None
  rng = np.random.default_rng(0)
  rows = []
  for lr_side in map(int, _SIZES.value):
    scores, found = {'bicubic': [], 'native': [], 'fixed': []}, 0
    picks = rng.choice(len(sources), min(_FACES.value, len(sources)), replace=False)
    for k in tqdm.tqdm(picks, desc=f'{lr_side} px faces', unit='photo'):
      hr, lr, landmarks, canvas_to_unit = make_photos(image_files.read_rgb(sources[k]), lr_side, rng)
      oracle = [face_detection.Face((0.0, 0.0, 1.0, 1.0), 1.0, landmarks)]
      detect = found_by_mtcnn or (lambda image, faces=oracle: faces)
      where = face_core(canvas_to_unit, hr.width)
      scores['bicubic'].append(psnr(lr.resize(hr.size, Image.BICUBIC), hr, where))
      for name, native in (('native', True), ('fixed', False)):
        result, count = upscale.upscale_photo(model, lr, detect, native=native)
        scores[name].append(psnr(result, hr, where))
      found += min(count, 1)
    mean = {name: np.mean(values) for name, values in scores.items()}
    rows.append(f'| {lr_side} | {len(picks)} | {found} | {mean["bicubic"]:.2f} | {mean["native"]:.2f} '
                f'({mean["native"] - mean["bicubic"]:+.2f}) | {mean["fixed"]:.2f} '
                f'({mean["fixed"] - mean["bicubic"]:+.2f}) |')
    print(rows[-1], flush=True)
  where = (f'### Photo mode on held-out CelebA photos, x4, faces turned by up to 20 degrees ({model.config.method} '
           f'`{Path(_RUN.value).name}`, detector: {_DETECTOR.value}; {common.device_description()})')
  header = ('| face side in the LR photo (px) | photos | faces found | bicubic PSNR (face core) | network at the '
            "face's own size | network at 16 px |")
  common.append_results(Path(_RESULTS.value), where, ['benchmarks/photo_mode.py', *sys.argv[1:]], header, rows)


if __name__ == '__main__':
  app.run(main)
