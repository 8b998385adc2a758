"""tensorflow-datasets builders for the embedded procedural faces and for folders of face photos.

Images are stored as zlib-compressed uint8 tensors in ArrayRecord files rather than as PNG `Image` features:
tfds encodes `Image` features with TensorFlow, while tensors need none, so building and reading both run
without TensorFlow (the GPU machines have none) and reading skips a PNG decode per example.
"""
import dataclasses
import multiprocessing
import zlib
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds
from absl import logging
from PIL import Image

from jaxsr.data import degradations, face_detection, image_files, procedural_faces

TEST_INDEX_OFFSET = 10_000_000  # test faces never share an index (hence a face) with train faces
OTHER_FACE_OFFSET = 5_000_000  # the real-LR companion of example i is made from this other face
LANDMARKS = face_detection.LANDMARKS


def image_feature(size):
  return tfds.features.Tensor(shape=(size, size, 3), dtype=np.uint8, encoding=tfds.features.Encoding.ZLIB)


@dataclasses.dataclass
class ProceduralFacesConfig(tfds.core.BuilderConfig):
  train_size: int = 50_000
  test_size: int = 2_000
  image_size: int = 64
  lr_scale: int = 4


def landmarks_feature():
  return tfds.features.Tensor(shape=(LANDMARKS, 2), dtype=np.float32,
                              doc='pixel (x, y) of the eye centres, nose tip, mouth corners (left to right)')


def _procedural_example(args):
  index, image_size, lr_scale = args
  face, landmarks = procedural_faces.render_face_and_landmarks(index, image_size)
  other = procedural_faces.render_face(index + OTHER_FACE_OFFSET, image_size)
  return index, {
      'index': index,
      'image': face,
      'landmarks': landmarks,
      'degraded': degradations.blur_noise_jpeg(face, np.random.default_rng([1, index]), lr_scale),
      'real_lr': degradations.blur_noise_jpeg(other, np.random.default_rng([2, index]), lr_scale),
  }


class ProceduralFaces(tfds.core.GeneratorBasedBuilder):
  """Procedural faces (64x64; 128x128 in `x128`); each with its true degradation and an unpaired real-LR face of
  another person.

  Features: `image` (HR face), `landmarks` (its five landmarks), `degraded` (the hidden degradation of this very
  face, for checking what H2L learned), `real_lr` (the hidden degradation of a different face: the unpaired
  real-LR set).
  """
  VERSION = tfds.core.Version('1.1.0')
  RELEASE_NOTES = {'1.1.0': 'Five landmarks per face (FSRNet priors).'}
  BUILDER_CONFIGS = [
      ProceduralFacesConfig(name='default', description='50,000 train and 2,000 test faces.'),
      ProceduralFacesConfig(name='tiny', train_size=256, test_size=64, description='For tests and smoke runs.'),
      ProceduralFacesConfig(name='x128', train_size=10_000, test_size=1_000, image_size=128,
                            description='10,000 train and 1,000 test faces of 128x128 (32 -> 128 methods).'),
  ]

  def _info(self):
    size, lr_size = self.builder_config.image_size, self.builder_config.image_size // self.builder_config.lr_scale
    return tfds.core.DatasetInfo(
        builder=self,
        description=self.__doc__,
        features=tfds.features.FeaturesDict({
            'index': tfds.features.Scalar(np.int64, doc='render_face(index) is `image`'),
            'image': image_feature(size), 'landmarks': landmarks_feature(), 'degraded': image_feature(lr_size),
            'real_lr': image_feature(lr_size)}),
    )

  def _split_generators(self, dl_manager):
    del dl_manager
    c = self.builder_config
    return {'train': self._generate_examples(0, c.train_size),
            'test': self._generate_examples(TEST_INDEX_OFFSET, c.test_size)}

  def _generate_examples(self, start, count):
    c = self.builder_config
    jobs = ((i, c.image_size, c.lr_scale) for i in range(start, start + count))
    # Spawned workers import only numpy and PIL; rendering is the slow part (a few ms a face).
    with multiprocessing.get_context('spawn').Pool() as pool:
      yield from pool.imap(_procedural_example, jobs, chunksize=64)


