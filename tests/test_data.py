import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from jaxsr.data import builders, degradations, pipeline, procedural_faces


def test_procedural_faces_are_deterministic_and_varied():
  a, b = procedural_faces.render_face(7), procedural_faces.render_face(7)
  np.testing.assert_array_equal(a, b)
  assert a.shape == (64, 64, 3) and a.dtype == np.uint8
  faces = np.stack([procedural_faces.render_face(i) for i in range(32)]).astype(np.float32)
  assert faces.std(axis=0).mean() > 20  # faces differ from one another
  centre = faces[:, 24:40, 24:40].mean(axis=(1, 2))  # skin tones vary from light to dark
  assert centre.max() - centre.min() > 60


def test_real_world_degradation_is_a_noisy_blurry_16px_image():
  face = procedural_faces.render_face(3)
  lr = degradations.blur_noise_jpeg(face, np.random.default_rng(0))
  assert lr.shape == (16, 16, 3) and lr.dtype == np.uint8
  np.testing.assert_array_equal(lr, degradations.blur_noise_jpeg(face, np.random.default_rng(0)))
  box = np.asarray(Image.fromarray(face).resize((16, 16), Image.BOX), np.float32)
  assert 0 < np.abs(lr.astype(np.float32) - box).mean() < 25  # degraded, yet the same face


