"""FSRNet / FSRGAN: the network's outputs, its priors and where their gradients go, landmarks through the data."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import setup_one_device as setup
from conftest import tiny

from jaxsr.core import losses, parallel
from jaxsr.data import builders, face_detection, mtcnn, pipeline, procedural_faces
from jaxsr.methods.fsrnet import heatmap_peaks, landmark_error, landmark_heatmaps
from jaxsr.models.fsrnet import FSRNetGenerator

SMALL = dict(features=8, prior_features=8, coarse_blocks=1, encoder_blocks=1, prior_blocks=1, hourglass_depth=1,
             decoder_blocks=1)


@pytest.mark.parametrize('scale', [4, 8])
def test_outputs_and_their_shapes(scale):
  model = FSRNetGenerator(scale, **SMALL)
  lr_side = 16
  lr = jnp.zeros((2, lr_side, lr_side, 3))
  out = jax.eval_shape(lambda: model.apply(model.init(jax.random.key(0), lr, train=False), lr, train=False))
  side = lr_side * scale
  assert out['coarse'].shape == out['sr'].shape == (2, side, side, 3)
  assert out['heatmaps'].shape == (2, 2, side // 2, side // 2, 5)  # (stacks, N, priors side, priors side, L)
  with pytest.raises(ValueError, match='hourglass_depth'):
    jax.eval_shape(lambda: FSRNetGenerator(4, **{**SMALL, 'hourglass_depth': 6}).init(jax.random.key(0), lr,
                                                                               train=False))


def test_the_fine_loss_reaches_the_prior_branch():
  """The decoder reads the hourglass features, so the SR loss trains the priors too (the prior loss does in the
  step test below)."""
  model = FSRNetGenerator(4, **SMALL)
  lr = jax.random.uniform(jax.random.key(1), (2, 16, 16, 3), minval=-1, maxval=1)
  variables = model.init(jax.random.key(0), lr, train=False)

  def fine_loss(params):
    return losses.mse(model.apply({**variables, 'params': params}, lr, train=False)['sr'], jnp.zeros(()))

  grads = jax.jit(jax.grad(fine_loss))(variables['params'])
  norms = {name: float(jnp.sqrt(sum(jnp.sum(g ** 2) for g in jax.tree.leaves(tree)))) for name, tree in grads.items()}
  assert norms['Hourglass_0'] > 0 and norms['Hourglass_1'] > 0 and norms['ConvTranspose_0'] > 0


def test_heatmaps_peak_on_their_landmarks_and_decode_back():
  landmarks = jnp.array([[[10.5, 20.5], [40.5, 20.5], [24.5, 36.5], [14.5, 50.5], [34.5, 50.5]]])
  maps = landmark_heatmaps(landmarks, 64, 32, 1.0)
  assert maps.shape == (1, 32, 32, 5)
  np.testing.assert_allclose(maps.max(axis=(1, 2)), 1.0, atol=1e-6)  # 2k + 0.5 lands on prior pixel k
  np.testing.assert_allclose(heatmap_peaks(maps, 64), landmarks, atol=1e-5)
  assert float(landmark_error(heatmap_peaks(maps, 64), landmarks)) < 1e-6
  assert float(landmark_error(landmarks + 3.0, landmarks)) == pytest.approx(np.hypot(3, 3) / 30, rel=1e-5)


def test_procedural_landmarks_are_where_a_face_has_them(data_dir):
  for index in range(20):
    image, lm = procedural_faces.render_face_and_landmarks(index)
    np.testing.assert_array_equal(image, procedural_faces.render_face(index))
    (lx, ly), (rx, ry), (nx, ny), (mlx, mly), (mrx, mry) = lm
    assert lx < nx < rx and mlx < nx < mrx  # left to right
    assert max(ly, ry) < ny < min(mly, mry)  # eyes above the nose above the mouth
    assert 0 < lm.min() and lm.max() < 63
  example = pipeline.data_source('procedural_faces/tiny', 'train', data_dir)[3]
  np.testing.assert_allclose(example['landmarks'],
                             procedural_faces.render_face_and_landmarks(int(example['index']))[1])


def test_flipped_pairs_carry_flipped_landmarks(data_dir):
  source = pipeline.data_source('procedural_faces/tiny', 'train', data_dir)
  stream = pipeline.paired(source, 'image', 'bicubic', 4, seed=0, flip=True, landmarks_key='landmarks')
  flips = 0
  for i in range(16):
    pair = stream[i]
    original = next(source[j] for j in range(len(source)) if np.array_equal(
        source[j]['image'], pair['hr']) or np.array_equal(source[j]['image'][:, ::-1], pair['hr']))
    if np.array_equal(original['image'], pair['hr']):
      np.testing.assert_array_equal(pair['landmarks'], original['landmarks'])
    else:
      flips += 1
      np.testing.assert_allclose(pair['landmarks'], pipeline.flip_landmarks(original['landmarks'], 64))
      assert pair['landmarks'][0, 0] < pair['landmarks'][1, 0]  # still the image-left eye first
  assert 0 < flips < 16


def test_face_folder_landmarks_from_a_file_and_from_a_detector(photo_folder, tmp_path, monkeypatch):
  lines = ['2', 'lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x '
           'rightmouth_y'] + [f'{i}.jpg 20 40 50 40 35 55 25 70 45 70' for i in range(9)]  # 9.jpg has none
  (tmp_path / 'landmarks.txt').write_text('\n'.join(lines))
  config = builders.FaceFolderConfig(name='lm', path=str(photo_folder), min_size=64, test_fraction=0.0,
                                     landmarks=str(tmp_path / 'landmarks.txt'))
  pipeline.make_builder(builders.FaceFolder, str(tmp_path / 'tfds'), config=config).download_and_prepare()
  faces = pipeline.data_source('face_folder/lm', 'train', str(tmp_path / 'tfds'))
  assert len(faces) == 9  # gray.png and 9.jpg have no landmarks: skipped
  # 70x90 photos, centre crop (0, 10, 70, 70) resized to 64: x' = (x + .5) * 64/70 - .5, y' = (y - 10 + .5) * ...
  expected = (np.array([[20, 40], [50, 40], [35, 55], [25, 70], [45, 70]]) + 0.5 - [0, 10]) * 64 / 70 - 0.5
  np.testing.assert_allclose(faces[0]['landmarks'], expected, rtol=1e-5)

  calls = []

  def fake_detector():
    def detect(image):
      calls.append(image.shape)
      found = face_detection.Face((0, 0, 10, 10), 0.99, np.full((5, 2), 7.0, np.float32))
      return [found] if image.shape == (90, 70, 3) else []  # no face in the grayscale square
    return detect

  monkeypatch.setattr(mtcnn, 'detector', fake_detector)
  config = builders.FaceFolderConfig(name='mt', path=str(photo_folder), min_size=64, test_fraction=0.0,
                                     landmarks='mtcnn')
  pipeline.make_builder(builders.FaceFolder, str(tmp_path / 'tfds'), config=config).download_and_prepare()
  faces = pipeline.data_source('face_folder/mt', 'train', str(tmp_path / 'tfds'))
  assert len(faces) == 10 and len(calls) == 11
  np.testing.assert_allclose(faces[0]['landmarks'], (np.full((5, 2), 7.5) - [0, 10]) * 64 / 70 - 0.5, rtol=1e-5)


def test_fsrgan_step_trains_both_networks_and_the_prior_loss_falls(data_dir):
  config = tiny('fsrnet', data_dir)
  config.loss.adversarial = 0.01
  config.generator.optimizer.learning_rate = 3e-3
  method, state, batch, step, mesh = setup(config)
  before = jax.device_get(state.nets)
  batch = parallel.global_batch(batch, mesh)
  priors = []
  for _ in range(20):
    state, metrics = step(state, batch)
    priors.append(float(metrics['generator/prior']))
  assert priors[-1] < 0.5 * priors[0], priors

  def hourglass(nets):
    return np.asarray(nets['generator'].params['Hourglass_0']['BottleneckBlock_0']['Conv_0']['kernel'])

  assert not np.array_equal(hourglass(before), hourglass(jax.device_get(state.nets)))  # the priors learn
  for net in ('generator', 'discriminator'):
    assert any(not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(before[net].params),
                                                        jax.tree.leaves(jax.device_get(state.nets[net].params))))
  assert {'generator/coarse', 'generator/prior', 'generator/adversarial', 'discriminator/loss'} <= set(metrics)
  outputs, scalars = jax.jit(method.evaluate)(state, method.eval_data(data_dir), jax.random.key(0))
  assert list(outputs) == sorted(method.eval_columns)
  assert np.isfinite(scalars['landmarks/nme']) and np.isfinite(scalars['psnr/coarse'])
  # The paper's protocol (Y truncated to 8 bits, no border) is reported beside ours (Y unrounded, scale px border).
  assert scalars['fsrnet_protocol/psnr_y/output'] != scalars['psnr_y/output']
  assert np.isfinite(scalars['fsrnet_protocol/ssim_y/bicubic'])


def test_fsrgans_discriminator_judges_the_face_beside_its_lr_input(data_dir):
  config = tiny('fsrnet', data_dir)
  config.loss.adversarial = 0.01
  method, state, batch, *_ = setup(config)
  d = state.nets['discriminator']
  assert d.params['ConvNormAct_0']['Conv_0']['kernel'].shape[2] == 6  # RGB face + RGB bicubic LR-up
  hr = jnp.asarray(batch['hr'], jnp.float32) / 127.5 - 1
  lr = jnp.asarray(batch['lr'], jnp.float32) / 127.5 - 1
  logits = lambda cond: d(method.discriminator_input(hr, cond))  # noqa: E731
  assert float(jnp.abs(logits(lr) - logits(jnp.flip(lr, 0))).max()) > 1e-4  # the same faces, other inputs
  config.conditional_discriminator = False
  method, state, *_ = setup(config)
  assert state.nets['discriminator'].params['ConvNormAct_0']['Conv_0']['kernel'].shape[2] == 3


def test_missing_landmarks_are_named(photo_folder, tmp_path, data_dir):
  config = builders.FaceFolderConfig(name='plain', path=str(photo_folder), min_size=64, test_fraction=0.0)
  pipeline.make_builder(builders.FaceFolder, str(tmp_path), config=config).download_and_prepare()
  config = tiny('fsrnet', str(tmp_path), dataset='face_folder/plain', eval_dataset='face_folder/plain')
  with pytest.raises(KeyError, match='landmarks=mtcnn'):
    setup(config)
  with pytest.raises(ValueError, match='config.loss.prior'):
    setup(tiny('fsrnet', data_dir, landmarks_feature=''))
