"""jaxsr.evaluate: runs and the bicubic baseline on folders of faces, paired and unpaired."""
import csv

import numpy as np
import pytest
from PIL import Image

from jaxsr import evaluate
from jaxsr.data import degradations, procedural_faces
from jaxsr.evaluation import niqe
from jaxsr.using import inference


@pytest.fixture
def face_dirs(tmp_path):
  """hr/: six 80x70 faces; lr/: their 16x16 bicubic reductions under the same names; other_lr/: other names."""
  for name in ('hr', 'lr', 'other_lr'):
    (tmp_path / name).mkdir()
  for i in range(6):
    face = procedural_faces.render_face(i, size=80)[:, 5:75]
    Image.fromarray(face).save(tmp_path / 'hr' / f'f{i}.png')
    small = np.asarray(Image.fromarray(face[5:75]).resize((16, 16), Image.BICUBIC))
    Image.fromarray(small).save(tmp_path / 'lr' / f'f{i}.png')
    Image.fromarray(small).save(tmp_path / 'other_lr' / f'g{i}.png')
  (tmp_path / 'hr' / 'broken.jpg').write_bytes(b'no image')
  return tmp_path


def test_paired_folder_gives_every_column_for_the_baseline_and_each_run(srresnet_run, face_dirs, tmp_path):
  model = inference.load(srresnet_run)
  data = evaluate.test_set(64, 4, hr_dir=face_dirs / 'hr')
  assert data['hr'].shape == (6, 64, 64, 3) and data['lr'].shape == (6, 16, 16, 3)
  np.testing.assert_array_equal(data['lr'][2], degradations.bicubic(data['hr'][2], None, 4))
  rows, columns = evaluate.evaluate([model, model], ['bicubic'], data, 4, batch_size=4)
  evaluate.write(rows, columns, tmp_path / 'out', 'test')
  with open(tmp_path / 'out' / 'metrics.csv') as f:
    table = list(csv.DictReader(f))
  assert [r['method'] for r in table] == ['bicubic (PIL)', 'srresnet (srresnet)', 'srresnet (srresnet)']
  assert list(table[0]) == [c for c in evaluate.COLUMNS if c not in ('fid', 'kid', 'lpips', 'niqe')]  # none given
  bicubic = np.stack([degradations.upscale_bicubic(x, 4) for x in data['lr']])
  expected = evaluate.score(bicubic, data['lr'], data['hr'], data['hr'], 4)
  assert float(table[0]['psnr_y']) == pytest.approx(expected['psnr_y'])
  assert table[0]['parameters'] == '' and int(table[1]['parameters']) == model.parameters
  assert float(table[1]['images_per_second']) > 0
  _, rate = evaluate.run_model(model, data['lr'][:2], batch_size=4)  # one batch: timed once compiled
  assert np.isfinite(rate) and rate > 0
  assert (tmp_path / 'out' / 'grid.png').is_file() and '| method |' in (tmp_path / 'out' / 'metrics.md').read_text()
  with open(tmp_path / 'out' / 'per_face.csv') as f:
    faces = list(csv.DictReader(f))
  assert len(faces) == 3 * 6 and list(faces[0]) == ['face', 'method', 'psnr', 'ssim', 'psnr_y', 'ssim_y',
                                                     'lr_consistency']
  assert [r['face'] for r in faces[:6]] == [str(i) for i in range(6)]  # no names given: the test set's order
  bicubic_faces = [float(r['psnr']) for r in faces if r['method'] == 'bicubic (PIL)']
  assert np.mean(bicubic_faces) == pytest.approx(float(table[0]['psnr']), abs=1e-4)  # the table is their mean
  assert len(set(bicubic_faces)) == 6
  evaluate.write(rows, columns, tmp_path / 'named', 'test', names=[f'f{i}' for i in range(6)])
  assert (tmp_path / 'named' / 'per_face.csv').read_text().splitlines()[1].startswith('f0,bicubic (PIL),')


def test_lr_folder_pairs_by_name_or_is_scored_without_ground_truth(face_dirs):
  paired = evaluate.test_set(64, 4, hr_dir=face_dirs / 'hr', lr_dir=face_dirs / 'lr')
  assert paired['names'] == [f'f{i}' for i in range(6)]
  np.testing.assert_array_equal(paired['lr'][0], np.asarray(Image.open(face_dirs / 'lr' / 'f0.png')))
  assert paired['hr'].shape == (6, 64, 64, 3)
  unpaired = evaluate.test_set(64, 4, hr_dir=face_dirs / 'hr', lr_dir=face_dirs / 'other_lr')
  assert unpaired['hr'] is None and unpaired['reference'].shape == (6, 64, 64, 3)
  rows, _ = evaluate.evaluate([], ['bicubic'], unpaired, 4)
  assert set(rows[0]) == {'method', 'step', 'lr_consistency', 'swd', 'per_face'}
  assert set(rows[0]['per_face']) == {'lr_consistency'} and rows[0]['per_face']['lr_consistency'].shape == (6,)
  pixels = lambda x: np.asarray(x, np.float64).reshape(len(x), -1)[:, :32]  # noqa: E731  (a stand-in for Inception)
  rows, _ = evaluate.evaluate([], ['bicubic'], unpaired, 4, features=pixels)
  assert rows[0]['fid'] > 0 and np.isfinite(rows[0]['kid'])
  hr_patches = np.concatenate([niqe.features(niqe.luminance(x), 16)[0] for x in unpaired['reference']])
  model = niqe.Model(np.nanmean(hr_patches, 0), np.cov(hr_patches[~np.isnan(hr_patches).any(1)], rowvar=False), 16)
  rows, _ = evaluate.evaluate([], ['bicubic'], unpaired, 4, niqe_model=model)  # no reference needed
  bicubic = np.stack([degradations.upscale_bicubic(x, 4) for x in unpaired['lr']])
  assert rows[0]['niqe'] == pytest.approx(niqe.score_set(bicubic, model)) and rows[0]['niqe'] > 0
  with pytest.raises(ValueError, match='unknown'):
    evaluate.evaluate([], ['lanczos'], unpaired, 4)


def test_grids_name_their_columns_or_rows_under_a_title():
  from jaxsr.core import images
  colour = lambda value, size: np.full((3, size, size, 3), value, np.float32)  # noqa: E731
  columns = {'LR': colour(-1.0, 16), 'a long method name, step 1200': colour(1.0, 64)}
  by_column = images.grid(columns, title='step 1200')
  header = by_column.shape[0] - 3 * 66 - 2
  assert header >= 12 + 2 * 12  # the title line, and the long name wrapped to fit its 64 px column
  assert by_column.shape[1] == 2 * 66 + 2
  assert (by_column[:header] < 128).any()  # text
  np.testing.assert_array_equal(by_column[header + 2:header + 66, 2:66], 0)  # the LR column, enlarged 4x
  np.testing.assert_array_equal(by_column[header + 2:header + 66, 68:132], 255)
  by_row = images.grid(columns, title='faces', by_row=True)
  label = by_row.shape[1] - 3 * 66 - 2
  assert label > 64 and by_row.shape[0] == 12 + 2 * 66 + 2
  np.testing.assert_array_equal(by_row[12 + 2:12 + 66, label + 2:label + 66], 0)  # row 1: LR
  np.testing.assert_array_equal(by_row[12 + 68:12 + 132, label + 2:label + 66], 255)
  assert (by_row[:, :label] < 128).any()
