"""The tools on odd folders, odd photos and odd flags: every face counted, nothing silently dropped, turned or
mis-scored (README, "What jaxsr refuses, and why")."""
import logging
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from jaxsr import evaluate
from jaxsr.data import builders, face_detection, image_files, pipeline
from jaxsr.storage import exports
from jaxsr.using import inference


def save(path, pixels, **kwargs):
  path.parent.mkdir(parents=True, exist_ok=True)
  Image.fromarray(np.asarray(pixels, np.uint8)).save(path, **kwargs)
  return path


def noise(shape, seed=0):
  return np.random.default_rng(seed).integers(0, 256, shape, np.uint8)


# 9. evaluate: pairs, duplicated stems, outputs inside inputs, geometry.

def test_folders_that_pair_only_in_part_are_named_and_refused(tmp_path, caplog):
  for i in range(4):
    save(tmp_path / 'hr' / f'f{i}.png', noise((64, 64, 3), i))
  for i in range(1, 5):
    save(tmp_path / 'lr' / f'f{i}.png', noise((16, 16, 3), i))
  with pytest.raises(ValueError, match=r"3 faces pair by name; 1 in --lr_dir have no HR face \(e.g. \['f4'\]\) and "
                                       r"1 in --hr_dir have no LR face \(e.g. \['f0'\]\).*--partial_pairs"):
    evaluate.test_set(64, 4, hr_dir=tmp_path / 'hr', lr_dir=tmp_path / 'lr')
  with caplog.at_level(logging.WARNING):
    data = evaluate.test_set(64, 4, hr_dir=tmp_path / 'hr', lr_dir=tmp_path / 'lr', partial_pairs=True)
  assert len(data['lr']) == 3 and 'evaluating the 3 pairs' in caplog.text


def test_two_files_of_one_stem_are_two_faces(tmp_path):
  save(tmp_path / 'hr' / 'a.png', noise((64, 64, 3), 0))
  save(tmp_path / 'hr' / 'a.jpg', noise((64, 64, 3), 1), quality=95)
  save(tmp_path / 'hr' / 'b.png', noise((64, 64, 3), 2))
  assert sorted(evaluate.read_folder(tmp_path / 'hr', 64)) == ['a.jpg', 'a.png', 'b']
  assert len(evaluate.test_set(64, 4, hr_dir=tmp_path / 'hr')['hr']) == 3


def test_an_output_inside_an_input_and_a_geometry_the_runs_lack_are_refused_first(srresnet_run, tmp_path):
  with pytest.raises(ValueError, match='--out=.* is inside --hr_dir'):
    evaluate.check_output_folder(tmp_path / 'faces' / 'eval', {'--hr_dir': tmp_path / 'faces', '--lr_dir': None})
  evaluate.check_output_folder(tmp_path / 'eval', {'--hr_dir': tmp_path / 'faces'})
  model = inference.load(srresnet_run)
  assert evaluate.geometry([model]) == (64, 4) == evaluate.geometry([model], 64, 4)
  with pytest.raises(ValueError, match='--scale=2, but the runs were trained at 4: drop --scale'):
    evaluate.geometry([model], scale=2)
  with pytest.raises(ValueError, match='--image_size=128, but the runs were trained at 64'):
    evaluate.geometry([model], image_size=128)
  assert evaluate.geometry([], 128, 8) == (128, 8)


# 10. EXIF orientation, everywhere an image is read.

def test_a_phone_photo_is_read_upright(tmp_path):
  upright = np.zeros((40, 20, 3), np.uint8)  # tall: top half red
  upright[:20, :, 0] = 255
  stored = Image.fromarray(np.rot90(upright, k=1).copy())  # stored on its side, as a phone does
  exif = stored.getexif()
  exif[0x0112] = 6  # Orientation: rotate 90 CW to view
  stored.save(tmp_path / 'phone.jpg', exif=exif, quality=100)
  image = image_files.read_rgb(tmp_path / 'phone.jpg')
  assert image.size == (20, 40)
  pixels = np.asarray(image, int)
  assert pixels[:20, :, 0].mean() > 200 and pixels[20:, :, 0].mean() < 50


# 11-12. upscale and export: flags and damaged checkpoints.

def test_upscale_refuses_a_batch_size_below_one(srresnet_run, tmp_path):
  save(tmp_path / 'in' / 'a.png', noise((16, 16, 3)))
  result = subprocess.run([sys.executable, '-m', 'jaxsr.upscale', f'--run={srresnet_run}', f'--input={tmp_path / "in"}',
                           f'--output={tmp_path / "out"}', '--batch_size=0'], capture_output=True, text=True,
                          timeout=120)
  assert result.returncode != 0 and 'FATAL Flags parsing error: flag --batch_size=0' in result.stderr
  assert not (tmp_path / 'out').exists()


def test_a_damaged_newest_checkpoint_falls_back_and_steps_are_named(srresnet_run, tmp_path, caplog):
  run = tmp_path / 'run'
  shutil.copytree(srresnet_run, run)
  good = inference.load(run)
  newer = run / 'checkpoints' / '4'
  shutil.copytree(run / 'checkpoints' / '2', newer)
  for array_file in newer.rglob('*'):
    if array_file.is_file() and 'ocdbt' in str(array_file.relative_to(newer)):
      array_file.write_bytes(array_file.read_bytes()[:7])
  with caplog.at_level(logging.WARNING):
    model = inference.load(run)
  assert model.step == 2 and 'Checkpoint 4' in caplog.text and 'trying an older one' in caplog.text
  assert newer.is_dir()  # a reading tool moves nothing
  lr = noise((2, 16, 16, 3))
  np.testing.assert_array_equal(model.upscale(lr), good.upscale(lr))
  with pytest.raises(FileNotFoundError, match=r'--step=99: .* keeps steps \[2, 4\]'):
    inference.load(run, 99)