@dataclasses.dataclass
class ProceduralIdentitiesConfig(tfds.core.BuilderConfig):
  people: int = 200
  train_photos: int = 24
  val_photos: int = 3
  image_size: int = 128


class ProceduralIdentities(tfds.core.GeneratorBasedBuilder):
  """Procedural people, several photos each (the same face shifted, relit, mirrored): the embedded dataset of the
  reference-based methods, with identity_folder's features (`image`, `identity`, `filename`) and splits (`train`,
  `val`: the same people, so each val face has references in train)."""
  VERSION = tfds.core.Version('1.0.0')
  BUILDER_CONFIGS = [
      ProceduralIdentitiesConfig(name='default', description='200 people, 24 train + 3 val photos of 128 px each.'),
      ProceduralIdentitiesConfig(name='tiny', people=8, train_photos=4, val_photos=2, image_size=64,
                                 description='For tests and smoke runs.'),
  ]

  def _info(self):
    return tfds.core.DatasetInfo(builder=self, description=self.__doc__, features=tfds.features.FeaturesDict({
        'image': image_feature(self.builder_config.image_size), 'identity': tfds.features.Text(),
        'filename': tfds.features.Text()}))

  def _split_generators(self, dl_manager):
    del dl_manager
    c = self.builder_config
    return {split: self._generate_examples(split, count) for split, count in (('train', c.train_photos),
                                                                               ('val', c.val_photos))}

  def _generate_examples(self, split, count):
    c = self.builder_config
    # Each split draws its own photos (seeded by the split), from the same people.
    seed = {'train': 0, 'val': 1}[split]
    for _, person, i, photo in procedural_faces.identity_photos(c.people, ((split, count),), c.image_size,
                                                                c.image_size // 8, seed):
      yield f'{person}/{i}', {'image': photo, 'identity': f'p{person}', 'filename': f'{split}/p{person}/{i}.png'}


@dataclasses.dataclass
class FaceFolderConfig(tfds.core.BuilderConfig):
  """A folder of face images; `name` is what configs call the dataset (`face_folder/<name>`)."""
  path: str = ''
  image_size: int = 64
  crop: str = 'center'  # 'center' (largest centred square), 'none' (squash), or 'x,y,w,h' (a fixed box)
  # Skip images whose shorter side is below this; None: image_size // 2 (a face enlarged more than twice to make
  # the stored image does not have the resolution the set claims; a 1x1 image is no face).
  min_size: int | None = None
  max_size: int = 0  # skip images whose longer side is above this (0: no limit)
  test_fraction: float = 0.05
  # Five landmarks per face (FSRNet's priors): '' none, 'mtcnn' (detected while building, by jaxsr.data.mtcnn),
  # or a CelebA-style landmarks file naming the images by path under `path` or by file name.
  landmarks: str = ''


SOURCE_FIELDS = ('path', 'image_size', 'crop', 'min_size', 'max_size', 'test_fraction', 'landmarks')


def min_size(config):
  return config.image_size // 2 if config.min_size is None else config.min_size


def source_record(config):
  """What a folder dataset is built from, as stored in its metadata: a build under the same name from another
  folder or with other options is refused instead of silently reusing the old one."""
  record = {field: getattr(config, field) for field in SOURCE_FIELDS}
  record.update(path=str(Path(config.path).expanduser().resolve()), min_size=min_size(config))
  if isinstance(config, PairedFolderConfig):
    record.update(lr_path=str(Path(config.lr_path).expanduser().resolve()), scale=config.scale)
  if record['landmarks'] not in ('', 'mtcnn'):
    record['landmarks'] = str(Path(record['landmarks']).expanduser().resolve())
  return record


def check_crop(crop):
  """`crop` as (x, y, w, h) when it is a box, else None ('center', 'none'); a ValueError naming --crop otherwise."""
  if crop in ('center', 'none'):
    return None
  try:
    x, y, w, h = (int(v) for v in crop.split(','))
  except ValueError:
    raise ValueError(f"--crop: {crop!r} is not 'center', 'none' or x,y,w,h (four integers)") from None
  if x < 0 or y < 0 or w < 1 or h < 1:
    raise ValueError(f'--crop: {crop!r}: x and y must be >= 0, w and h positive')
  return x, y, w, h


def _crop_box(width, height, crop):
  """(x, y, w, h) of the region `crop` keeps of a width x height image; None when a fixed box does not fit in it
  (PIL would fill the rest with black)."""
  if crop == 'none':
    return 0, 0, width, height
  if crop == 'center':
    side = min(width, height)
    return (width - side) // 2, (height - side) // 2, side, side
  x, y, w, h = check_crop(crop)
  return (x, y, w, h) if x + w <= width and y + h <= height else None


def _split_key(relative_path):
  return zlib.crc32(relative_path.encode()) % 10_000


def _in_test_split(relative_path, test_fraction):
  """A stable split by file name: adding files never moves an existing file between splits."""
  return _split_key(relative_path) < test_fraction * 10_000


def split_files(root, files, test_fraction, usable=lambda path: True):
  """(train, test) files by the stable hash split. A folder too small for the hash to hold any file out gives its
  `usable` file of lowest hash to the test split (logged), so a small set still has something to evaluate on;
  test_fraction=0 asks for no test split."""
  names = [str(f.relative_to(root)) for f in files]
  if len(files) < 2:
    raise ValueError(f'{root}: {len(files)} image file(s); a dataset needs at least 2 (one to train on, one held '
                     'out for evaluation)')
  in_test = [_in_test_split(n, test_fraction) for n in names]
  if not any(in_test) and test_fraction > 0:
    candidates = sorted(range(len(names)), key=lambda i: _split_key(names[i]))
    first = next((i for i in candidates if usable(files[i])), candidates[0])
    in_test[first] = True
    logging.warning('%s: %d files are too few for test_fraction=%g to hold any out; %s is the test split',
                    root, len(files), test_fraction, names[first])
  return [f for f, t in zip(files, in_test) if not t], [f for f, t in zip(files, in_test) if t]


class FaceFolder(tfds.core.GeneratorBasedBuilder):
  """Every image under a folder (recursively), cropped and resized; unreadable and off-size files are skipped.

  Skipped files are counted per reason in the log and in the dataset's metadata (`metadata.json`). With
  `landmarks`, a `landmarks` feature holds each face's five landmarks in the stored image's pixels; a face
  without (not in the file, or no face detected) is skipped.
  """
  VERSION = tfds.core.Version('1.0.0')
  BUILDER_CONFIG_CLS = FaceFolderConfig

  def _features(self):
    features = {'image': image_feature(self.builder_config.image_size), 'filename': tfds.features.Text()}
    if self.builder_config.landmarks:
      features['landmarks'] = landmarks_feature()
    return features

  def _info(self):
    return tfds.core.DatasetInfo(builder=self, description=self.__doc__,
                                 features=tfds.features.FeaturesDict(self._features()),
                                 metadata=tfds.core.MetadataDict())

  def _split_generators(self, dl_manager):
    del dl_manager
    root = Path(self.builder_config.path).expanduser()
    if not root.is_dir():
      raise FileNotFoundError(f'FaceFolder: {root} is not a folder of images')
    train, test = split_files(root, image_files.find(root), self.builder_config.test_fraction, self._usable)
    self.info.metadata.update(skipped={}, source=source_record(self.builder_config))
    splits = {'train': train, 'test': test}
    return {name: self._generate_examples(root, files, name) for name, files in splits.items() if files}

  def _skip_reason(self, image):
    """Why `image` (a PIL image, or None: unreadable) is left out, or None when it is used."""
    c = self.builder_config
    if image is None:
      return 'unreadable'
    if min(image.size) < min_size(c):
      return 'too_small'
    if c.max_size and max(image.size) > c.max_size:
      return 'too_large'
    if _crop_box(*image.size, c.crop) is None:
      return 'crop_outside'
    return None

  def _usable(self, path):
    return self._skip_reason(image_files.read_rgb(path)) is None

  def _fields_of(self, name):
    """Features a subclass derives from a file's relative path."""
    del name
    return {}

  partner_skip_reasons = ()  # what _partner_fields may answer

  def _partner_fields(self, path, size, box):
    """Features read from a file paired with `path` (whose image has `size` and is cut to `box`), or the reason
    (one of partner_skip_reasons) the example is left out."""
    del path, size, box
    return {}

  def _landmark_finder(self):
    """A function (relative path, image) -> (5, 2) landmarks or None, or None when the config asks for none."""
    source = self.builder_config.landmarks
    if not source:
      return None
    if source == 'mtcnn':
      from jaxsr.data import mtcnn  # jax and the weights load only when a build detects faces
      detect = mtcnn.detector()

      def detected(name, image):
        faces = detect(np.asarray(image))
        return faces[0].landmarks if faces else None
      return detected
    table = face_detection.read_landmarks_file(Path(source).expanduser())
    return lambda name, image: table.get(name, table.get(Path(name).name))

  def _generate_examples(self, root, files, split):
    c = self.builder_config
    find_landmarks = self._landmark_finder()
    skipped = {'unreadable': 0, 'too_small': 0, 'too_large': 0, 'crop_outside': 0, 'no_landmarks': 0,
               **{reason: 0 for reason in self.partner_skip_reasons}}
    for path in files:
      image = image_files.read_rgb(path)
      if reason := self._skip_reason(image):
        skipped[reason] += 1
        continue
      name = str(path.relative_to(root))
      box = _crop_box(*image.size, c.crop)
      partner = self._partner_fields(path, image.size, box)
      if isinstance(partner, str):
        skipped[partner] += 1
        continue
      example = {'filename': name, **self._fields_of(name), **partner}
      if find_landmarks:
        landmarks = find_landmarks(name, image)
        if landmarks is None:
          skipped['no_landmarks'] += 1
          continue
        example['landmarks'] = face_detection.transform(landmarks, box, c.image_size)
      x, y, w, h = box
      image = image.crop((x, y, x + w, y + h)).resize((c.image_size, c.image_size), Image.BICUBIC)
      yield name, {**example, 'image': np.asarray(image)}
    self.info.metadata['skipped'][split] = skipped
    logging.info('FaceFolder %s/%s: skipped %s', c.name, split, skipped)


@dataclasses.dataclass
class LrFaceFolderConfig(FaceFolderConfig):
  """The face-SR write-up (a7med12345/Face_super-resolution) keeps detections with max(width, height) < 37 as its
  real LR set, resized to 16x16."""
  image_size: int = 16
  crop: str = 'none'
  max_size: int = 36


class LrFaceFolder(FaceFolder):
  """A folder of real low-resolution faces (e.g. WIDER faces): `lr_face_folder/<name>`."""
  BUILDER_CONFIG_CLS = LrFaceFolderConfig


@dataclasses.dataclass
class IdentityFolderConfig(FaceFolderConfig):
  """`path/<split>/<identity>/<photo>`: every subfolder of `path` is a split (CelebA identities, VGGFace2, the
  RefSR-Face layout of Liu, Siu & Chan). 128 px faces by default, the x8 reference-based methods' size."""
  image_size: int = 128


class IdentityFolder(FaceFolder):
  """Face photos grouped by identity, for reference-based SR: `identity_folder/<name>`, one split per subfolder
  of `path`. Feature `identity` is the photo's folder name; references are drawn by the input pipeline.
  """
  BUILDER_CONFIG_CLS = IdentityFolderConfig

  def _features(self):
    return {**super()._features(), 'identity': tfds.features.Text()}

  def _fields_of(self, name):
    return {'identity': Path(name).parent.name}

  def _split_generators(self, dl_manager):
    del dl_manager
    root = Path(self.builder_config.path).expanduser()
    splits = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if not splits:
      raise FileNotFoundError(f'IdentityFolder: {root} has no split folders (<split>/<identity>/<photo>)')
    self.info.metadata.update(skipped={}, source=source_record(self.builder_config))
    files = {split: image_files.find(split, required=False, depth=1) for split in splits}
    return {split.name: self._generate_examples(split, found, split.name) for split, found in files.items() if found}


@dataclasses.dataclass
class PairedFolderConfig(FaceFolderConfig):
  """HR faces under `path` and their LR versions under `lr_path`, `scale` times smaller."""
  lr_path: str = ''
  scale: int = 4


def pair_key(path, root):
  """What pairs an LR file with an HR file: the path under its folder without the suffix (a.png pairs a.jpg)."""
  return str(Path(path).relative_to(root).with_suffix(''))


def _by_pair_key(folder):
  """{pair_key: file} of the images under `folder`; two files of one key (a.png, a.jpg) are refused."""
  found = {}
  for path in image_files.find(folder):
    if (key := pair_key(path, folder)) in found:
      raise ValueError(f'{folder}: {found[key].name} and {path.name} differ only in their suffix; each face must '
                       'pair with one file. Rename or remove one')
    found[key] = path
  return found


class PairedFolder(FaceFolder):
  """Real LR/HR pairs (BasicSR's PairedImageDataset): `paired_folder/<name>`, features `image` (the HR face,
  image_size) and `lr` (image_size // scale), paired by file path without suffix. Files without a partner are
  counted and named (metadata `unmatched`, and the log), never dropped silently; a pair whose sizes are not
  `scale` apart is skipped as `scale_mismatch`. The crop is the HR image's, carried to the LR image's pixels.
  """
  BUILDER_CONFIG_CLS = PairedFolderConfig
  partner_skip_reasons = ('lr_unreadable', 'scale_mismatch')

  def _features(self):
    c = self.builder_config
    return {**super()._features(), 'lr': image_feature(c.image_size // c.scale)}

  def _split_generators(self, dl_manager):
    del dl_manager
    c = self.builder_config
    root, lr_root = Path(c.path).expanduser(), Path(c.lr_path).expanduser()
    for flag, folder in (('--path', root), ('--lr_path', lr_root)):
      if not folder.is_dir():
        raise FileNotFoundError(f'PairedFolder {flag}: {folder} is not a folder of images')
    if c.scale < 2 or c.image_size % c.scale:
      raise ValueError(f'--scale={c.scale}: must be at least 2 and divide --image_size={c.image_size}')
    hr, lr = (_by_pair_key(folder) for folder in (root, lr_root))
    unmatched = {'lr_only': sorted(set(lr) - set(hr)), 'hr_only': sorted(set(hr) - set(lr))}
    shared = sorted(set(hr) & set(lr))
    if not shared:
      raise ValueError(f'{root} and {lr_root} share no file names (e.g. {sorted(hr)[:3]} and {sorted(lr)[:3]}); '
                       'LR and HR files pair by their path without suffix')
    if unmatched['lr_only'] or unmatched['hr_only']:
      logging.warning('PairedFolder %s: %d pairs; %d LR files have no HR file (e.g. %s), %d HR files no LR file '
                      '(e.g. %s): left out', c.name, len(shared), len(unmatched['lr_only']), unmatched['lr_only'][:3],
                      len(unmatched['hr_only']), unmatched['hr_only'][:3])
    self._lr_of = {hr[k]: lr[k] for k in shared}
    train, test = split_files(root, [hr[k] for k in shared], c.test_fraction, self._usable)
    self.info.metadata.update(skipped={}, source=source_record(c), unmatched={
        k: {'count': len(v), 'examples': v[:5]} for k, v in unmatched.items()})
    return {name: self._generate_examples(root, files, name) for name, files in (('train', train), ('test', test))
            if files}

  def _partner_fields(self, path, size, box):
    c = self.builder_config
    lr = image_files.read_rgb(self._lr_of[path])
    if lr is None:
      return 'lr_unreadable'
    ratios = (size[0] / lr.size[0], size[1] / lr.size[1])
    if any(abs(r - c.scale) > 0.02 * c.scale for r in ratios):
      return 'scale_mismatch'
    x, y, w, h = box
    lr_box = (x / ratios[0], y / ratios[1], (x + w) / ratios[0], (y + h) / ratios[1])
    side = c.image_size // c.scale
    return {'lr': np.asarray(lr.resize((side, side), Image.BICUBIC, box=lr_box))}
