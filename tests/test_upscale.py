"""jaxsr.upscale and jaxsr.using.inference: a trained run super-resolves face crops and the faces in a whole photo."""
import types

import numpy as np
import pytest
from PIL import Image

from jaxsr import upscale
from jaxsr.data import alignment
from jaxsr.data.face_detection import Face
from jaxsr.using import inference


def test_a_run_upscales_crops_at_its_scale(srresnet_run):
  model = inference.load(srresnet_run)
  assert model.step == 2 and model.scale == 4 and model.parameters > 0
  lr = np.random.default_rng(0).integers(0, 255, (3, 16, 16, 3), np.uint8)
  sr = upscale.upscale_faces(model, lr, batch_size=2)  # two batches, the second padded
  assert sr.shape == (3, 64, 64, 3) and sr.dtype == np.uint8
  np.testing.assert_array_equal(sr[2], model.upscale(lr[2:])[0])
  with pytest.raises(FileNotFoundError, match='not a jaxsr run'):
    inference.load(srresnet_run / 'checkpoints')


class BicubicNetwork:
  """A stand-in super-resolver that enlarges by PIL bicubic and records the sides it is given: what it pastes
  back must line up with the bicubic enlargement of the whole photo."""
  scale = 4
  config = types.SimpleNamespace(image_size=64)

  def __init__(self, fully_convolutional):
    self.fully_convolutional, self.sides = fully_convolutional, []

  def upscale(self, faces, reference=None):
    self.sides += [f.shape[0] for f in faces]
    return np.stack([np.asarray(Image.fromarray(f).resize((4 * f.shape[1], 4 * f.shape[0]), Image.BICUBIC))
                     for f in faces])


def rotated_faces(sides, centres, degrees):
  """Detections whose landmarks are the template's at each side, turned by `degrees` about the centre."""
  angle = np.deg2rad(degrees)
  rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
  return [Face((0.0, 0.0, side, side), 0.99,
               ((alignment.TEMPLATE - 0.5) * side @ rotation.T + np.array(centre)).astype(np.float32))
          for side, centre in zip(sides, centres)]


