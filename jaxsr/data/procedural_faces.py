"""Procedural cartoon faces: the embedded dataset that makes a fresh clone trainable with no download.

Every face is a pure function of (seed, index): the same index always renders the same face, on any machine.
Faces vary in skin tone, face shape, hair colour and style, eye colour, brows, nose, mouth, glasses,
background, lighting direction and a small pose change (roll, shift, scale, yaw). Shapes are drawn as
soft-edged signed-distance masks, so edges are anti-aliased without supersampling. The renderer also knows
where it put the five landmarks a face detector returns (eye centres, nose tip, mouth corners): the priors
FSRNet learns to predict.
"""
from pathlib import Path

import numpy as np
from PIL import Image

SKIN_LIGHT = np.array([250, 222, 196], np.float32)
SKIN_DARK = np.array([84, 52, 36], np.float32)
HAIR_COLOURS = np.array([[20, 16, 14], [60, 40, 26], [110, 72, 40], [170, 120, 70], [220, 190, 130],
                         [150, 60, 30], [130, 130, 130], [235, 235, 230]], np.float32)
IRIS_COLOURS = np.array([[60, 40, 25], [90, 60, 30], [60, 110, 160], [70, 120, 80], [110, 110, 120]], np.float32)


def _soft(signed_distance, pixel):
  """Coverage of a shape given the signed distance (negative inside) and the pixel size."""
  return np.clip(0.5 - signed_distance / pixel, 0.0, 1.0)


def _ellipse(x, y, cx, cy, ax, ay, power=2.0):
  """Approximate signed distance to a (super)ellipse; power > 2 squares it, < 2 pinches it."""
  r = (np.abs((x - cx) / ax) ** power + np.abs((y - cy) / ay) ** power) ** (1.0 / power)
  return (r - 1.0) * min(ax, ay)


def _paint(image, coverage, colour):
  image *= 1.0 - coverage[..., None]
  image += coverage[..., None] * colour


def render_face(index, size=64, seed=0):
  """Renders face `index` as a (size, size, 3) uint8 RGB array."""
  return render_face_and_landmarks(index, size, seed)[0]