def test_an_export_has_one_step_and_goes_into_a_folder(srresnet_run, tmp_path):
  model = inference.load(srresnet_run)
  exports.write(tmp_path / 'e', (srresnet_run / 'config.json').read_text(), model.step, model.network,
               model.variables())
  assert inference.load(tmp_path / 'e', 2).step == 2
  with pytest.raises(ValueError, match='--step=5: .* is an export of step 2 only; drop --step'):
    inference.load(tmp_path / 'e', 5)
  (tmp_path / 'file').write_text('')
  with pytest.raises(FileExistsError, match='--out: .* is a file; name a folder'):
    exports.write(tmp_path / 'file', '{}', 2, 'generator', {'params': {}})


# 13. data.build details.

def test_an_unreadable_file_is_never_the_fallback_test_split(tmp_path, data_dir):
  root = tmp_path / 'faces'
  names = [f'{i}.png' for i in range(3)]
  keys = sorted(names, key=builders._split_key)
  for name in keys[1:]:
    save(root / name, noise((64, 64, 3)))
  (root / keys[0]).write_bytes(b'not an image, and the lowest hash')
  config = builders.FaceFolderConfig(name='fallback', path=str(root), test_fraction=1e-4)
  builder = pipeline.build_folder_dataset(builders.FaceFolder, config, data_dir)
  assert builder.info.splits['test'].num_examples == 1 and builder.info.splits['train'].num_examples == 1
  assert builder.info.metadata['skipped']['train']['unreadable'] == 1


def test_a_crop_box_outside_an_image_skips_it_counted_and_a_bad_crop_is_named(tmp_path, data_dir):
  root = tmp_path / 'faces'
  for i in range(4):
    save(root / f'big{i}.png', noise((100, 100, 3), i))
  save(root / 'small.png', noise((60, 60, 3)))
  config = builders.FaceFolderConfig(name='boxed', path=str(root), crop='10,10,64,64', test_fraction=0.5)
  builder = pipeline.build_folder_dataset(builders.FaceFolder, config, data_dir)
  skipped = builder.info.metadata['skipped']
  assert sum(s['crop_outside'] for s in skipped.values()) == 1
  assert sum(builder.info.splits[s].num_examples for s in builder.info.splits) == 4
  for crop in ('10,10,64', '-1,0,64,64', 'middle'):
    bad = builders.FaceFolderConfig(name='bad_crop', path=str(root), crop=crop)
    with pytest.raises(ValueError, match='--crop'):
      pipeline.build_folder_dataset(builders.FaceFolder, bad, data_dir)


def test_landmark_files_with_blank_lines_and_nan_coordinates(tmp_path, caplog):
  (tmp_path / 'landmarks.txt').write_text('2\nlefteye_x lefteye_y ...\n\n'
                                          'a.jpg 1 2 3 4 5 6 7 8 9 10\n\nb.jpg 1 2 nan 4 5 6 7 8 9 10\n')
  with caplog.at_level(logging.WARNING):
    table = face_detection.read_landmarks_file(tmp_path / 'landmarks.txt')
  assert list(table) == ['a.jpg'] and 'left out 1 lines with non-finite' in caplog.text


def test_every_image_type_and_symlinked_folder_is_found_and_the_rest_counted(tmp_path, caplog):
  root = tmp_path / 'photos'
  save(root / 'a.tif', noise((20, 20, 3)))
  save(root / 'b.gif', noise((20, 20, 3)))
  save(tmp_path / 'elsewhere' / 'c.png', noise((20, 20, 3)))
  (root / 'linked').symlink_to(tmp_path / 'elsewhere', target_is_directory=True)
  (root / 'loop').symlink_to(root, target_is_directory=True)  # followed once, not for ever
  os.mkfifo(root / 'pipe.png')
  (root / 'notes.txt').write_text('')
  with caplog.at_level(logging.INFO, logger='absl'):  # whatever level an imported library left it at
    found = image_files.find(root)
  assert [p.relative_to(root).as_posix() for p in found] == ['a.tif', 'b.gif', 'linked/c.png']
  assert '1 .txt files' in caplog.text and '1 entries named as images that are not regular files' in caplog.text


def test_transparent_pixels_become_the_background_not_their_hidden_colour(tmp_path):
  pixels = np.zeros((8, 8, 4), np.uint8)
  pixels[..., 0] = 255  # red, hidden
  pixels[:, 4:, 3] = 255  # right half opaque
  save(tmp_path / 'cut_out.png', pixels)
  rgb = np.asarray(image_files.read_rgb(tmp_path / 'cut_out.png'))
  assert (rgb[:, :4] == image_files.BACKGROUND).all() and (rgb[:, 4:] == (255, 0, 0)).all()


def test_checkpoint_reads_retry_and_name_what_failed(srresnet_run, tmp_path):
  run = tmp_path / 'run'
  shutil.copytree(srresnet_run, run)
  for f in (run / 'checkpoints' / '2').rglob('*'):
    if f.is_file() and 'ocdbt' in str(f):
      f.write_bytes(b'')
  with pytest.raises(OSError, match=r'no checkpoint reads back \(tried steps \[2\]; step 2: '):
    inference.load(run)
