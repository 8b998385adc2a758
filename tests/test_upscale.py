"""jaxsr.upscale and jaxsr.inference: a trained run super-resolves face crops and the faces in a whole photo."""
import numpy as np
import pytest
from PIL import Image

from jaxsr import inference, upscale
from jaxsr.data.face_detection import Face


def test_a_run_upscales_crops_at_its_scale(srresnet_run):
  model = inference.load(srresnet_run)
  assert model.step == 2 and model.scale == 4 and model.parameters > 0
  lr = np.random.default_rng(0).integers(0, 255, (3, 16, 16, 3), np.uint8)
  sr = upscale.upscale_faces(model, lr, batch_size=2)  # two batches, the second padded
  assert sr.shape == (3, 64, 64, 3) and sr.dtype == np.uint8
  np.testing.assert_array_equal(sr[2], model.upscale(lr[2:])[0])
  with pytest.raises(FileNotFoundError, match='not a jaxsr run'):
    inference.load(srresnet_run / 'checkpoints')


def test_faces_in_a_photo_are_pasted_into_its_bicubic_enlargement(srresnet_run):
  model = inference.load(srresnet_run)
  photo = Image.fromarray(np.random.default_rng(1).integers(0, 255, (60, 90, 3), np.uint8))
  detect = lambda image: [Face((50.0, 10.0, 20.0, 20.0), 0.99, np.zeros((5, 2), np.float32))]  # noqa: E731
  result, found = upscale.upscale_photo(model, photo, detect, margin=1.5, feather=0.2)
  assert found == 1 and result.shape == (240, 360, 3)
  bicubic = np.asarray(photo.resize((360, 240), Image.BICUBIC))
  np.testing.assert_array_equal(result[:, :150], bicubic[:, :150])  # away from the face: the plain enlargement
  face = (slice(4 * 10 + 10, 4 * 30 - 10), slice(4 * 50 + 10, 4 * 70 - 10))  # the centre of the pasted square
  assert np.abs(result[face].astype(int) - bicubic[face]).mean() > 1


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
