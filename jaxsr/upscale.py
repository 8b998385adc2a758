"""Super-resolves face crops or whole photos with a trained run.

    python -m jaxsr.upscale --run=runs/srresnet --input=faces/ --output=out/          # newest checkpoint
    python -m jaxsr.upscale --run=runs/srresnet --step=50000 --input=group.jpg --output=out/
    python -m jaxsr.upscale --run=runs/refsr_vae --input=lr/ --reference=me.jpg --output=out/

Outputs are PNGs named after the input's path under --input (`sub/a.jpg` -> `sub/a.png`; when two inputs would
share a name, as `a.jpg` and `a.png` do, both keep their suffix: `a.jpg.png`, `a.png.png`). Nothing is
overwritten: an --output inside --input (its outputs would be read as inputs next time, and could replace them) and
existing outputs (without --overwrite) stop the tool before it reads a single image.

A face crop is resized to the run's LR side (image_size / scale, bicubic) and super-resolved. In a whole photo
MTCNN finds the faces; each is cut out as a square of `margin` x its box, super-resolved, and pasted into the
photo enlarged by bicubic x scale under a mask that fades over the outer `feather` of the square, so no seam
shows. `--mode=auto` treats images no larger than 4 LR sides as crops and others as photos.
"""
import collections
from pathlib import Path

import numpy as np
import tqdm
from absl import app, flags, logging
from PIL import Image

from jaxsr import cli, inference
from jaxsr.data import face_detection, image_files

FLAGS = flags.FLAGS


def to_lr(image, side):
  """A PIL face crop -> uint8 (side, side, 3), bicubic."""
  return np.asarray(image.convert('RGB').resize((side, side), Image.BICUBIC))


def upscale_faces(model, faces, reference=None, batch_size=64):
  """uint8 (N, s, s, 3) LR faces -> uint8 SR faces, in batches of one size (the last one padded), so one shape
  compiles."""
  faces = np.asarray(faces)
  size, out = min(batch_size, len(faces)), []
  for start in range(0, len(faces), max(size, 1)):
    chunk = faces[start:start + size]
    padded = np.concatenate([chunk, np.repeat(chunk[-1:], size - len(chunk), 0)])
    refs = None if reference is None else np.repeat(reference[None], size, 0)
    out.append(model.upscale(padded, refs)[:len(chunk)])
  return np.concatenate(out) if out else np.zeros((0,), np.uint8)


def feather_mask(side, feather):
  """(side, side) weights: 1 inside, a linear fade to 0 over the outer `feather` of each edge."""
  ramp = np.clip((np.minimum(np.arange(side), np.arange(side)[::-1]) + 0.5) / max(feather * side, 1e-6), 0, 1)
  return np.minimum(ramp[:, None], ramp[None, :])


def upscale_photo(model, photo, detect, reference=None, margin=1.3, feather=0.15, batch_size=64):
  """A PIL photo -> (uint8 photo enlarged x scale with every detected face super-resolved, number of faces)."""
  scale, lr_side = model.scale, model.config.image_size // model.scale
  canvas = np.asarray(photo.resize((photo.width * scale, photo.height * scale), Image.BICUBIC), np.float32)
  boxes = []
  for face in detect(np.asarray(photo)):
    x, y, w, h = face.box
    side = margin * max(w, h)
    boxes.append((x + w / 2 - side / 2, y + h / 2 - side / 2, side))
  crops = np.stack([to_lr(photo.crop((round(x), round(y), round(x + s), round(y + s))), lr_side)
                    for x, y, s in boxes]) if boxes else np.zeros((0, lr_side, lr_side, 3), np.uint8)
  for (x, y, s), sr in zip(boxes, upscale_faces(model, crops, reference, batch_size)):
    x0, y0, side = round(x * scale), round(y * scale), round(s * scale)
    face = np.asarray(Image.fromarray(sr).resize((side, side), Image.BICUBIC), np.float32)
    weight = feather_mask(side, feather)[..., None]
    top, left = max(0, -y0), max(0, -x0)  # the part of the square inside the canvas
    bottom, right = min(side, canvas.shape[0] - y0), min(side, canvas.shape[1] - x0)
    region = canvas[y0 + top:y0 + bottom, x0 + left:x0 + right]
    w = weight[top:bottom, left:right]
    region[...] = w * face[top:bottom, left:right] + (1 - w) * region
  return np.clip(np.round(canvas), 0, 255).astype(np.uint8), len(boxes)


