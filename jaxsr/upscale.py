"""Super-resolves face crops or whole photos with a trained run.

    python -m jaxsr.upscale --run=runs/srresnet --input=faces/ --output=out/          # newest checkpoint
    python -m jaxsr.upscale --run=runs/srresnet --step=50000 --input=group.jpg --output=out/
    python -m jaxsr.upscale --run=runs/refsr_vae --input=lr/ --reference=me.jpg --output=out/

Outputs are PNGs named after the input's path under --input (`sub/a.jpg` -> `sub/a.png`; when two inputs would
share a name, as `a.jpg` and `a.png` do, both keep their suffix: `a.jpg.png`, `a.png.png`). Nothing is
overwritten: an --output inside --input (its outputs would be read as inputs next time, and could replace them) and
existing outputs (without --overwrite) stop the tool before it reads a single image.

A face crop is resized to the run's LR side (image_size / scale, bicubic) and super-resolved. In a whole photo
MTCNN finds the faces and their five landmarks; each face is aligned to the template the training faces were
aligned to (jaxsr.data.alignment, as jaxsr.data.prepare aligns HR faces), super-resolved, and pasted back through
the inverse transform into the photo enlarged by bicubic x --upscale, under a mask that fades over the outer
--feather of the aligned square, so no seam shows. A fully convolutional network takes each face at its own size
(a 40 px face from 40 px, not from a shrink to 16); others take their training input size. A photo whose
enlargement would exceed --max_megapixels is refused before any image is decoded. `--mode=auto` treats images no
larger than 4 LR sides as crops and others as photos.
"""
import collections
from pathlib import Path

import numpy as np
import tqdm
from absl import app, flags, logging
from PIL import Image

from jaxsr.core import cli
from jaxsr.data import alignment, image_files, mtcnn
from jaxsr.using import inference

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


def input_side(model, landmarks, native=True, quantum=4):
  """The side of the aligned LR square a face goes in at. A fully convolutional network (with `native`) takes a
  face at its own size in the photo, rounded to `quantum` px so that few shapes compile, but never below the
  network's LR side: a smaller face is enlarged to it, the scale the network learned faces at. Other networks
  take their LR side."""
  lr_side = model.config.image_size // model.scale
  if not (native and model.fully_convolutional):
    return lr_side
  own = lr_side / alignment.scale_of(alignment.to_template(landmarks, lr_side))
  return max(lr_side, quantum * round(own / quantum))


