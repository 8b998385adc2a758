"""The models shipped in pretrained/: each loads from the repository alone (its files match their recorded sha256),
upscales, and beats PIL bicubic on the embedded procedural faces, which it never saw."""
from pathlib import Path

import pytest

from jaxsr import evaluate, export, inference

PRETRAINED = Path(__file__).resolve().parents[1] / 'pretrained'
MODELS = sorted(p.name for p in PRETRAINED.iterdir() if export.is_export(p)) if PRETRAINED.is_dir() else []


def test_pretrained_holds_models_within_the_size_limits():
  assert MODELS, 'pretrained/ ships no model'
  sizes = {p: p.stat().st_size for p in PRETRAINED.rglob('*') if p.is_file()}
  assert max(sizes.values()) <= 16 * 2**20 and sum(sizes.values()) <= 48 * 2**20
  for name in MODELS:
    record = export.read_record(PRETRAINED / name)
    assert record['dtype'] == 'bfloat16' and name in (PRETRAINED / 'MANIFEST.md').read_text()


@pytest.mark.parametrize('name', MODELS)
def test_each_shipped_model_beats_bicubic_on_faces_it_never_saw(name, data_dir):
  model = inference.load(PRETRAINED / name)  # refuses a file whose sha256 differs from export.json
  data = evaluate.test_set(model.config.image_size, model.scale, dataset='procedural_faces/tiny', data_dir=data_dir,
                           limit=32)
  bicubic, ours = evaluate.evaluate([model], ['bicubic'], data, model.scale)[0]
  assert ours['psnr'] > bicubic['psnr'] + 0.5 and ours['ssim'] > bicubic['ssim'], (ours, bicubic)