def textured_photo(width, height, seed=0):
  """Random detail at every scale down to 3 px, so a face pasted at the wrong place or angle shows."""
  coarse = np.random.default_rng(seed).integers(0, 256, (height // 3, width // 3, 3), np.uint8)
  return Image.fromarray(coarse).resize((width, height), Image.BICUBIC)


SIDES, CENTRES = (12, 24, 40, 64), ((30, 30), (90, 40), (60, 110), (150, 120))


@pytest.mark.parametrize('degrees', [20, -20])
def test_faces_in_a_photo_come_back_in_place_at_their_own_rotation_and_size(degrees):
  photo = textured_photo(200, 170)
  network = BicubicNetwork(fully_convolutional=True)
  detect = lambda image: rotated_faces(SIDES, CENTRES, degrees)  # noqa: E731
  result, found = upscale.upscale_photo(network, photo, detect, feather=0.2)
  assert found == 4 and result.shape == (680, 800, 3)
  assert sorted(network.sides) == [16, 24, 40, 64]  # each face at its own size, never below 16
  bicubic = np.asarray(photo.resize((800, 680), Image.BICUBIC)).astype(int)
  changed = np.any(result != bicubic, axis=-1)
  for side, (x, y) in zip(SIDES, CENTRES):  # inside each face: the same picture, twice resampled
    inner = (slice(4 * y - side, 4 * y + side), slice(4 * x - side, 4 * x + side))
    assert changed[inner].mean() > 0.5
    assert np.abs(result[inner] - bicubic[inner]).mean() < 6
    assert np.abs(result[inner] - np.roll(bicubic, 4, axis=1)[inner]).mean() > 12  # 1 px off would show
  far = np.ones(changed.shape, bool)
  for side, (x, y) in zip(SIDES, CENTRES):  # the aligned square reaches at most 0.75 side from the centre
    far[max(0, 4 * y - 3 * side):4 * y + 3 * side, max(0, 4 * x - 3 * side):4 * x + 3 * side] = False
  assert not changed[far].any()  # outside the masks: the plain enlargement


def test_a_network_of_fixed_size_gets_its_size_and_the_photo_its_factor():
  network = BicubicNetwork(fully_convolutional=False)
  detect = lambda image: rotated_faces(SIDES[:2], CENTRES[:2], 20)  # noqa: E731
  result, found = upscale.upscale_photo(network, textured_photo(120, 80), detect, factor=2)
  assert found == 2 and network.sides == [16, 16] and result.shape == (160, 240, 3)


def test_a_trained_run_super_resolves_a_face_of_a_photo_at_its_own_size(srresnet_run):
  model = inference.load(srresnet_run)
  assert model.fully_convolutional
  photo = textured_photo(90, 60, seed=1)
  detect = lambda image: rotated_faces([24], [(60, 30)], 0)  # noqa: E731
  result, found = upscale.upscale_photo(model, photo, detect)
  assert found == 1 and result.shape == (240, 360, 3)
  bicubic = np.asarray(photo.resize((360, 240), Image.BICUBIC))
  np.testing.assert_array_equal(result[:, :150], bicubic[:, :150])  # away from the face: the plain enlargement
  face = (slice(4 * 30 - 20, 4 * 30 + 20), slice(4 * 60 - 20, 4 * 60 + 20))
  assert np.abs(result[face].astype(int) - bicubic[face]).mean() > 1


def test_a_photo_too_large_to_enlarge_is_refused_before_any_is_read(srresnet_run, tmp_path):
  import subprocess
  import sys
  with pytest.raises(ValueError, match='12000x12000 x4 would be 2,304.0 megapixels, above --max_megapixels=64'):
    upscale.check_photo_size(tmp_path / 'big.png', (12000, 12000), 4, 64)
  upscale.check_photo_size(tmp_path / 'fine.png', (2000, 2000), 4, 64)
  photos = tmp_path / 'photos'
  photos.mkdir()
  textured_photo(90, 60).save(photos / 'a_small.png')
  textured_photo(300, 300).save(photos / 'b_large.png')  # x4: 1.44 megapixels
  result = subprocess.run([sys.executable, '-m', 'jaxsr.upscale', f'--run={srresnet_run}', f'--input={photos}',
                           f'--output={tmp_path / "out"}', '--max_megapixels=1'], capture_output=True, text=True,
                          timeout=300)
  refusal = 'b_large.png: 300x300 x4 would be 1.4 megapixels, above --max_megapixels=1; raise it'
  assert result.returncode == 2 and refusal in result.stderr and 'Traceback' not in result.stderr
  assert not (tmp_path / 'out').exists()  # not even the small photo was written


def test_feather_mask_fades_to_the_edges():
  mask = upscale.feather_mask(20, 0.25)
  assert mask[10, 10] == 1.0 and mask[0, 10] < 0.2 and mask[0, 0] == mask.min()
  np.testing.assert_allclose(mask, mask.T)


def test_command_line_writes_every_readable_image(srresnet_run, tmp_path):
  import subprocess
  import sys
  faces = tmp_path / 'faces'
  (faces / 'sub').mkdir(parents=True)
  rng = np.random.default_rng(2)
  Image.fromarray(rng.integers(0, 255, (16, 16, 3), np.uint8)).save(faces / 'a.png')
  Image.fromarray(rng.integers(0, 255, (30, 24, 3), np.uint8)).save(faces / 'sub' / 'b.jpg')  # resized to 16
  (faces / 'broken.png').write_bytes(b'no image')
  result = subprocess.run([sys.executable, '-m', 'jaxsr.upscale', f'--run={srresnet_run}', f'--input={faces}',
                           f'--output={tmp_path / "out"}'], capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-2000:]
  assert "'crops': 2" in result.stdout and "'unreadable': 1" in result.stdout
  assert Image.open(tmp_path / 'out' / 'a.png').size == (64, 64)
  assert Image.open(tmp_path / 'out' / 'sub' / 'b.png').size == (64, 64)


def test_the_python_api_takes_one_face_or_a_batch_in_uint8_or_float(srresnet_run):
  import jaxsr
  model = jaxsr.load(srresnet_run)
  assert repr(model).count('\n') == 0 and 'srresnet x4, 16 -> 64 px faces, step 2' in repr(model)
  faces = np.random.default_rng(3).integers(0, 256, (2, 16, 16, 3), np.uint8)
  batch = model(faces)
  assert batch.dtype == np.uint8 and batch.shape == (2, 64, 64, 3)
  np.testing.assert_array_equal(model(faces[0]), batch[0])
  as_float = model(faces[0].astype(np.float32) / 255)
  assert as_float.dtype == np.float32 and as_float.shape == (64, 64, 3) and 0 <= as_float.min() <= as_float.max() <= 1
  assert np.abs(as_float * 255 - batch[0]).max() <= 0.5 + 1e-3  # the same output, not rounded
  with pytest.raises(TypeError, match='uint8 in \\[0, 255\\] or float in \\[0, 1\\], got int32'):
    model(faces.astype(np.int32))
  with pytest.raises(ValueError, match='expected RGB faces'):
    model(faces[..., 0])


@pytest.mark.parametrize('name', ['srresnet', 'edsr', 'espcn', 'srez', 'dcgan_sr', 'l2h', 'srgan_face', 'fsrnet',
                                  'degradation_sr', 'unet_degradation', 'sisr_vae'])
def test_networks_said_to_be_fully_convolutional_take_faces_of_any_size(name):
  """A face of 20 px (not the 16 or 32 px the tiny configs train on) comes out at scale x 20, as photo mode
  expects of a network it gives faces at their own size."""
  import jax
  import jax.numpy as jnp
  from conftest import load_config

  from jaxsr import methods
  from jaxsr.core.train_state import TrainState
  config = load_config(name, 'tiny')
  method = methods.create(config)
  size, lr_size = config.image_size, config.image_size // config.scale
  batch = {'hr': jnp.zeros((1, size, size, 3), jnp.uint8), 'reference': jnp.zeros((1, size, size, 3), jnp.uint8),
           'lr': jnp.zeros((1, lr_size, lr_size, 3), jnp.uint8)}
  upscale_at = lambda side: jax.eval_shape(lambda: method.upscale(  # noqa: E731
      TrainState(0, jax.random.key(0), method.init_networks(jax.random.key(0), batch)),
      jnp.zeros((1, side, side, 3))))
  assert upscale_at(lr_size).shape == (1, size, size, 3)
  if method.fully_convolutional:
    assert upscale_at(20).shape == (1, 20 * config.scale, 20 * config.scale, 3)
  else:
    assert name in ('fsrnet', 'unet_degradation', 'sisr_vae')