def upscale_photo(model, photo, detect, reference=None, factor=None, native=True, feather=0.15, batch_size=64):
  """A PIL photo -> (uint8 photo enlarged x `factor` (default: the model's scale), every detected face
  super-resolved and pasted back, the number of faces).

  Each face is aligned by its five landmarks to the template the training faces were aligned to (a similarity
  transform), at its own size for a fully convolutional network (`native`), else at the network's input size;
  the output goes back through the inverse transform, at the photo's new size, under a mask that fades over the
  outer `feather` of the aligned square. Elsewhere the photo is its bicubic enlargement."""
  factor = factor or model.scale
  size = (round(photo.width * factor), round(photo.height * factor))
  canvas = np.array(photo.resize(size, Image.BICUBIC))
  # canvas -> photo coordinates (each axis exactly, as PIL's resize)
  from_canvas = np.array([[photo.width / size[0], 0, 0], [0, photo.height / size[1], 0]])
  faces = [(f.landmarks, input_side(model, f.landmarks, native)) for f in detect(np.asarray(photo))]
  by_side = collections.defaultdict(list)
  for k, (landmarks, side) in enumerate(faces):
    by_side[side].append(k)
  outputs = {}
  for side, members in by_side.items():
    crops = [np.asarray(alignment.warp(photo, alignment.invert(alignment.to_template(faces[k][0], side)),
                                       (side, side))) for k in members]
    outputs.update(zip(members, upscale_faces(model, np.stack(crops), reference, batch_size)))
  for k, (landmarks, side) in enumerate(faces):
    sr = outputs[k]
    # canvas -> the SR face's coordinates: the aligned LR square's, times the network's scale
    to_face = alignment.compose(np.diag([model.scale, model.scale]) @ alignment.to_template(landmarks, side),
                                from_canvas)
    corners = alignment.apply(alignment.invert(to_face), np.array([[0, 0], [1, 0], [0, 1], [1, 1]]) * sr.shape[0])
    (x0, y0), (x1, y1) = np.floor(corners.min(0)).astype(int), np.ceil(corners.max(0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, size[0]), min(y1, size[1])
    if x1 <= x0 or y1 <= y0:
      continue  # the face's square lies outside the photo
    box_to_face = alignment.compose(to_face, np.array([[1.0, 0, x0], [0, 1.0, y0]]))
    pasted = np.asarray(alignment.warp(Image.fromarray(sr), box_to_face, (x1 - x0, y1 - y0)), np.float32)
    mask = Image.fromarray(feather_mask(sr.shape[0], feather).astype(np.float32), 'F')
    weight = np.asarray(alignment.warp(mask, box_to_face, (x1 - x0, y1 - y0), Image.BILINEAR))[..., None]
    region = canvas[y0:y1, x0:x1]
    region[...] = np.clip(np.round(weight * pasted + (1 - weight) * region), 0, 255).astype(np.uint8)
  return canvas, len(faces)


def check_photo_size(path, size, factor, max_megapixels):
  """Refuses a photo of `size` (width, height) whose enlargement would exceed `max_megapixels`."""
  width, height = size
  megapixels = width * height * factor ** 2 / 1e6
  if megapixels > max_megapixels:
    raise ValueError(f'{path}: {width}x{height} x{factor:g} would be {megapixels:,.1f} megapixels, above '
                     f'--max_megapixels={max_megapixels:g}; raise it if '
                     'this machine has the memory, or shrink the photo')


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
  flags.DEFINE_float('upscale', None, "Photos: the photo's enlargement (default: the network's scale).",
                     lower_bound=0.1)
  flags.DEFINE_bool('native', True, 'Photos: a fully convolutional network takes each face at its own size; '
                    "--nonative resizes every face to the network's training input.")
  flags.DEFINE_float('feather', 0.15, 'Photos: fraction of the aligned face square over which it fades.',
                     lower_bound=0.0, upper_bound=0.5)
  flags.DEFINE_float('max_megapixels', 64.0, 'Photos: larger enlargements are refused before any is read.',
                     lower_bound=0.0)


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
  factor = FLAGS.upscale or model.scale
  is_crop = lambda size: FLAGS.mode == 'crop' or (FLAGS.mode == 'auto' and max(size) <= 4 * lr_side)  # noqa: E731
  for path in files:  # every photo's size from its header, before any is decoded
    try:
      with Image.open(path) as image:
        size = image.size
    except (OSError, ValueError, Image.DecompressionBombError):
      continue  # counted as unreadable below
    if not is_crop(size):
      check_photo_size(path, size, factor, FLAGS.max_megapixels)
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
    if is_crop(image.size):
      crops.append(to_lr(image, lr_side))
      crop_targets.append(target)
      counts['crops'] += 1
    else:
      detect = detect or mtcnn.detector(min_face_size=12)
      result, found = upscale_photo(model, image, detect, reference, factor, FLAGS.native, FLAGS.feather,
                                    FLAGS.batch_size)
      Image.fromarray(result).save(target)
      counts['photos'] += 1
      counts['faces in photos'] += found
  for target, sr in zip(crop_targets, upscale_faces(model, crops, reference, FLAGS.batch_size)):
    Image.fromarray(sr).save(target)
  print(f'wrote {counts["crops"] + counts["photos"]} images to {output}: {counts}')


def run():
  """The command: `python -m jaxsr.upscale`, or `jaxsr-upscale` once installed."""
  define_flags()
  cli.run(main)


if __name__ == '__main__':
  run()
