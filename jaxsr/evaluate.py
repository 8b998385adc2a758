"""Compares trained runs and baselines on one test set: metrics.csv, metrics.md, grid.png and TensorBoard in --out.

    python -m jaxsr.evaluate --runs=runs/srresnet,runs/l2h --hr_dir=faces/ --out=eval/     # LR made by bicubic
    python -m jaxsr.evaluate --runs=runs/l2h --dataset=face_folder/celeba_hr --data_dir=/tmp/realdata --out=eval/
    python -m jaxsr.evaluate --runs=runs/l2h --lr_dir=wider_lr/ --hr_dir=faces/ --out=eval_real/  # no ground truth
    python -m jaxsr.evaluate --runs=runs/refsr_vae,runs/sisr_vae --dataset=identity_folder/celeba_ids --split=val \
        --out=eval_ref/                     # a reference photo of each person from --reference_split

Test sets. --hr_dir (or --dataset, its --split): HR faces, centre-cropped to a square and resized to the runs'
image_size with PIL BICUBIC; LR inputs made from them by --degradation (`bicubic`: PIL Image.resize(BICUBIC),
antialiased, to 1/scale). --lr_dir: real LR faces resized to the LR side with PIL BICUBIC; with --hr_dir, files of
the same name are pairs as they are, and when no name matches, the HR faces are only the reference set for the SWD.
A run that super-resolves with a reference photo (RefSR-VAE) gets, for each face, another photo of the same person
from the --reference_split of an identity dataset (--dataset=identity_folder/<name>), the same for every run.

per_face.csv has one row per face and method (PSNR, SSIM, LPIPS, LR consistency), to find the faces a method fails
on.

Rows: every run, and --baseline `bicubic`: PIL 10+ Image.resize((scale w, scale h), Image.BICUBIC) of each uint8
LR face (Keys a = -0.5), no crop, so anyone with PIL gets the same numbers from the same folders.
Columns: PSNR and SSIM on RGB and on Y (BT.601, a border of `scale` px cropped), LR consistency (PSNR of the
bicubic downscale of the output against the input), SWD (x 1e3) between the outputs and the HR set, with
--inception_weights FID and KID to the HR set (jaxsr.evaluation.fid), with --lpips LPIPS to each HR face (Zhang et al.,
CVPR 2018; jaxsr.models.lpips, lower is closer), with --niqe the NIQE of each method's outputs as a set (all
their patches together; no reference needed, so it scores real LR faces too; jaxsr.evaluation.niqe, lower is more
natural), parameters, and inference images/s (after compilation).
"""
import collections
import csv
import time
from pathlib import Path

import jax
import numpy as np
from absl import app, flags, logging
from PIL import Image

from jaxsr.core import cli, images, metrics
from jaxsr.data import degradations, image_files, pipeline
from jaxsr.evaluation import fid, niqe
from jaxsr.models import lpips
from jaxsr.training import summary
from jaxsr.using import inference

FLAGS = flags.FLAGS
PAIRED = ('psnr', 'ssim', 'psnr_y', 'ssim_y')
COLUMNS = ('method', 'step', *PAIRED, 'lpips', 'lr_consistency', 'swd', 'niqe', 'fid', 'kid', 'parameters',
           'images_per_second')