def output_paths(files, source, output, overwrite=False):
  """The output path of each input file (see the module docstring); raises FileExistsError, before anything is
  read, when an output would land inside the input folder or on an input, or would replace an existing file
  without `overwrite`."""
  source, output = Path(source).absolute(), Path(output).absolute()
  root = source if source.is_dir() else source.parent
  if source.is_dir() and (output.resolve() == source.resolve() or source.resolve() in output.resolve().parents):
    raise FileExistsError(f'--output={output} is inside --input={source}: its images would be read as inputs the '
                          'next time and could replace them; choose an --output outside the input folder')
  relative = [Path(f).absolute().relative_to(root) for f in files]
  plain = [r.with_suffix('.png') for r in relative]
  shared = {n for n, count in collections.Counter(plain).items() if count > 1}
  names = [r.with_name(r.name + '.png') if n in shared else n for r, n in zip(relative, plain)]
  if repeated := sorted(n for n, count in collections.Counter(names).items() if count > 1):
    raise FileExistsError(f'two inputs give the same output name: {repeated}')
  paths = [output / n for n in names]
  inputs = {Path(f).absolute() for f in files}
  if clash := [p for p in paths if p in inputs]:
    raise FileExistsError(f'the output {clash[0]} would replace its input; choose another --output')
  if not overwrite and (existing := [p for p in paths if p.exists()]):
    raise FileExistsError(f'{len(existing)} outputs exist already (e.g. {existing[0]}); nothing was written. Pass '
                          '--overwrite to replace them, or choose another --output')
  return paths


def define_flags():
  """The command line's flags, defined only when this module runs as the program (the module is a library too)."""
  cli.define_path('run', None, 'A training run directory.')
  flags.DEFINE_integer('step', None, 'Checkpoint step (default: the newest).')
  cli.define_path('input', None, 'An image or a folder of images (searched recursively).')
  cli.define_path('output', None, 'Folder for the results (PNG, same relative names); outside --input.')
  flags.DEFINE_bool('overwrite', False, 'Replace outputs that exist already.')
  flags.DEFINE_enum('mode', 'auto', ['auto', 'crop', 'photo'], 'Face crops, whole photos, or decide by size.')
  cli.define_path('reference', None, 'RefSR-VAE: a photo of the same person.')
  flags.DEFINE_integer('batch_size', 64, 'Faces super-resolved at once.', lower_bound=1)
  flags.DEFINE_float('margin', 1.3, 'Photos: side of the square cut around a face, over its box side.',
                     lower_bound=1e-3)
  flags.DEFINE_float('feather', 0.15, 'Photos: fraction of the square over which the pasted face fades.',
                     lower_bound=0.0, upper_bound=0.5)


def main(argv):
  del argv
  cli.setup_logging()
  if not (FLAGS.run and FLAGS.input and FLAGS.output):
    raise app.UsageError('--run, --input and --output are required')
  source, output = Path(FLAGS.input), Path(FLAGS.output)
  files = [source] if source.is_file() else image_files.find(source)
  targets = output_paths(files, source, output, FLAGS.overwrite)
  model = inference.load(FLAGS.run, FLAGS.step)
  lr_side = model.config.image_size // model.scale
  logging.info('%s at step %d: x%d, %d px LR faces', model.config.method, model.step, model.scale, lr_side)
  reference = None
  if FLAGS.reference:
    size = model.config.image_size
    photo = image_files.read_rgb(FLAGS.reference)
    if photo is None:
      raise app.UsageError(f'--reference: {FLAGS.reference} is not a readable image')
    reference = np.asarray(photo.resize((size, size), Image.BICUBIC))
  detect = None
  counts = {'crops': 0, 'photos': 0, 'faces in photos': 0, 'unreadable': 0}
  crops, crop_targets = [], []
  for path, target in zip(tqdm.tqdm(files, desc='upscaling', unit='image'), targets):
    image = image_files.read_rgb(path)
    if image is None:
      counts['unreadable'] += 1
      continue
    target.parent.mkdir(parents=True, exist_ok=True)
    as_crop = FLAGS.mode == 'crop' or (FLAGS.mode == 'auto' and max(image.size) <= 4 * lr_side)
    if as_crop:
      crops.append(to_lr(image, lr_side))
      crop_targets.append(target)
      counts['crops'] += 1
    else:
      detect = detect or face_detection.mtcnn_detector(min_face_size=12)
      result, found = upscale_photo(model, image, detect, reference, FLAGS.margin, FLAGS.feather, FLAGS.batch_size)
      Image.fromarray(result).save(target)
      counts['photos'] += 1
      counts['faces in photos'] += found
  for target, sr in zip(crop_targets, upscale_faces(model, crops, reference, FLAGS.batch_size)):
    Image.fromarray(sr).save(target)
  print(f'wrote {counts["crops"] + counts["photos"]} images to {output}: {counts}')


if __name__ == '__main__':
  define_flags()
  cli.run(main)
