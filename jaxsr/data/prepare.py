"""From wild photos to the HR and LR face sets of Bulat et al. (ECCV 2018).

    python -m jaxsr.data.prepare --photos=~/wild_photos --out=/tmp/wild --name=wild

Runs a face detector (MTCNN, jaxsr.data.mtcnn) over every photo under --photos and keeps detections with
confidence above --min_confidence (0.8). Faces whose box has a shorter side of at least --hr_min_side (64) px are
aligned by their five landmarks to where CelebA's average landmarks fall in the celeba_hr crop, at --hr_size, and
form the HR set; faces whose longer side is at most --lr_max_side (36) px are cropped as detected and form the real
LR set. Faces in between are counted and left out, as in the paper. Writes

    <out>/hr/*.png, <out>/hr/landmarks.txt     aligned HR faces and their landmarks (CelebA's file format)
    <out>/lr/*.png                             LR face crops
    <out>/contact_sheet.png, <out>/summary.json
    face_folder/<name>, lr_face_folder/<name>  tfds datasets in --data_dir, for --config.dataset / lr_dataset
"""
import json
import time
from pathlib import Path

import numpy as np
import tqdm
from absl import app, flags, logging
from PIL import Image

from jaxsr.core import cli, images
from jaxsr.data import alignment, builders, image_files, pipeline

FLAGS = flags.FLAGS

def sort_face(face, min_confidence, hr_min_side, lr_max_side):
  """'hr', 'lr', or why the detection is left out: 'low_confidence', 'between_sizes'."""
  _, _, w, h = face.box
  if face.confidence < min_confidence:
    return 'low_confidence'
  if min(w, h) >= hr_min_side:
    return 'hr'
  if max(w, h) <= lr_max_side:
    return 'lr'
  return 'between_sizes'


def prepare(photos, out, detect, hr_size=64, min_confidence=0.8, hr_min_side=64, lr_max_side=36):
  """Detects, sorts and writes the faces of every photo under `photos` into `out`; returns the counts."""
  out = Path(out)
  (out / 'hr').mkdir(parents=True, exist_ok=True)
  (out / 'lr').mkdir(parents=True, exist_ok=True)
  files = image_files.find(photos)
  counts = dict.fromkeys(('photos', 'unreadable', 'faces', 'hr', 'lr', 'low_confidence', 'between_sizes'), 0)
  landmark_lines, sheet = [], {'hr': [], 'lr': []}
  start = time.perf_counter()
  for path in tqdm.tqdm(files, desc='detecting faces', unit='photo'):
    counts['photos'] += 1
    photo = image_files.read_rgb(path)
    if photo is None:
      counts['unreadable'] += 1
      continue
    stem = str(path.relative_to(photos).with_suffix('')).replace('/', '_')
    for k, face in enumerate(detect(np.asarray(photo))):
      counts['faces'] += 1
      kind = sort_face(face, min_confidence, hr_min_side, lr_max_side)
      counts[kind] += 1
      name = f'{stem}_{k}.png'
      if kind == 'hr':
        aligned, landmarks = alignment.align(photo, face.landmarks, hr_size)
        Image.fromarray(aligned).save(out / 'hr' / name)
        landmark_lines.append(f'{name} ' + ' '.join(f'{v:.2f}' for v in landmarks.ravel()))
        sheet['hr'].append(aligned)
      elif kind == 'lr':
        x, y, w, h = (int(round(v)) for v in face.box)
        crop = photo.crop((x, y, x + w, y + h))
        crop.save(out / 'lr' / name)
        sheet['lr'].append(np.asarray(crop.resize((hr_size, hr_size), Image.NEAREST)))
  counts['seconds'] = round(time.perf_counter() - start, 1)
  (out / 'hr' / 'landmarks.txt').write_text('\n'.join(landmark_lines) + '\n')
  (out / 'summary.json').write_text(json.dumps(counts, indent=2))
  write_contact_sheet(sheet, out / 'contact_sheet.png')
  return counts


