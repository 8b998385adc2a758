"""Reading datasets with tfds data sources and grain: random access, deterministic order, per-host shards.

Examples stay uint8 on the host (4x less to copy); methods convert them to float on the device.
"""
import os
import re
import shutil
from pathlib import Path

import grain
import numpy as np
import tensorflow_datasets as tfds
from absl import logging

from jaxsr.data import builders, degradations

EMBEDDED = {'procedural_faces': builders.ProceduralFaces, 'procedural_identities': builders.ProceduralIdentities}
FOLDERS = {'face_folder': builders.FaceFolder, 'lr_face_folder': builders.LrFaceFolder,
           'identity_folder': builders.IdentityFolder, 'paired_folder': builders.PairedFolder}
DATASET_LR = 'dataset'  # config.degradation of a paired dataset: its own LR faces (feature `lr`), none made


def default_data_dir():
  return os.environ.get('TFDS_DATA_DIR', str(Path.home() / 'tensorflow_datasets'))


def make_builder(cls, data_dir, **kwargs):
  """Every builder writes ArrayRecord: grain reads it by index, and writing it needs no TensorFlow."""
  return cls(data_dir=data_dir, file_format='array_record', **kwargs)


_NAME = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]*')


def check_name(name, what='--name'):
  """A folder dataset's name is one plain folder name: `../x` or `/x` would build (and --overwrite delete) outside
  the data dir."""
  if not _NAME.fullmatch(name or ''):
    raise ValueError(f'{what}: {name!r} is not a dataset name: use letters, digits, _ . and - only, starting with '
                     f'a letter, digit or _ (no folders)')
  return name


def build_folder_dataset(cls, config, data_dir, overwrite=False):
  """Builds `<kind>/<config.name>` from a folder (a FOLDERS builder and its config) and returns the builder.

  A dataset of that name built from the same source and options is reused. One built from another folder or
  with other options is refused (FileExistsError naming what differs) unless `overwrite`, which rebuilds it: a
  stale dataset reported as built would train on data other than what the command named. A build that leaves a
  split without examples (every file skipped) is not kept; the error gives the skip counts.
  """
  check_name(config.name)
  builders.check_crop(config.crop)
  builder = make_builder(cls, data_dir, config=config)
  wanted = builders.source_record(config)
  if builder.is_prepared():
    have = dict(builder.info.metadata or {}).get('source') or {}  # {}: built before sources were recorded
    if have == wanted:
      logging.info('%s/%s is built from the same source and options: reusing it', builder.name, config.name)
      return builder
    differing = {k: have.get(k) for k in wanted if have.get(k) != wanted[k]}
    if not overwrite:
      raise FileExistsError(
          f'{builder.name}/{config.name} in {data_dir} was built from another source or with other options ('
          + ', '.join(f'{k}: {v!r} there, {wanted[k]!r} now' for k, v in differing.items())
          + '); nothing was changed. Pass --overwrite to rebuild it, or choose another --name')
    logging.warning('Rebuilding %s/%s (--overwrite): %s changed', builder.name, config.name, sorted(differing))
    shutil.rmtree(builder.data_dir)
    builder = make_builder(cls, data_dir, config=config)
  try:
    builder.download_and_prepare()
  except AssertionError as error:  # tfds refuses to write a split every file of which was skipped
    if 'No examples were yielded' not in str(error):
      raise
    shutil.rmtree(builder.data_dir, ignore_errors=True)
    raise ValueError(f'{builder.name}/{config.name}: {str(error).splitlines()[0]} Every image of that split under '
                     f'{config.path} was skipped (skipped: {dict(builder.info.metadata).get("skipped")}); the '
                     'dataset was not kept. Add images, or loosen --min_size / --max_size') from None
  return builder