def render_face_and_landmarks(index, size=64, seed=0):
  """Face `index` and its landmarks: (size, size, 3) uint8 RGB, (5, 2) float32 pixel (x, y) of the left and
  right eye centres (image left first), the nose tip and the left and right mouth corners, as MTCNN orders them."""
  rng = np.random.default_rng([seed, index])
  u = (np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0
  gx, gy = np.meshgrid(u, u)
  pixel = 2.0 / size

  # Pose: roll, shift, scale; yaw shifts the features sideways and narrows the far side of the face.
  roll = rng.uniform(-0.15, 0.15)
  scale = rng.uniform(0.88, 1.05)
  shift = rng.uniform(-0.06, 0.06, size=2)
  yaw = rng.uniform(-0.08, 0.08)
  cos, sin = np.cos(roll), np.sin(roll)
  px, py = gx - shift[0], gy - shift[1] - 0.04
  x = (cos * px + sin * py) / scale
  y = (-sin * px + cos * py) / scale
  px_face = pixel / scale

  # Background: a vertical gradient between two random colours.
  top, bottom = rng.uniform(20, 235, size=(2, 3)).astype(np.float32)
  t = (gy[..., None] + 1.0) / 2.0
  image = top * (1.0 - t) + bottom * t

  skin = SKIN_LIGHT + (SKIN_DARK - SKIN_LIGHT) * rng.beta(1.3, 1.6) + rng.normal(0, 6, 3)
  skin = np.clip(skin, 0, 255).astype(np.float32)
  hair = HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))] * rng.uniform(0.85, 1.15)
  face_w, face_h = rng.uniform(0.46, 0.58), rng.uniform(0.6, 0.74)
  chin = rng.uniform(1.7, 2.6)
  hair_style = rng.choice(['short', 'long', 'bangs', 'bald', 'bun'], p=[0.35, 0.3, 0.2, 0.05, 0.1])

  # Shirt and neck.
  _paint(image, _soft(_ellipse(x, y, 0.0, 1.25, 0.9, 0.45), px_face), rng.uniform(20, 235, 3))
  _paint(image, _soft(np.maximum(np.maximum(np.abs(x) - 0.2, y - 0.95), 0.3 - y), px_face), skin * 0.85)

  # Hair behind the face (long styles) and the ears.
  if hair_style == 'long':
    _paint(image, _soft(np.maximum(_ellipse(x, y, 0.0, 0.05, face_w + 0.14, face_h + 0.2), y - 0.85),
                        px_face), hair * 0.9)
  for side in (-1, 1):
    _paint(image, _soft(_ellipse(x, y, side * (face_w + 0.01), 0.02, 0.08, 0.14), px_face), skin * 0.93)

  # Face with a directional light on an ellipsoid normal.
  face = _soft(_ellipse(x, y, 0.0, 0.0, face_w, face_h, chin), px_face)
  light = rng.normal(size=2) * 0.5
  nz_x, nz_y = np.clip(x / face_w, -1, 1), np.clip(y / face_h, -1, 1)
  shade = 1.0 + 0.25 * (light[0] * nz_x + light[1] * nz_y) - 0.12 * (nz_x ** 2 + nz_y ** 2)
  _paint(image, face, skin * shade[..., None])

  # Hair on top: inside a cap ellipse and above a hairline.
  if hair_style != 'bald':
    hairline = -face_h * rng.uniform(0.35, 0.55) + (0.25 if hair_style == 'bangs' else 0.06) * (1 - (x / face_w) ** 2)
    if hair_style == 'bangs':
      hairline = hairline + 0.12
    cap = np.maximum(_ellipse(x, y, 0.0, -0.06, face_w + 0.06, face_h + 0.08), y - hairline)
    _paint(image, _soft(cap, px_face), hair)
    if hair_style == 'bun':
      _paint(image, _soft(_ellipse(x, y, 0.0, -face_h - 0.12, 0.2, 0.15), px_face), hair)

  # Eyes, brows, nose and mouth move together with yaw.
  fx = x - yaw
  eye_y, eye_dx = rng.uniform(-0.1, 0.02), rng.uniform(0.17, 0.24)
  eye_w, eye_h = rng.uniform(0.075, 0.11), rng.uniform(0.035, 0.06)
  iris = IRIS_COLOURS[rng.integers(len(IRIS_COLOURS))]
  brow_lift, brow_thick = rng.uniform(0.08, 0.14), rng.uniform(0.015, 0.035)
  for side in (-1, 1):
    ex = side * eye_dx * (1 - side * yaw * 2)
    _paint(image, _soft(_ellipse(fx, y, ex, eye_y, eye_w, eye_h), px_face), np.array([240, 238, 232.]))
    _paint(image, _soft(_ellipse(fx, y, ex + yaw * 0.3, eye_y, eye_h * 0.95, eye_h * 0.95), px_face), iris)
    _paint(image, _soft(_ellipse(fx, y, ex + yaw * 0.3, eye_y, eye_h * 0.4, eye_h * 0.4), px_face), np.zeros(3))
    brow_curve = eye_y - brow_lift + 2.0 * (fx - ex) ** 2
    brow = np.maximum(np.abs(y - brow_curve) - brow_thick, np.abs(fx - ex) - eye_w * 1.2)
    _paint(image, _soft(brow, px_face), hair * 0.7)

  nose_len, nose_w = rng.uniform(0.14, 0.24), rng.uniform(0.04, 0.07)
  nose_y = eye_y + nose_len + 0.08
  nose_line = np.maximum(np.abs(fx - 0.02 * np.sign(light[0])) - 0.012, np.abs(y - (eye_y + nose_y) / 2) - nose_len / 2)
  _paint(image, 0.35 * _soft(nose_line, px_face), skin * 0.6)
  for side in (-1, 1):
    _paint(image, 0.7 * _soft(_ellipse(fx, y, side * nose_w * 0.6, nose_y, nose_w * 0.45, 0.02), px_face), skin * 0.45)

  mouth_y, mouth_w = nose_y + rng.uniform(0.12, 0.2), rng.uniform(0.12, 0.2)
  smile = rng.uniform(-0.5, 2.5)
  lips = np.array([190, 80, 80], np.float32) * 0.5 + skin * 0.5
  lip_curve = mouth_y + smile * (mouth_w ** 2 - fx ** 2)  # corners above the centre: a smile
  mouth = np.maximum(np.abs(y - lip_curve) - rng.uniform(0.018, 0.04), np.abs(fx) - mouth_w)
  _paint(image, _soft(mouth, px_face), lips)
  if rng.random() < 0.3:  # open mouth
    _paint(image, _soft(np.maximum(np.abs(y - lip_curve) - 0.012, np.abs(fx) - mouth_w * 0.7), px_face),
           np.array([60, 20, 25.]))

  if rng.random() < 0.3:  # glasses: two rims and a bridge
    frame = np.array([20, 20, 20.]) if rng.random() < 0.7 else rng.uniform(0, 200, 3)
    radius = eye_w * rng.uniform(1.25, 1.6)
    for side in (-1, 1):
      ex = side * eye_dx * (1 - side * yaw * 2)
      rim = np.abs(np.hypot(fx - ex, (y - eye_y) * 1.2) - radius) - 0.012
      _paint(image, _soft(rim, px_face), frame)
    bridge = np.maximum(np.abs(y - eye_y + 0.02) - 0.01, np.abs(fx) - (eye_dx - radius))
    _paint(image, _soft(bridge, px_face), frame)

  # Global lighting: brightness and a colour cast.
  image = image * rng.uniform(0.8, 1.15) * rng.uniform(0.92, 1.08, 3)

  # Landmarks in face coordinates (fx, y), then through the pose (yaw, scale, roll, shift) back to pixels.
  eyes = [(side * eye_dx * (1 - side * yaw * 2) + yaw * 0.3, eye_y) for side in (-1, 1)]
  face_x, face_y = np.array(eyes + [(0.0, nose_y), (-mouth_w, mouth_y), (mouth_w, mouth_y)]).T
  posed_x, posed_y = (face_x + yaw) * scale, face_y * scale
  grid_x = cos * posed_x - sin * posed_y + shift[0]
  grid_y = sin * posed_x + cos * posed_y + shift[1] + 0.04
  landmarks = np.stack([grid_x, grid_y], axis=-1) * size / 2.0 + size / 2.0 - 0.5
  return np.clip(image + 0.5, 0, 255).astype(np.uint8), landmarks.astype(np.float32)


def identity_photos(people, photos=(('train', 4), ('val', 2)), size=64, margin=8, seed=0):
  """Yields (split, person, i, photo) for procedural people 0..people-1: each photo of a person is their face
  rendered at size + margin, cut at a random offset, relit and sometimes mirrored, so one person's photos differ as
  photos of one person do. `photos`: (split, photos per person) pairs."""
  rng = np.random.default_rng(seed)
  for person in range(people):
    face = render_face(person, size=size + margin)
    for split, count in photos:
      for i in range(count):
        y, x = rng.integers(0, margin + 1, 2)
        photo = face[y:y + size, x:x + size] * rng.uniform(0.8, 1.2)
        photo = photo[:, ::-1] if rng.random() < 0.5 else photo
        yield split, person, i, np.clip(photo, 0, 255).astype(np.uint8)


def write_identity_photos(root, people, photos=(('train', 4), ('val', 2)), size=64, margin=8, seed=0):
  """Writes `identity_photos` as `root/<split>/p<person>/<i>.png`, the identity_folder layout."""
  for split, person, i, photo in identity_photos(people, photos, size, margin, seed):
    folder = Path(root) / split / f'p{person}'
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo).save(folder / f'{i}.png')