def write_contact_sheet(faces, path, columns=8):
  """Up to 8 rows of kept faces: HR rows first, then LR rows (enlarged without smoothing)."""
  tiles = [f for kind in ('hr', 'lr') for f in faces[kind][:4 * columns]]
  if not tiles:
    return
  tiles += [np.full_like(tiles[0], 255)] * (-len(tiles) % columns)
  stacked = images.to_float(np.stack(tiles)).reshape(-1, columns, *tiles[0].shape)
  Image.fromarray(images.grid({c: stacked[:, c] for c in range(columns)}, rows=len(stacked))).save(path)


def build_datasets(out, name, data_dir, hr_size, overwrite=False):
  """face_folder/<name> (with landmarks) and lr_face_folder/<name> from the folders `prepare` wrote; `overwrite`
  rebuilds datasets of that name built from elsewhere."""
  built = {}
  for cls, folder, extra in ((builders.FaceFolder, 'hr', {'image_size': hr_size, 'crop': 'none',
                                                         'landmarks': str(Path(out) / 'hr' / 'landmarks.txt')}),
                             (builders.LrFaceFolder, 'lr', {})):
    if not any((Path(out) / folder).glob('*.png')):
      logging.warning('no %s faces: %s/%s not built', folder.upper(), cls.__name__, name)
      continue
    config = cls.BUILDER_CONFIG_CLS(name=name, path=str(Path(out) / folder), **extra)
    builder = pipeline.build_folder_dataset(cls, config, data_dir, overwrite)
    built[builder.name + '/' + name] = {s: builder.info.splits[s].num_examples for s in builder.info.splits}
  return built


def define_flags():
  """The command line's flags, defined only when this module runs as the program (the module is a library too)."""
  cli.define_path('photos', None, 'Folder of photos (searched recursively).')
  cli.define_path('out', None, 'Where the face crops, contact sheet and summary go.')
  flags.DEFINE_string('name', None, 'Dataset name: face_folder/<name> and lr_face_folder/<name>.')
  flags.DEFINE_bool('overwrite', False, 'Rebuild datasets of that name built from another source.')
  cli.define_path('data_dir', None, 'tfds data dir (default: $TFDS_DATA_DIR or ~/tensorflow_datasets).')
  flags.DEFINE_integer('hr_size', 64, 'Side of the aligned HR faces.')
  flags.DEFINE_float('min_confidence', 0.8, 'Detections below this are left out.')
  flags.DEFINE_integer('hr_min_side', 64, 'HR faces: shorter box side at least this (px).')
  flags.DEFINE_integer('lr_max_side', 36, 'LR faces: longer box side at most this (px).')
  flags.DEFINE_integer('min_face_size', 12, "The detector's smallest face (px); LR faces are small.")


def main(argv):
  del argv
  cli.setup_logging()
  if not (FLAGS.photos and FLAGS.out and FLAGS.name):
    raise app.UsageError('--photos, --out and --name are required')
  from jaxsr.data import mtcnn  # jax and the weights load only when faces are detected
  detect = mtcnn.detector(FLAGS.min_face_size)
  counts = prepare(FLAGS.photos, FLAGS.out, detect, FLAGS.hr_size, FLAGS.min_confidence, FLAGS.hr_min_side,
                   FLAGS.lr_max_side)
  print('faces:', json.dumps(counts))
  built = build_datasets(FLAGS.out, FLAGS.name, FLAGS.data_dir or pipeline.default_data_dir(), FLAGS.hr_size,
                         FLAGS.overwrite)
  print('datasets:', json.dumps(built))
  print(f'contact sheet: {Path(FLAGS.out) / "contact_sheet.png"}')


def run():
  """The command: `python -m jaxsr.data.prepare`, or `jaxsr-prepare` once installed."""
  define_flags()
  cli.run(main)


if __name__ == '__main__':
  run()