def data_source(name, split, data_dir=None):
  """The random-access source of `name` ('procedural_faces[/config]' or 'face_folder/<name>', ...); several names
  joined by '+' read as one set, their examples one after the other (`Concatenated`).

  The embedded procedural faces are built on first use; folder datasets must have been built with
  `python -m jaxsr.data.build`.
  """
  if '+' in name:
    return Concatenated({part: data_source(part, split, data_dir) for part in name.split('+')})
  data_dir = os.path.expanduser(data_dir or default_data_dir())
  family, _, config = name.partition('/')
  if family in EMBEDDED:
    known = [c.name for c in EMBEDDED[family].BUILDER_CONFIGS]
    if config and config not in known:
      raise ValueError(f"Dataset '{name}': {family} has no config '{config}'; known: {', '.join(known)}")
    builder = make_builder(EMBEDDED[family], data_dir, config=config or None)
    if not builder.is_prepared():
      logging.info('Building the embedded dataset %s in %s (once; a few minutes for 50,000 faces).', name, data_dir)
      builder.download_and_prepare()
    return builder.as_data_source(split)
  if family in FOLDERS and config:
    check_name(config, f"Dataset '{name}'")
  versions = sorted(Path(data_dir, name).glob('*.*.*')) if family in FOLDERS and config else []
  if not versions:
    raise FileNotFoundError(
        f"Dataset '{name}' is not built under {data_dir}. Known: "
        f"{', '.join(EMBEDDED)}[/config], or face_folder/<name> and lr_face_folder/<name> built by "
        f"`python -m jaxsr.data.build {family if family in FOLDERS else 'face_folder'} --path=... --name=...`.")
  return tfds.builder_from_directory(str(versions[-1])).as_data_source(split)


class Concatenated:
  """Random access to the examples of several sources, one after the other: a training set of two folders (faces
  of other photographers, resolutions or crops). Their examples must have the same features of the same shapes and
  types; a source that differs is named with what differs, before any work is done."""

  def __init__(self, sources):
    self.names, self.sources = list(sources), list(sources.values())
    shapes = {name: _signature(s) for name, s in sources.items()}
    first, expected = self.names[0], shapes[self.names[0]]
    for name, shape in shapes.items():
      if shape != expected:
        raise ValueError(f"dataset '{'+'.join(self.names)}': {name} has features {shape}, {first} has {expected}; "
                         'concatenate only datasets built alike (the same --image_size, and features)')
    self.ends = np.cumsum([len(s) for s in self.sources])

  def __len__(self):
    return int(self.ends[-1])

  def __getitem__(self, i):
    if not 0 <= i < len(self):
      raise IndexError(f'example {i} of {len(self)}')
    which = int(np.searchsorted(self.ends, i, side='right'))
    return self.sources[which][i - (int(self.ends[which - 1]) if which else 0)]


def _signature(source):
  """{feature: (shape, dtype), or 'text'} of the source's first example ({} when it has none)."""
  return {k: 'text' if isinstance(v, (bytes, str)) else (np.shape(v), np.asarray(v).dtype.str)
          for k, v in (source[0] if len(source) else {}).items()}


class Field(grain.transforms.Map):
  """Picks one feature of an example and renames it."""

  def __init__(self, key, name):
    self.key, self.name = key, name

  def map(self, example):
    return {self.name: example[self.key]}


def shuffled(source, key, name, seed):
  """An endless stream of one feature, reshuffled every epoch."""
  return grain.MapDataset.source(source).shuffle(seed=seed).repeat().map(Field(key, name))


MIRRORED_LANDMARKS = [1, 0, 2, 4, 3]  # a flip swaps the eyes and the mouth corners


def flip_landmarks(landmarks, width):
  """The landmarks of the horizontally flipped image, still ordered left to right."""
  flipped = landmarks[MIRRORED_LANDMARKS].copy()
  flipped[:, 0] = width - 1 - flipped[:, 0]
  return flipped