def read_folder(folder, size):
  """{name: uint8 (size, size, 3)}, centre square crops, named by the path relative to `folder` without its
  suffix (so that `a.png` pairs with `a.jpg`), or with it where two files share a stem (`a.jpg` and `a.png` are
  two faces); unreadable files are skipped and counted in the log."""
  files = image_files.find(folder)
  stems = collections.Counter(p.relative_to(folder).with_suffix('') for p in files)
  faces, skipped = {}, 0
  for path in files:
    image = image_files.read_rgb(path)
    if image is None:
      skipped += 1
      continue
    side = min(image.size)
    box = ((image.width - side) // 2, (image.height - side) // 2)
    image = image.crop((*box, box[0] + side, box[1] + side)).resize((size, size), Image.BICUBIC)
    relative = path.relative_to(folder)
    faces[str(relative if stems[relative.with_suffix('')] > 1 else relative.with_suffix(''))] = np.asarray(image)
  if skipped:
    logging.warning('%s: skipped %d unreadable files', folder, skipped)
  if not faces:
    raise FileNotFoundError(f'no readable images under {folder}')
  return faces


def test_set(size, scale, hr_dir=None, lr_dir=None, dataset=None, data_dir=None, degradation='bicubic', limit=0,
             split='test', reference_split=None, partial_pairs=False):
  """{'lr': uint8 LR inputs, 'hr': ground truth or None, 'reference': the HR set for the SWD, 'names': each
  face's name (its file's, or its index in the dataset's split), and with
  `reference_split` (of an identity `dataset`) 'guides': another photo of each face's person}. LR and HR folders
  whose names match only in part are refused, naming what is unmatched, unless `partial_pairs`."""
  guides = None
  if dataset:
    source = pipeline.data_source(dataset, split, data_dir)
    count = limit or 10 ** 9
    if reference_split:
      found = pipeline.reference_examples(source, count, pipeline.data_source(dataset, reference_split, data_dir))
      hr, guides = found['hr'], _resized(found['reference'], size)
    elif degradation == pipeline.DATASET_LR:  # a paired dataset: its own LR faces
      pipeline.check_features(source, ['image', 'lr'])
      found = pipeline.first_examples(source, count, ['image', 'lr'])
      if found['lr'].shape[1] * scale != size:
        raise ValueError(f"--degradation=dataset: {dataset}'s LR faces are {found['lr'].shape[1]} px; the model "
                         f'takes {size // scale} px')
      return {'lr': found['lr'], 'hr': _resized(found['image'], size), 'reference': _resized(found['image'], size),
              'names': [str(i) for i in range(len(found['lr']))]}
    else:
      hr = pipeline.first_examples(source, count, ['image'])['image']
    hr_faces = dict(enumerate(_resized(hr, size)))
  else:
    hr_faces = read_folder(hr_dir, size) if hr_dir else {}
  if lr_dir:
    lr_faces = read_folder(lr_dir, size // scale)
    shared = sorted(set(lr_faces) & set(hr_faces))
    if shared:
      lone_lr, lone_hr = sorted(set(lr_faces) - set(hr_faces)), sorted(set(hr_faces) - set(lr_faces))
      if lone_lr or lone_hr:
        message = (f'{len(shared)} faces pair by name; {len(lone_lr)} in --lr_dir have no HR face (e.g. '
                   f'{lone_lr[:3]}) and {len(lone_hr)} in --hr_dir have no LR face (e.g. {lone_hr[:3]})')
        if not partial_pairs:
          raise ValueError(f'{message}. Evaluate the pairs only with --partial_pairs, or fix the folders')
        logging.warning('%s; evaluating the %d pairs (--partial_pairs).', message, len(shared))
      names = shared[:limit] if limit else shared
      return {'lr': np.stack([lr_faces[n] for n in names]), 'hr': np.stack([hr_faces[n] for n in names]),
              'reference': np.stack([hr_faces[n] for n in names]), 'names': names}
    names = sorted(lr_faces)[:limit] if limit else sorted(lr_faces)
    reference = np.stack(list(hr_faces.values())) if hr_faces else None
    return {'lr': np.stack([lr_faces[n] for n in names]), 'hr': None, 'reference': reference, 'names': names}
  if not hr_faces:
    raise ValueError('name a test set: --hr_dir, --dataset, or --lr_dir')
  names = [str(n) for n in sorted(hr_faces)][:limit or None]
  hr = np.stack([hr_faces[n] for n in sorted(hr_faces)][:limit or None])
  degrade = degradations.get(degradation)
  lr = np.stack([degrade(x, np.random.default_rng([i]), scale) for i, x in enumerate(hr)])
  return {'lr': lr, 'hr': hr, 'reference': hr, 'names': names,
          **({'guides': guides[:len(hr)]} if guides is not None else {})}


def _resized(faces, size):
  if faces.shape[1] == size:
    return faces
  return np.stack([np.asarray(Image.fromarray(x).resize((size, size), Image.BICUBIC)) for x in faces])


def score(sr, lr, hr, reference, scale, features=None, reference_features=None, lpips_distance=None,
          niqe_model=None):
  """The metric columns for one method's uint8 outputs, and under 'per_face' each face's own values of the
  per-face columns (PSNR, SSIM, LPIPS, LR consistency); FID and KID to the reference set when `features` (an
  InceptionFeatures) is given, LPIPS to the HR faces with `lpips_distance` (a jaxsr.models.lpips.Distance), NIQE
  of the outputs as a set with `niqe_model` (a jaxsr.niqe.Model)."""
  f = images.to_float
  faces = {'lr_consistency': metrics.per_image(metrics.lr_consistency, f(sr), f(lr))}
  if hr is not None:
    faces.update(metrics.per_image(lambda x, y: metrics.fidelity(x, y, scale), f(sr), f(hr)))
    if lpips_distance is not None:
      faces['lpips'] = lpips_distance(sr, hr)
  faces = {k: np.asarray(v) for k, v in faces.items()}
  row = {k: float(v.mean()) for k, v in faces.items()}  # each metric is a mean over faces
  row['per_face'] = faces
  if reference is not None:
    count = min(len(sr), len(reference))
    row['swd'] = float(metrics.swd(f(sr[:count]), f(reference[:count]), jax.random.PRNGKey(0))[0])
  if niqe_model is not None:
    row['niqe'] = niqe.score_set(sr, niqe_model)
  if features is not None and reference_features is not None:
    sr_features = features(sr)
    row.update(fid=fid.frechet_distance(sr_features, reference_features),
               kid=fid.kernel_inception_distance(sr_features, reference_features))
  return row


def run_model(model, lr, batch_size, guides=None):
  """(uint8 outputs, images/s after a compiling first batch). `guides`: a reference photo for each LR face, for a
  model that needs one."""
  if model.needs_reference and guides is None:
    raise ValueError(f'{model.run}: a {model.config.method} run needs a reference photo of each person: evaluate '
                     'on an identity dataset (--dataset=identity_folder/<name> --reference_split=train)')
  chunk = lambda x, i: None if x is None else x[i:i + batch_size]  # noqa: E731
  first = model.upscale(lr[:batch_size], chunk(guides, 0))
  start = time.perf_counter()
  rest = [model.upscale(lr[i:i + batch_size], chunk(guides, i)) for i in range(batch_size, len(lr), batch_size)]
  timed = len(lr) - len(first)
  if not timed:  # a test set of one batch: time it again, compiled
    timed = len(model.upscale(lr[:batch_size], chunk(guides, 0)))
  return np.concatenate([first, *rest]), timed / (time.perf_counter() - start)


def evaluate(runs, baselines, data, scale, batch_size=50, features=None, lpips_distance=None, niqe_model=None):
  """Rows of COLUMNS for every baseline and run, and the grid's columns. `features`: an InceptionFeatures, for
  FID and KID; `lpips_distance`: a jaxsr.models.lpips.Distance; `niqe_model`: a jaxsr.niqe.Model."""
  rows, columns = [], {'LR': images.to_float(data['lr'][:8])}
  reference_features = features(data['reference']) if features and data['reference'] is not None else None
  measure = lambda sr: score(sr, data['lr'], data['hr'], data['reference'], scale, features,  # noqa: E731
                             reference_features, lpips_distance, niqe_model)
  for name in baselines:
    if name != 'bicubic':
      raise ValueError(f"--baseline: unknown '{name}' (known: bicubic)")
    sr = np.stack([degradations.upscale_bicubic(x, scale) for x in data['lr']])
    rows.append({'method': 'bicubic (PIL)', 'step': '', **measure(sr)})
    columns['bicubic'] = images.to_float(sr[:8])
  for model in runs:
    sr, rate = run_model(model, data['lr'], batch_size, data.get('guides'))
    rows.append({'method': f'{model.run.name} ({model.config.method})', 'step': model.step, **measure(sr),
                 'parameters': model.parameters, 'images_per_second': rate})
    columns[f'{model.run.name}, step {model.step}'] = images.to_float(sr[:8])
  if data['hr'] is not None:
    columns['HR'] = images.to_float(data['hr'][:8])
  return rows, columns


def write_per_face(rows, names, path):
  """One CSV row per face and method, its per-face columns: the faces a method fails on, found by sorting. Rows
  of set-level metrics only (SWD) write none."""
  per_face = [c for c in COLUMNS if any(c in r.get('per_face', {}) for r in rows)]
  if not per_face:
    return
  if names is None:
    names = [str(i) for i in range(max(len(v) for r in rows for v in r.get('per_face', {}).values()))]
  with open(path, 'w', newline='') as f:
    writer = csv.writer(f)
    writer.writerow(['face', 'method', *per_face])
    for r in rows:
      values = r.get('per_face', {})
      for i, name in enumerate(names):
        writer.writerow([name, r['method'], *(f'{values[c][i]:.6g}' if c in values else '' for c in per_face)])


def write(rows, columns, out, title, names=None):
  """metrics.csv, metrics.md, per_face.csv, grid.png and TensorBoard (the table as text, the grid as an image) in
  `out`; `names` name the faces of per_face.csv (default: their index in the test set)."""
  out = Path(out)
  out.mkdir(parents=True, exist_ok=True)
  present = [c for c in COLUMNS if any(c in r for r in rows)]
  write_per_face(rows, names, out / 'per_face.csv')
  with open(out / 'metrics.csv', 'w', newline='') as f:
    writer = csv.DictWriter(f, present)
    writer.writeheader()
    writer.writerows({c: r.get(c, '') for c in present} for r in rows)

  def cell(value, column):
    if value in ('', None):
      return ''
    if column in ('psnr', 'psnr_y', 'lr_consistency', 'swd', 'niqe', 'fid'):
      return f'{value:.2f}'
    if column in ('ssim', 'ssim_y', 'lpips', 'kid'):
      return f'{value:.4f}'
    if column == 'images_per_second':
      return f'{value:.0f}'
    return f'{value:,}' if isinstance(value, int) else str(value)

  table = '\n'.join([f'### {title}\n', '| ' + ' | '.join(present) + ' |', '|' + '---|' * len(present),
                     *('| ' + ' | '.join(cell(r.get(c, ''), c) for c in present) + ' |' for r in rows)]) + '\n'
  (out / 'metrics.md').write_text(table)
  grid = images.grid(columns, title=title)
  Image.fromarray(grid).save(out / 'grid.png')
  writer = summary.Writer(out)
  writer.text('metrics', table)
  writer.image(0, 'grid', grid)
  writer.close()
  return table


def check_output_folder(out, inputs):
  """Refuses an --out inside (or equal to) an input folder: its grid.png would be read as a face next time."""
  out = Path(out).expanduser().resolve()
  for flag, folder in inputs.items():
    if folder and (out == Path(folder).expanduser().resolve() or Path(folder).expanduser().resolve() in out.parents):
      raise ValueError(f'--out={out} is inside {flag}={folder}: its images would be read as faces the next time; '
                       'choose an --out outside the input folders')


def geometry(runs, image_size=None, scale=None):
  """(image_size, scale) of the runs, which must agree, checked against the flags that set them (None: unset);
  without runs, the flags or 64 px, x4."""
  found = {(m.config.image_size, m.scale) for m in runs}
  if len(found) > 1:
    raise ValueError(f'the runs differ in (image_size, scale): {sorted(found)}; compare runs of one geometry')
  if not found:
    return image_size or 64, scale or 4
  size, factor = found.pop()
  for flag, value, run_value in (('--image_size', image_size, size), ('--scale', scale, factor)):
    if value is not None and value != run_value:
      raise ValueError(f'{flag}={value}, but the runs were trained at {run_value}: drop {flag}')
  return size, factor


def define_flags():
  """The command line's flags, defined only when this module runs as the program (the module is a library too)."""
  flags.DEFINE_list('runs', [], 'Run directories (their newest checkpoints).')
  flags.DEFINE_list('baseline', ['bicubic'], 'Baselines: bicubic.')
  cli.define_path('hr_dir', None, 'A folder of HR faces.')
  cli.define_path('lr_dir', None, 'A folder of real LR faces (pairs with --hr_dir by file name).')
  flags.DEFINE_string('dataset', None, 'A tfds dataset name instead of --hr_dir.')
  flags.DEFINE_string('split', 'test', "--dataset's split to evaluate on.")
  flags.DEFINE_string('reference_split', 'train', "Runs that need a reference photo: the identity dataset's split "
                      'it comes from.')
  cli.define_path('data_dir', None, 'tfds data dir for --dataset.')
  flags.DEFINE_integer('scale', None, "Upscaling factor (default: the runs'; 4 without runs).")
  flags.DEFINE_integer('image_size', None, "HR side (default: the runs'; 64 without runs).")
  flags.DEFINE_string('degradation', 'bicubic', "How LR inputs are made from HR faces ('dataset': a paired_folder "
                      "dataset's own LR faces).")
  flags.DEFINE_integer('limit', 0, 'Use at most this many faces (0: all).', lower_bound=0)
  flags.DEFINE_bool('partial_pairs', False, '--lr_dir with --hr_dir: evaluate the faces whose names match even when '
                    'others do not (they are named and refused by default).')
  cli.define_path('out', None, 'Output folder.')
  cli.define_path('inception_weights', None, 'An .npz from jaxsr.convert_inception: adds FID and KID.')
  cli.define_path('lpips', None, 'An .npz from jaxsr.convert_lpips: adds LPIPS to the HR faces.')
  cli.define_path('niqe', None, "A NIQE model (.npz of `python -m jaxsr.niqe --fit`), or 'pristine' for the "
                  'release\'s (96 px patches: images of 192 px and more): adds NIQE of each set of outputs.')


def main(argv):
  del argv
  cli.setup_logging()
  if not FLAGS.out:
    raise app.UsageError('--out is required')
  check_output_folder(FLAGS.out, {'--hr_dir': FLAGS.hr_dir, '--lr_dir': FLAGS.lr_dir})
  runs = [inference.load(r) for r in FLAGS.runs]
  size, scale = geometry(runs, FLAGS.image_size, FLAGS.scale)
  guided = any(m.needs_reference for m in runs)
  data = test_set(size, scale, FLAGS.hr_dir, FLAGS.lr_dir, FLAGS.dataset, FLAGS.data_dir, FLAGS.degradation,
                  FLAGS.limit, FLAGS.split, FLAGS.reference_split if guided and FLAGS.dataset else None,
                  FLAGS.partial_pairs)
  source = FLAGS.dataset or ' + '.join(filter(None, (FLAGS.lr_dir, FLAGS.hr_dir)))
  kind = 'paired' if data['hr'] is not None else 'real LR, no ground truth'
  features = fid.InceptionFeatures(FLAGS.inception_weights) if FLAGS.inception_weights else None
  distance = lpips.Distance(FLAGS.lpips) if FLAGS.lpips else None
  niqe_model = None
  if FLAGS.niqe:
    niqe_model = niqe.default_model() if FLAGS.niqe == 'pristine' else niqe.load(FLAGS.niqe, '--niqe')
    if size < niqe_model.patch:
      raise ValueError(f'--niqe: its patches are {niqe_model.patch} px, the outputs {size} px; fit a model of '
                       f'smaller patches: python -m jaxsr.niqe --fit --patch={size // 2} ...')
  if distance is not None and data['hr'] is None:
    raise ValueError('--lpips compares each output with its HR face; these real LR faces have none')
  rows, columns = evaluate(runs, FLAGS.baseline, data, scale, features=features, lpips_distance=distance,
                           niqe_model=niqe_model)
  title = (f'{source}: {len(data["lr"])} faces, x{scale} ({kind}; {jax.device_count()} x '
           f'{jax.devices()[0].device_kind}, jax {jax.__version__})')
  print(write(rows, columns, FLAGS.out, title, data['names']))
  print(f'wrote {FLAGS.out}/metrics.csv, metrics.md, per_face.csv, grid.png')


def run():
  """The command: `python -m jaxsr.evaluate`, or `jaxsr-evaluate` once installed."""
  define_flags()
  cli.run(main)


if __name__ == '__main__':
  run()
