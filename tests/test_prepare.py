"""Wild photos -> HR and LR face sets: the confidence and size filters, alignment, the files and datasets."""
import json

import numpy as np
from PIL import Image

from jaxsr.data import alignment, pipeline, prepare, procedural_faces
from jaxsr.data.face_detection import Face


def face(x, y, side, confidence):
  """A detection whose landmarks sit where the template puts them in its box."""
  return Face((x, y, side, side), confidence, (alignment.TEMPLATE * side + np.array([x, y])).astype(np.float32))


def test_similarity_recovers_a_known_rotation_scale_and_shift():
  angle, scale, shift = 0.3, 1.7, np.array([5.0, -2.0])
  rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
  source = np.random.default_rng(0).normal(size=(5, 2)) * 10
  matrix = alignment.similarity(source, source @ (scale * rotation).T + shift)
  np.testing.assert_allclose(matrix, np.hstack([scale * rotation, shift[:, None]]), atol=1e-6)


def test_alignment_puts_the_landmarks_on_the_template():
  photo = Image.fromarray(procedural_faces.render_face(3, size=64)).resize((300, 300)).rotate(20, center=(150, 150))
  angle = np.deg2rad(20)  # PIL rotates counter-clockwise in the image: x' = c x + s y, y' = -s x + c y about the centre
  rotation = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
  landmarks = (alignment.TEMPLATE * 300 - 150) @ rotation.T + 150
  aligned, moved = alignment.align(photo, landmarks.astype(np.float32), 64)
  assert aligned.shape == (64, 64, 3)
  np.testing.assert_allclose(moved, alignment.TEMPLATE * 64, atol=1e-3)
  straight = procedural_faces.render_face(3, size=64).astype(np.float32)  # the face, upright again
  assert np.abs(aligned[8:56, 8:56].astype(np.float32) - straight[8:56, 8:56]).mean() < 12


def test_filters_sort_detections_and_the_sets_are_built(tmp_path):
  photos = tmp_path / 'photos'
  photos.mkdir()
  rng = np.random.default_rng(0)
  for i in range(3):
    Image.fromarray(rng.integers(0, 255, (200, 240, 3), np.uint8)).save(photos / f'p{i}.jpg')
  (photos / 'broken.jpg').write_bytes(b'not a photo')
  detections = [face(10, 10, 80, 0.99),   # HR
                face(100, 10, 90, 0.5),   # large but unsure: left out
                face(10, 120, 30, 0.95),  # LR
                face(60, 120, 36, 0.9),   # LR: 36 px is the largest LR face
                face(120, 100, 50, 0.99),  # between the sizes: left out
                face(140, 20, 64, 0.81)]  # HR: 64 px is the smallest HR face
  counts = prepare.prepare(photos, tmp_path / 'out', lambda image: detections, hr_size=32)
  assert {k: counts[k] for k in ('photos', 'unreadable', 'faces', 'hr', 'lr', 'low_confidence', 'between_sizes')} == {
      'photos': 4, 'unreadable': 1, 'faces': 18, 'hr': 6, 'lr': 6, 'low_confidence': 3, 'between_sizes': 3}
  assert json.loads((tmp_path / 'out' / 'summary.json').read_text())['hr'] == 6
  hr = sorted((tmp_path / 'out' / 'hr').glob('*.png'))
  assert len(hr) == 6 and Image.open(hr[0]).size == (32, 32)
  assert Image.open(tmp_path / 'out' / 'lr' / 'p0_3.png').size == (36, 36)
  assert (tmp_path / 'out' / 'contact_sheet.png').is_file()

  built = prepare.build_datasets(tmp_path / 'out', 'wild', str(tmp_path / 'tfds'), 32)
  assert sum(built['face_folder/wild'].values()) == 6 and sum(built['lr_face_folder/wild'].values()) == 6
  source = pipeline.data_source('face_folder/wild', 'train', str(tmp_path / 'tfds'))
  np.testing.assert_allclose(source[0]['landmarks'], alignment.TEMPLATE * 32, atol=0.05)  # stored for FSRNet