class DegradedPair(grain.transforms.RandomMap):
  """HR image -> {'hr', 'lr'[, 'landmarks']}: an optional horizontal flip and `augment` (jaxsr.data.augment),
  then `degradation`
  (jaxsr.data.degradations; None: no 'lr', for a degradation made on the device). With `landmarks_key`, the
  face's landmarks come along, flipped with it; the features in `carry` (a reference photo) come along unchanged.

  The generator grain passes is seeded by the pipeline seed and the element's index, so a pair is the same in
  every run and after a resume, and a random-strength degradation differs from epoch to epoch.
  """

  def __init__(self, key, degradation, scale, flip, landmarks_key=None, carry=(), augment=None):
    if augment is not None and landmarks_key:
      raise ValueError('config.jitter: the augmentation moves the face, and its landmarks would not follow')
    self.own_lr = degradation == DATASET_LR
    if augment is not None and self.own_lr:
      raise ValueError("config.jitter: the augmentation moves the HR face, and the dataset's own LR face would not "
                       'follow; set config.jitter to empty')
    self.key, self.scale, self.flip, self.augment = key, scale, flip, augment
    self.degrade = None if degradation is None or self.own_lr else degradations.get(degradation)
    self.landmarks_key, self.carry = landmarks_key, carry

  def random_map(self, example, rng):
    hr = example[self.key]
    flipped = self.flip and rng.random() < 0.5
    if flipped:
      hr = hr[:, ::-1]
    if self.augment is not None:
      hr = self.augment(np.ascontiguousarray(hr), rng)
    pair = {'hr': np.ascontiguousarray(hr)}
    if self.own_lr:
      pair['lr'] = np.ascontiguousarray(example['lr'][:, ::-1] if flipped else example['lr'])
    elif self.degrade is not None:
      pair['lr'] = self.degrade(hr, rng, self.scale)
    if self.landmarks_key:
      landmarks = example[self.landmarks_key]
      pair['landmarks'] = flip_landmarks(landmarks, hr.shape[1]) if flipped else landmarks
    return {**pair, **{k: example[k] for k in self.carry}}


def paired(source, key, degradation, scale, seed, flip=False, landmarks_key=None, augment=None):
  """An endless stream of {'hr', 'lr'[, 'landmarks']} pairs made from feature `key` (or, with degradation
  DATASET_LR, taken from a paired dataset), reshuffled every epoch."""
  check_features(source, [key, *([landmarks_key] if landmarks_key else []), *(['lr'] if degradation == DATASET_LR
                                                                               else [])])
  dataset = grain.MapDataset.source(source).shuffle(seed=seed).repeat()
  return dataset.random_map(DegradedPair(key, degradation, scale, flip, landmarks_key, augment=augment), seed=seed)


def check_features(source, keys):
  """Names a feature the dataset lacks, and the features it has, before any work is done."""
  have = source[0].keys() if len(source) else ()
  missing = [k for k in keys if k not in have]
  if missing:
    raise KeyError(f'the dataset has no feature {missing}; it has {sorted(have)}')


def paired_examples(source, count, key, degradation, scale, landmarks_key=None):
  """The first `count` examples as fixed {'hr', 'lr', 'bicubic'[, 'landmarks']} pairs: an evaluation set.

  Example i is degraded with numpy generator [i], so every run, method and tool sees the same LR inputs;
  'bicubic' is PIL's bicubic enlargement of 'lr', the baseline anyone can reproduce.
  """
  keys = [key, *([landmarks_key] if landmarks_key else []), *(['lr'] if degradation == DATASET_LR else [])]
  check_features(source, keys)
  examples = first_examples(source, count, keys)
  extra = {'landmarks': examples[landmarks_key]} if landmarks_key else {}
  return {**degraded(examples[key], degradation, scale, examples.get('lr')), **extra}


def degraded(hr, degradation, scale, own_lr=None):
  """Fixed {'hr', 'lr', 'bicubic'} of a batch of HR faces: LR i is made with numpy generator [i] (or, with
  degradation DATASET_LR, is `own_lr`, the dataset's)."""
  if degradation == DATASET_LR:
    lr = own_lr
  else:
    degrade = degradations.get(degradation)
    lr = np.stack([degrade(image, np.random.default_rng([i]), scale) for i, image in enumerate(hr)])
  return {'hr': hr, 'lr': lr, 'bicubic': np.stack([degradations.upscale_bicubic(image, scale) for image in lr])}


def unpaired(first, second):
  """Zips two endless datasets element by element: e.g. HR faces with independently shuffled real LR faces."""
  return grain.experimental.ZipMapDataset([first, second]).map(lambda pair: {**pair[0], **pair[1]})


def host_batches(dataset, global_batch_size, process_index, process_count):
  """This process's part of every global batch.

  Global batch j is elements [j * B, (j + 1) * B) of `dataset` whatever the process count, so N processes
  see together exactly what one process would.
  """
  if global_batch_size % process_count:
    raise ValueError(f'batch_size {global_batch_size} does not split over {process_count} processes')
  local = global_batch_size // process_count
  return dataset.batch(local, drop_remainder=True)[process_index::process_count]


