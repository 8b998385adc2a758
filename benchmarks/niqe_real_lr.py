"""NIQE of super-resolved real LR faces: the held-out real WIDER LR faces of the CPU campaign, enlarged x4 by
bicubic and by each run, scored against a NIQE model of HR faces; the held-out HR faces themselves are the floor.

    python -m jaxsr.niqe --fit --images=../shared/data/celeba_hr --crop=12,22,64,64 --patch=32 \
        --out=runs/niqe/celeba_hr_p32.npz
    python benchmarks/niqe_real_lr.py --niqe=runs/niqe/celeba_hr_p32.npz \
        --runs=pretrained/edsr_x4_celeba,pretrained/edsr_x4_bicubic_ablation,pretrained/edsr_x4_h2l

The datasets are the campaign's (`benchmarks/cpu/campaign.py` builds them in --data_dir). Each method's 64 px
outputs are scored as one set (jaxsr.niqe.score_set: 4 patches of 32 px a face); SWD and LR consistency as in
the campaign's measurement sit beside it.
"""
import sys
from pathlib import Path

from absl import app, flags

from jaxsr import evaluate
from jaxsr.data import pipeline
from jaxsr.evaluation import niqe
from jaxsr.using import inference

import common

REPO = Path(__file__).resolve().parents[1]
_NIQE = flags.DEFINE_string('niqe', None, 'A NIQE model of HR faces (python -m jaxsr.niqe --fit).', required=True)
_RUNS = flags.DEFINE_list('runs', [], 'x4 runs or exports to measure.')
_DATA_DIR = flags.DEFINE_string('data_dir', str(REPO / 'runs' / 'campaign' / 'tfds'), "The campaign's datasets.")
_LR_SET = flags.DEFINE_string('lr_dataset', 'lr_face_folder/wider', 'Real LR faces; its test split is scored.')
_HR_SET = flags.DEFINE_string('hr_dataset', 'face_folder/celeba_hr', 'HR faces; its test split is the floor.')
_RESULTS = flags.DEFINE_string('results', str(REPO / 'benchmarks' / 'RESULTS.md'), 'Markdown file to append to.')


def held_out(dataset):
  source = pipeline.data_source(dataset, 'test', _DATA_DIR.value)
  return pipeline.first_examples(source, 10**9, ['image'])['image']


def main(argv):
  del argv
  model = niqe.load(_NIQE.value, '--niqe')
  runs = [inference.load(r) for r in _RUNS.value]
  lr, hr = held_out(_LR_SET.value), held_out(_HR_SET.value)
  data = {'lr': lr, 'hr': None, 'reference': hr[:len(lr)], 'names': [str(i) for i in range(len(lr))]}
  rows, _ = evaluate.evaluate(runs, ['bicubic'], data, 4, niqe_model=model)
  table = [f'| held-out {_HR_SET.value} faces (real HR) | {niqe.score_set(hr, model):.2f} | - | - |']
  table += [f'| {r["method"]} | {r["niqe"]:.2f} | {r["swd"]:.1f} | {r["lr_consistency"]:.1f} |' for r in rows]
  print('\n'.join(table))
  where = (f'### NIQE of x4 outputs on the {len(lr)} held-out real LR faces of {_LR_SET.value} (model: '
           f'`{Path(_NIQE.value).name}`, {model.patch} px patches, lower is more natural; '
           f'{common.device_description()})')
  common.append_results(Path(_RESULTS.value), where, ['benchmarks/niqe_real_lr.py', *sys.argv[1:]],
                        '| faces | NIQE (as a set) | SWD to HR faces | LR consistency (dB) |', table)


if __name__ == '__main__':
  app.run(main)