def test_paired_degradations_at_every_scale():
  face = procedural_faces.render_face(4)
  for scale in (2, 4, 8):
    expected = np.asarray(Image.fromarray(face).resize((64 // scale, 64 // scale), Image.BICUBIC))
    np.testing.assert_array_equal(degradations.bicubic(face, None, scale), expected)
    block_means = face.reshape(64 // scale, scale, 64 // scale, scale, 3).mean((1, 3))
    np.testing.assert_allclose(degradations.area(face, None, scale), block_means, atol=1)  # PIL's fixed point
  # tf.image.resize(bilinear) without antialiasing: half-pixel centres land between the 2 central pixels of a
  # block of 4, so each LR pixel is the mean of the block's central 2x2 (jax.image.resize antialiases instead).
  central = face.reshape(16, 4, 16, 4, 3)[:, 1:3, :, 1:3].astype(np.float64).mean((1, 3))
  np.testing.assert_array_equal(degradations.bilinear(face, None, 4), np.round(central))
  reference = jax.image.scale_and_translate(face.astype(np.float32), (16, 16, 3), (0, 1), jnp.asarray([0.25, 0.25]),
                                            jnp.zeros(2), 'linear', antialias=False)
  np.testing.assert_allclose(degradations.bilinear(face, None, 4), np.asarray(reference), atol=0.51)
  strengths = {degradations.blur_noise_jpeg(face, np.random.default_rng(i)).tobytes() for i in range(4)}
  assert len(strengths) == 4  # random strength: every draw differs
  with pytest.raises(ValueError, match='config.degradation'):
    degradations.get('gaussian')


def test_paired_stream_is_reproducible_and_evaluation_pairs_are_fixed(data_dir):
  source = pipeline.data_source('procedural_faces/tiny', 'train', data_dir)
  stream = pipeline.paired(source, 'image', 'blur_noise_jpeg', 4, seed=3, flip=True)
  again = pipeline.paired(source, 'image', 'blur_noise_jpeg', 4, seed=3, flip=True)
  for i in (0, 5, 300):
    np.testing.assert_array_equal(stream[i]['lr'], again[i]['lr'])
  assert stream[0]['hr'].shape == (64, 64, 3) and stream[0]['lr'].shape == (16, 16, 3)
  originals = {source[i]['image'].tobytes() for i in range(len(source))}
  flipped = sum(stream[i]['hr'].tobytes() not in originals for i in range(32))
  assert 4 < flipped < 28  # about half are mirrored

  fixed = pipeline.paired_examples(source, 4, 'image', 'bicubic', 4)
  np.testing.assert_array_equal(fixed['hr'][1], source[1]['image'])
  np.testing.assert_array_equal(fixed['lr'][1], degradations.bicubic(source[1]['image'], None, 4))
  np.testing.assert_array_equal(fixed['bicubic'][1],
                                np.asarray(Image.fromarray(fixed['lr'][1]).resize((64, 64), Image.BICUBIC)))


def test_procedural_dataset_splits_and_features(data_dir):
  train = pipeline.data_source('procedural_faces/tiny', 'train', data_dir)
  test = pipeline.data_source('procedural_faces/tiny', 'test', data_dir)
  assert (len(train), len(test)) == (256, 64)
  example = train[5]
  assert example['image'].shape == (64, 64, 3) and example['real_lr'].shape == (16, 16, 3)
  np.testing.assert_array_equal(example['image'], procedural_faces.render_face(int(example['index'])))
  assert sorted(int(train[i]['index']) for i in range(len(train))) == list(range(256))
  assert min(int(test[i]['index']) for i in range(len(test))) >= builders.TEST_INDEX_OFFSET


def test_face_folder_skips_and_counts_bad_files(photo_folder, tmp_path):
  config = builders.FaceFolderConfig(name='photos', path=str(photo_folder), min_size=64, test_fraction=0.3)
  pipeline.make_builder(builders.FaceFolder, str(tmp_path / 'tfds'), config=config).download_and_prepare()
  train = pipeline.data_source('face_folder/photos', 'train', str(tmp_path / 'tfds'))
  test = pipeline.data_source('face_folder/photos', 'test', str(tmp_path / 'tfds'))
  assert len(train) + len(test) == 11  # 10 colour photos + the grayscale one
  names = {e['filename'].decode() for src in (train, test) for e in (src[i] for i in range(len(src)))}
  assert 'gray.png' in names and 'small.png' not in names and 'corrupt.jpg' not in names
  assert all(src[i]['image'].shape == (64, 64, 3) for src in (train, test) for i in range(len(src)))
  import tensorflow_datasets as tfds
  info = tfds.builder_from_directory(str(tmp_path / 'tfds' / 'face_folder' / 'photos' / '1.0.0')).info
  skipped = info.metadata['skipped']
  assert sum(s['unreadable'] for s in skipped.values()) == 1
  assert sum(s['too_small'] for s in skipped.values()) == 1


def test_lr_face_folder_keeps_only_small_faces(photo_folder, tmp_path):
  config = builders.LrFaceFolderConfig(name='lr', path=str(photo_folder), test_fraction=0.0)
  pipeline.make_builder(builders.LrFaceFolder, str(tmp_path / 'tfds'), config=config).download_and_prepare()
  train = pipeline.data_source('lr_face_folder/lr', 'train', str(tmp_path / 'tfds'))
  assert len(train) == 1  # only the 20x20 face is below 37 px
  assert train[0]['image'].shape == (16, 16, 3)


def test_datasets_joined_by_plus_read_as_one_set(photo_folder, tmp_path):
  tfds_dir = str(tmp_path / 'tfds')
  for name, size in (('a', 64), ('b', 64), ('small', 32)):
    config = builders.FaceFolderConfig(name=name, path=str(photo_folder), image_size=size, min_size=16,
                                       crop='center' if name != 'b' else '0,0,40,40', test_fraction=0.0)
    pipeline.make_builder(builders.FaceFolder, tfds_dir, config=config).download_and_prepare()
  a, b = (pipeline.data_source(f'face_folder/{n}', 'train', tfds_dir) for n in 'ab')
  both = pipeline.data_source('face_folder/a+face_folder/b', 'train', tfds_dir)
  assert len(both) == len(a) + len(b) and len(a) > 10 and len(b) > 10
  for i, expected in [(0, a[0]), (len(a) - 1, a[len(a) - 1]), (len(a), b[0]), (len(both) - 1, b[len(b) - 1])]:
    np.testing.assert_array_equal(both[i]['image'], expected['image'])
  assert not np.array_equal(both[len(a)]['image'], a[0]['image'])  # b crops the corner: other pixels
  with pytest.raises(IndexError):
    both[len(both)]
  batch = next(iter(pipeline.paired(both, 'image', 'bicubic', 4, seed=0).batch(8)))  # trains as one set
  assert batch['hr'].shape == (8, 64, 64, 3) and batch['lr'].shape == (8, 16, 16, 3)
  with pytest.raises(ValueError, match=r'face_folder/small has features .*32, 32, 3'):
    pipeline.data_source('face_folder/a+face_folder/small', 'train', tfds_dir)


def test_missing_dataset_says_how_to_build_it(tmp_path):
  with pytest.raises(FileNotFoundError, match='jaxsr.data.build'):
    pipeline.data_source('face_folder/celeba', 'train', str(tmp_path))


def test_two_processes_together_read_the_one_process_batch(data_dir):
  source = pipeline.data_source('procedural_faces/tiny', 'train', data_dir)
  stream = pipeline.unpaired(pipeline.shuffled(source, 'image', 'hr', 0), pipeline.shuffled(source, 'real_lr', 'lr', 1))
  whole = pipeline.host_batches(stream, 8, 0, 1)[3]
  halves = [pipeline.host_batches(stream, 8, p, 2)[3] for p in range(2)]
  for key in ('hr', 'lr'):
    np.testing.assert_array_equal(whole[key], np.concatenate([h[key] for h in halves]))


def test_iterator_position_restores(data_dir):
  source = pipeline.data_source('procedural_faces/tiny', 'train', data_dir)
  batches = pipeline.host_batches(pipeline.shuffled(source, 'image', 'hr', 0), 4, 0, 1)
  it = pipeline.iterator(batches)
  for _ in range(3):
    next(it)
  state = it.get_state()
  expected = next(it)
  again = pipeline.iterator(batches)
  again.set_state(state)
  np.testing.assert_array_equal(next(again)['hr'], expected['hr'])


def test_identity_folder_pairs_each_photo_with_another_photo_of_the_same_person(tmp_path):
  rng = np.random.default_rng(0)
  layout = {'train': {'a': 3, 'b': 2, 'c': 1}, 'val': {'a': 1, 'b': 1}}
  for split, people in layout.items():
    for person, count in people.items():
      (tmp_path / 'ids' / split / person).mkdir(parents=True)
      for i in range(count):
        Image.fromarray(rng.integers(0, 255, (40, 30, 3), np.uint8)).save(
            tmp_path / 'ids' / split / person / f'{split}{person}{i}.png')
  config = builders.IdentityFolderConfig(name='ids', path=str(tmp_path / 'ids'), image_size=16)
  pipeline.make_builder(builders.IdentityFolder, str(tmp_path / 'tfds'), config=config).download_and_prepare()
  train = pipeline.data_source('identity_folder/ids', 'train', str(tmp_path / 'tfds'))
  val = pipeline.data_source('identity_folder/ids', 'val', str(tmp_path / 'tfds'))
  assert (len(train), len(val)) == (6, 2)
  person_of = {train[i]['image'].tobytes(): train[i]['identity'] for i in range(len(train))}

  stream = pipeline.reference_pairs(train, seed=0)  # c has one photo: no reference possible, left out
  assert all(person_of[stream[i]['hr'].tobytes()] != b'c' for i in range(10))
  references_of = {}
  for i in range(40):  # 8 epochs
    pair = stream[i]
    hr, ref = pair['hr'].tobytes(), pair['reference'].tobytes()
    assert hr != ref and person_of[hr] == person_of[ref]
    references_of.setdefault(hr, set()).add(ref)
  assert max(len(refs) for refs in references_of.values()) == 2  # a's photos get both others, epoch by epoch

  right = pipeline.reference_examples(val, 2, train)
  wrong = pipeline.reference_examples(val, 2, train, same_identity=False)
  for i in range(2):
    assert person_of[right['reference'][i].tobytes()] == val[i]['identity']
    assert person_of[wrong['reference'][i].tobytes()] != val[i]['identity']
  again = pipeline.reference_examples(val, 2, train)
  np.testing.assert_array_equal(again['reference'], right['reference'])  # fixed per target


def test_srez_jitter_moves_and_recolours_faces_within_its_bounds():
  from jaxsr.data import augment
  face = np.random.default_rng(0).integers(40, 215, (64, 64, 3), np.uint8)
  jitter = augment.get('srez', shift=4)
  outs = [jitter(face, np.random.default_rng(seed)) for seed in range(20)]
  assert all(o.shape == face.shape and o.dtype == np.uint8 for o in outs)
  assert len({o.tobytes() for o in outs}) == 20  # every draw differs
  # a pure move of at most 4 px: some shift of the face matches the output inside the border, up to the colour change
  out = outs[0].astype(int)
  best = min(np.abs(out[8:-8, 8:-8] - np.roll(face, (dy, dx), (0, 1)).astype(int)[8:-8, 8:-8]).mean()
             for dy in range(-4, 5) for dx in range(-4, 5))
  assert best < 20 and np.abs(out - face.astype(int)).mean() > best  # moved, and recoloured only a little
  assert abs(float(out.mean()) - float(face.mean())) < 0.06 * 255
  assert augment.get('') is None
  with pytest.raises(ValueError, match="config.jitter: unknown 'heavy'"):
    augment.get('heavy')


def test_paired_folder_pairs_by_name_and_counts_what_it_leaves_out(paired_folders, tmp_path):
  hr_root, lr_root = paired_folders
  config = builders.PairedFolderConfig(name='pairs', path=str(hr_root), lr_path=str(lr_root), test_fraction=0.25)
  builder = pipeline.build_folder_dataset(builders.PairedFolder, config, str(tmp_path / 'tfds'))
  sources = [pipeline.data_source('paired_folder/pairs', s, str(tmp_path / 'tfds')) for s in ('train', 'test')]
  examples = [src[i] for src in sources for i in range(len(src))]
  assert sorted(e['filename'].decode() for e in examples) == sorted(
      [f'{i}.png' for i in range(10)] + ['sub/a.png', 'sub/b.png'])
  for e in examples:  # each LR face is its own HR face's (64 px HR, 16 px LR: the same crop, both resized)
    hr, lr = e['image'], e['lr']
    assert hr.shape == (64, 64, 3) and lr.shape == (16, 16, 3)
    own = np.abs(np.asarray(Image.fromarray(hr).resize((16, 16), Image.BICUBIC), float) - lr).mean()
    assert own < 12, e['filename']
  metadata = builder.info.metadata
  assert metadata['unmatched'] == {'lr_only': {'count': 1, 'examples': ['lonely_lr']},
                                   'hr_only': {'count': 1, 'examples': ['lonely_hr']}}
  skipped = metadata['skipped']
  assert sum(s['scale_mismatch'] for s in skipped.values()) == 1
  assert sum(s['lr_unreadable'] for s in skipped.values()) == 1

  # Training and evaluation take the dataset's own LR faces, flipped with their HR face.
  stream = pipeline.paired(sources[0], 'image', pipeline.DATASET_LR, 4, seed=0, flip=True)
  for i in range(6):
    pair = stream[i]
    lr = pair['lr']
    assert any(np.array_equal(lr, e['lr']) or np.array_equal(lr, e['lr'][:, ::-1]) for e in examples)
  fixed = pipeline.paired_examples(sources[1], 8, 'image', pipeline.DATASET_LR, 4)
  np.testing.assert_array_equal(fixed['lr'], np.stack([sources[1][i]['lr'] for i in range(len(sources[1]))]))
  with pytest.raises(ValueError, match='jitter'):
    pipeline.DegradedPair('image', pipeline.DATASET_LR, 4, False, augment=lambda x, rng: x)

  (lr_root / '0.jpg').write_bytes((lr_root / '0.png').read_bytes())
  with pytest.raises(ValueError, match='0.jpg and 0.png differ only in their suffix|0.png and 0.jpg differ only'):
    pipeline.build_folder_dataset(builders.PairedFolder, builders.PairedFolderConfig(
        name='twice', path=str(hr_root), lr_path=str(lr_root)), str(tmp_path / 'tfds'))