def iterator(dataset, num_threads=4, prefetch=8):
  """A prefetching iterator whose `get_state()` / `set_state()` save and restore the data position."""
  read = grain.ReadOptions(num_threads=num_threads, prefetch_buffer_size=prefetch)
  return iter(dataset.to_iter_dataset(read))


def true_degradations(source, count):
  """{'degraded': the true LR of each of the first `count` faces} when the dataset records how its faces were
  degraded (the embedded procedural faces: their hidden degradation), else {}: what H2L's output is compared to."""
  if 'degraded' not in (source[0] if len(source) else {}):
    return {}
  return first_examples(source, count, ['degraded'])


def first_examples(source, count, keys):
  """The first `count` examples of a source as one batch: a fixed evaluation set."""
  count = min(count, len(source))
  examples = [source[i] for i in range(count)]
  return {k: np.stack([e[k] for e in examples]) for k in keys}


def photos_by_identity(source):
  """{identity: [example indices]} of an identity_folder source (reads every example once)."""
  groups = {}
  for i in range(len(source)):
    groups.setdefault(source[i]['identity'], []).append(i)
  return groups


def pick_reference(example, references, groups, rng, same_identity=True):
  """A photo from `references` of the example's identity other than the example itself (same_identity=False:
  of a different identity, the control that shows how much the right person helps)."""
  identity = example['identity']
  if same_identity:
    candidates = [i for i in groups.get(identity, ()) if references[i]['filename'] != example['filename']]
  else:
    others = [k for k in groups if k != identity]
    candidates = groups[others[rng.integers(len(others))]] if others else []
  if not candidates:
    raise ValueError(f'no reference photo for {example["filename"]!r} (identity {identity!r})')
  return references[candidates[rng.integers(len(candidates))]]['image']


class WithReference(grain.transforms.RandomMap):
  """{'image', 'identity', 'filename'} -> {'hr', 'reference'}: another photo of the same person, drawn anew each
  epoch (grain seeds the draw with the element's index, which grows with every epoch)."""

  def __init__(self, references, groups):
    self.references, self.groups = references, groups

  def random_map(self, example, rng):
    return {'hr': example['image'], 'reference': pick_reference(example, self.references, self.groups, rng)}


def reference_pairs(source, seed, references=None):
  """An endless stream of {'hr', 'reference'} from an identity_folder source, reshuffled every epoch; references
  come from `references` (default: the same split)."""
  check_features(source, ['image', 'identity'])
  references = source if references is None else references
  groups = photos_by_identity(references)
  with_partner = [i for i in range(len(source)) if len(groups.get(source[i]['identity'], ())) > 1]
  if len(with_partner) < len(source):
    logging.info('%d of %d photos have no other photo of their person and are left out',
                 len(source) - len(with_partner), len(source))
  dataset = grain.MapDataset.source(Subset(source, with_partner)).shuffle(seed=seed).repeat()
  return dataset.random_map(WithReference(references, groups), seed=seed)


def degraded_reference_pairs(source, degradation, scale, seed, flip=False):
  """An endless stream of {'hr', 'lr', 'reference'}: `reference_pairs` with LR inputs made as `paired` makes them."""
  return reference_pairs(source, seed).random_map(DegradedPair('hr', degradation, scale, flip, carry=('reference',)),
                                                  seed=seed + 1)


class Subset:
  """The examples of a random-access source at `indices`."""

  def __init__(self, source, indices):
    self.source, self.indices = source, indices

  def __len__(self):
    return len(self.indices)

  def __getitem__(self, i):
    return self.source[self.indices[i]]


def reference_examples(source, count, references, same_identity=True):
  """The first `count` examples with a fixed reference each (numpy generator [i]): {'hr', 'reference'}."""
  check_features(source, ['image', 'identity'])
  groups = photos_by_identity(references)
  examples = [source[i] for i in range(min(count, len(source)))]
  picked = [pick_reference(e, references, groups, np.random.default_rng([i]), same_identity)
            for i, e in enumerate(examples)]
  return {'hr': np.stack([e['image'] for e in examples]), 'reference': np.stack(picked)}
