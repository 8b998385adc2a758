"""MTCNN in JAX with the mtcnn package's weights: a real face found, the cascade's box arithmetic."""
import numpy as np
import pytest

from jaxsr.data import mtcnn


@pytest.fixture(scope='module')
def detector():
  return mtcnn.detector()


def test_finds_the_face_in_a_real_photo_with_its_landmarks(detector):
  from skimage import data
  faces = detector(data.astronaut())  # 512x512, one face, roughly x 170-270, y 60-180
  assert len(faces) == 1 and faces[0].confidence > 0.95
  x, y, w, h = faces[0].box
  assert 160 < x < 200 and 40 < y < 90 and 60 < w < 120 and 80 < h < 140
  (left_eye, right_eye, nose, mouth_left, mouth_right) = faces[0].landmarks
  assert left_eye[0] < nose[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
  assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])
  assert x < left_eye[0] and right_eye[0] < x + w and y < left_eye[1] and mouth_left[1] < y + h


def test_no_face_in_a_flat_image(detector):
  assert detector(np.full((120, 160, 3), 128, np.uint8)) == []


def test_non_maximum_suppression_keeps_the_best_of_overlapping_boxes():
  boxes = np.array([[0, 0, 9, 9], [1, 1, 10, 10], [50, 50, 59, 59], [2, 2, 5, 5]], np.float32)
  scores = np.array([0.8, 0.9, 0.7, 0.95])
  np.testing.assert_array_equal(mtcnn._nms(boxes, scores, 0.5), [3, 1, 2])  # the small box overlaps < 0.5 (IoU)
  np.testing.assert_array_equal(mtcnn._nms(boxes, scores, 0.5, 'min'), [3, 2])  # but lies inside the others


def test_boxes_are_regressed_in_units_of_their_size_and_squared_about_their_centre():
  box = np.array([[10, 20, 29, 59]], np.float32)  # 20 wide, 40 high
  np.testing.assert_allclose(mtcnn._regress(box, np.array([[0.1, -0.1, 0.0, 0.5]])), [[12, 16, 29, 79]])
  np.testing.assert_allclose(mtcnn._square(box), [[0, 20, 39, 59]])
