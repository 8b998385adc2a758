"""The CPU training campaign that makes pretrained/: one command per model, in rounds that add up across restarts.

    nohup python benchmarks/cpu/campaign.py --model=edsr_x4_celeba --minutes=120 > campaign.log 2>&1 &
    python benchmarks/cpu/campaign.py --model=edsr_x4_celeba --finish     # measure and ship the last round only

A round, on this machine's 2 cores:
1. builds the real face sets from --shared_data when they are missing (celeba_hr: 64x64 crops, the same 6% of
   file names held out every time by their hash; wider: real 16x16 LR faces, 5% held out);
2. trains for --minutes through `python -m jaxsr.main` (config.train_minutes), one warmup + cosine cycle whose
   length is the fastest recorded round's steps per minute times --minutes (SGDR's warm restarts, Loshchilov &
   Hutter, ICLR 2017). An unfinished round in runs/campaign/<model>/ is resumed as it was; a new round starts from
   the last finished round on this machine (float32 weights, its moving average) or else from the model's export
   in pretrained/ (bfloat16 weights). Either way only the weights come over: the optimizer state starts afresh;
3. measures the round on the held-out split with jaxsr.evaluate (every held-out face, PIL bicubic beside it);
4. exports the generator in bfloat16 to pretrained/<model>/ only when the held-out metric beats the shipped one
   by --min_gain (0.1 dB), measures the export itself (the bfloat16 weights people download), and
5. appends the round to pretrained/MANIFEST.md (command, steps and hours so far, data, metrics, sha256) and to
   pretrained/<model>/rounds.json, the record the next round reads; an exported round also redraws
   docs/<model>.png (8 held-out faces: LR, bicubic, the model, HR).
"""
import dataclasses
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from absl import app, flags, logging

REPO = Path(__file__).resolve().parents[2]
_MODEL = flags.DEFINE_string('model', 'edsr_x4_celeba', 'Which model of MODELS to train.')
_MINUTES = flags.DEFINE_float('minutes', 60.0, 'Training minutes of this round (evaluation and export come after).')
_FINISH = flags.DEFINE_bool('finish', False, 'Do not train: measure, export and record the last round.')
_SHARED = flags.DEFINE_string('shared_data', str(REPO.parent / 'shared' / 'data'), 'The real face photos.')
_RUNS = flags.DEFINE_string('runs', str(REPO / 'runs' / 'campaign'), 'Rounds and datasets live under it.')
_PRETRAINED = flags.DEFINE_string('pretrained', str(REPO / 'pretrained'), 'Where exports and MANIFEST.md go.')
_MIN_GAIN = flags.DEFINE_float('min_gain', 0.1, 'Export only when the held-out PSNR beats the shipped one by this.')


@dataclasses.dataclass(frozen=True)
class Model:
  config: str  # configs/<name>.py:<variant>
  overrides: dict  # --config.<key>=<value> beyond the dataset's
  steps_per_minute: float  # first round's guess of the step rate, for the length of its cosine
  warmup_steps: int  # of each round's cycle; at most a tenth of the round's steps
  description: str


MODELS = {
    'edsr_x4_celeba': Model(
        config='edsr.py:face_cpu', overrides={'eval_every': 1000, 'checkpoint_every': 500, 'log_every': 50},
        steps_per_minute=60.0, warmup_steps=1000,
        description='EDSR baseline body (16 blocks of 64), bicubic skip, one-shuffle tail; x4, 16 -> 64 faces'),
}

# What every round reads: (tfds kind/name, source folder under --shared_data, build flags).
DATASETS = {
    'face_folder/celeba_hr': ('celeba_hr', ['--crop=12,22,64,64', '--test_fraction=0.06']),
    'lr_face_folder/wider': ('wider_lr', []),
}
TRAIN_SET = 'face_folder/celeba_hr'


def data_dir():
  return Path(_RUNS.value) / 'tfds'


def build_datasets():
  """Builds what is missing; a dataset already built from the same folder and options is reused as it is."""
  for name, (folder, extra) in DATASETS.items():
    kind, short = name.split('/')
    if list((data_dir() / kind / short).glob('*/dataset_info.json')):
      continue
    subprocess.run([sys.executable, '-m', 'jaxsr.data.build', kind, f'--path={Path(_SHARED.value) / folder}',
                    f'--name={short}', f'--data_dir={data_dir()}', *extra], check=True, cwd=REPO)


def rounds_dir(model):
  return Path(_RUNS.value) / model


def round_dirs(model):
  """Round directories, oldest first."""
  found = [p for p in rounds_dir(model).glob('round-*') if p.name.split('-')[1].isdigit()]
  return sorted(found, key=lambda p: int(p.name.split('-')[1]))


def shipped(model):
  return Path(_PRETRAINED.value) / model


def history(model):
  """Every recorded round of `model` (pretrained/<model>/rounds.json), oldest first."""
  path = shipped(model) / 'rounds.json'
  return json.loads(path.read_text()) if path.is_file() else []


def train_command(model, workdir, init_from, minutes, steps):
  spec = MODELS[model]
  overrides = {'dataset': TRAIN_SET, 'eval_dataset': TRAIN_SET, 'data_dir': str(data_dir()), 'num_steps': steps,
               'generator.optimizer.decay_steps': steps,
               'generator.optimizer.warmup_steps': min(spec.warmup_steps, steps // 10), 'train_minutes': minutes,
               'init_from': init_from,
               **spec.overrides}
  return [sys.executable, '-m', 'jaxsr.main', f'--config={REPO / "configs" / spec.config}', f'--workdir={workdir}',
          *(f'--config.{k}={v}' for k, v in overrides.items())]


def next_round(model, minutes):
  """(workdir, command) of the round to train now: the unfinished one resumed, or a new one."""
  rounds = round_dirs(model)
  if rounds and not (rounds[-1] / 'result.json').is_file():
    record = json.loads((rounds[-1] / 'round.json').read_text())
    command = record['command']
    command[command.index(next(a for a in command if a.startswith('--config.train_minutes=')))] = (
        f'--config.train_minutes={minutes}')
    logging.info('Resuming the unfinished %s.', rounds[-1].name)
    return rounds[-1], command
  past = history(model)
  # the fastest round's rate (a quiet machine's): the cosine may then end short of 0, never before the minutes do
  rate = max((r['round_steps'] / r['round_minutes'] for r in past if r['round_minutes']),
             default=MODELS[model].steps_per_minute)
  steps = max(100, int(rate * minutes))
  if rounds and (rounds[-1] / 'checkpoints').is_dir():
    init_from = str(rounds[-1])
  elif (shipped(model) / 'export.json').is_file():
    init_from = str(shipped(model))
  else:
    init_from = ''
  # numbered after every recorded round too: on a new machine the rounds before live only in rounds.json
  number = max([int(r.name.split('-')[1]) for r in rounds] + [len(past)]) + 1
  workdir = rounds_dir(model) / f'round-{number}'
  command = train_command(model, workdir, init_from, minutes, steps)
  workdir.mkdir(parents=True)
  (workdir / 'round.json').write_text(json.dumps({'command': command, 'init_from': init_from,
                                                  'started': _now()}, indent=2))
  logging.info('%s of %s: %d steps planned (%.1f steps/min), from %s.', workdir.name, model, steps, rate,
               init_from or 'scratch')
  return workdir, command


def _now():
  return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')


def measure(run, out):
  """jaxsr.evaluate's rows (bicubic, then the run) on every held-out face of the train set's test split; its
  tables and grid (dataset faces: they stay out of pretrained/) go to `out`."""
  from jaxsr import evaluate, inference
  model = inference.load(run)
  data = evaluate.test_set(model.config.image_size, model.scale, dataset=TRAIN_SET, data_dir=str(data_dir()))
  rows, columns = evaluate.evaluate([model], ['bicubic'], data, model.scale)
  title = f'{TRAIN_SET}, test split: {len(data["lr"])} held-out faces, x{model.scale}, PIL bicubic LR'
  evaluate.write(rows, columns, out, title)
  return rows, len(data['lr']), columns


def figure(columns, path, zoom=2, pad=2):
  """README's figure: one row per column of jaxsr.evaluate's grid (LR, bicubic, the model, HR), its first 8
  held-out faces side by side, every image shown at the HR size x `zoom` by pixel repetition."""
  from PIL import Image
  from jaxsr import images
  size = max(v.shape[1] for v in columns.values()) * zoom
  rows = [images.to_uint8(v[:8]).repeat(size // v.shape[1], axis=1).repeat(size // v.shape[1], axis=2)
          for v in columns.values()]
  out = np.full((len(rows) * (size + pad) + pad, 8 * (size + pad) + pad, 3), 255, np.uint8)
  for r, faces in enumerate(rows):
    for c, face in enumerate(faces):
      out[pad + r * (size + pad):(r + 1) * (size + pad), pad + c * (size + pad):(c + 1) * (size + pad)] = face
  Image.fromarray(out).save(path, optimize=True)


def export(run, model):
  """Replaces pretrained/<model>/'s weights by the run's (bfloat16); the round record file stays."""
  from jaxsr import export as exporting
  from jaxsr import inference
  loaded = inference.load(run)
  staging = shipped(model).with_name(f'.{model}.staging')
  shutil.rmtree(staging, ignore_errors=True)
  files = exporting.write(staging, (Path(run) / 'config.json').read_text(), loaded.step, loaded.network,
                          loaded.variables(), 'bfloat16', source=_relative(run))
  target = shipped(model)
  target.mkdir(parents=True, exist_ok=True)
  for old in target.glob('variables-*.npz'):
    old.unlink()
  for path in staging.iterdir():
    os.replace(path, target / path.name)
  staging.rmdir()
  return files


def finish(model, workdir, command, minutes_trained):
  """Measures the round, exports it if it gained, records it."""
  config = json.loads((workdir / 'config.json').read_text())
  steps = _last_step(workdir)
  rows, faces, _ = measure(workdir, workdir / 'held_out')
  bicubic, run = rows
  past = history(model)
  best = max((r['shipped_psnr'] for r in past if r.get('shipped_psnr') is not None), default=None)
  exported = best is None or run['psnr'] >= best + _MIN_GAIN.value
  record = {
      'round': workdir.name, 'finished': _now(), 'command': ' '.join(_relative(a) for a in command),
      'init_from': _relative(json.loads((workdir / 'round.json').read_text())['init_from']) or 'scratch',
      'round_steps': steps, 'round_minutes': round(minutes_trained, 1),
      'total_steps': steps + sum(r['round_steps'] for r in past),
      'total_hours': round((minutes_trained + sum(r['round_minutes'] for r in past)) / 60.0, 2),
      'held_out_faces': faces, 'bicubic': _metrics(bicubic), 'run': _metrics(run), 'exported': exported,
      'recipe': {'lr': config['generator']['optimizer']['learning_rate'], 'batch': config['batch_size'],
                 'schedule': config['generator']['optimizer']['schedule'], 'ema': config.get('ema_decay', 0.0)},
  }
  if exported:
    files = export(workdir, model)
    shipped_rows, _, columns = measure(shipped(model), workdir / 'held_out_export')
    figure(columns, REPO / 'docs' / f'{model}.png')
    record.update(shipped=_metrics(shipped_rows[1]), shipped_psnr=shipped_rows[1]['psnr'], sha256=files)
  else:
    logging.info('Held-out PSNR %.2f does not beat the shipped %.2f by %.2f dB: pretrained/%s stays.', run['psnr'],
                 best, _MIN_GAIN.value, model)
    record.update(shipped_psnr=None)
  shipped(model).mkdir(parents=True, exist_ok=True)
  (shipped(model) / 'rounds.json').write_text(json.dumps([*past, record], indent=2) + '\n')
  (workdir / 'result.json').write_text(json.dumps(record, indent=2) + '\n')
  append_manifest(model, record)
  logging.info('Round recorded: %s', json.dumps(record))


def _relative(arg):
  return str(arg).replace(str(REPO) + '/', '').replace(sys.executable, 'python')


def _metrics(row):
  return {k: round(float(row[k]), 4) for k in ('psnr', 'ssim', 'psnr_y', 'ssim_y', 'lr_consistency', 'swd')
          if row.get(k) not in (None, '')}


def _last_step(workdir):
  from jaxsr import checkpointing
  return max(checkpointing.saved_steps(workdir / 'checkpoints'), default=0)


MANIFEST_HEADER = """# Pretrained models

Each folder is a `jaxsr.export` (bfloat16 weights, `config.json` with the recipe it was trained with, `export.json`
with each file's sha256); `python -m jaxsr.upscale --run=pretrained/<name> --input=faces/ --output=sr/` uses it.
`rounds.json` in each folder records every training round, exported or not.

**Data and terms.** Trained on CelebA faces (Liu et al., ICCV 2015): the `celeba_hr` photos of the development
set (89x109 aligned faces, a 64x64 crop at (12, 22)), 9,369 for training, the 597 whose file-name hash falls in the
held-out 6% for measuring. CelebA is for non-commercial research only; so are these weights.

**How.** `benchmarks/cpu/campaign.py` on a 2-core CPU, in rounds: each round trains one warmup + cosine cycle
from the previous round's weights (float32 on the same machine, else these bfloat16 exports; the optimizer state
starts afresh every round), measures every held-out face against PIL bicubic with `jaxsr.evaluate`, and replaces
the export only when the held-out RGB PSNR gains at least 0.1 dB. Metrics below are of the exported bfloat16
weights when the round was exported, else of the round's float32 run. Hours are wall-clock on the 2-core machine.

"""
MANIFEST_COLUMNS = ('date', 'model', 'round', 'from', 'steps (round / total)', 'hours (total)', 'PSNR / SSIM RGB',
                    'PSNR / SSIM Y', 'bicubic PSNR RGB / Y', 'exported', 'sha256 (first 12)', 'command')


def append_manifest(model, r):
  path = Path(_PRETRAINED.value) / 'MANIFEST.md'
  if not path.is_file():
    path.write_text(MANIFEST_HEADER + '| ' + ' | '.join(MANIFEST_COLUMNS) + ' |\n|' + '---|' * len(MANIFEST_COLUMNS)
                    + '\n')
  m = r.get('shipped') or r['run']
  sha = ', '.join(v[:12] for v in r.get('sha256', {}).values()) or '-'
  row = (f"| {r['finished'][:10]} | {model} | {r['round']} | {r['init_from']} | {r['round_steps']} / "
         f"{r['total_steps']} | {r['total_hours']:.2f} | {m['psnr']:.2f} / {m['ssim']:.4f} | {m['psnr_y']:.2f} / "
         f"{m['ssim_y']:.4f} | {r['bicubic']['psnr']:.2f} / {r['bicubic']['psnr_y']:.2f} | "
         f"{'yes' if r['exported'] else 'no'} | {sha} | `{r['command']}` |\n")
  with path.open('a') as f:
    f.write(row)


def main(argv):
  del argv
  logging.set_verbosity(logging.INFO)
  model = _MODEL.value
  if model not in MODELS:
    raise app.UsageError(f'--model: unknown {model!r} (known: {", ".join(MODELS)})')
  build_datasets()
  if _FINISH.value:
    rounds = round_dirs(model)
    if not rounds or (rounds[-1] / 'result.json').is_file():
      raise app.UsageError(f'{model}: no unfinished round to finish under {rounds_dir(model)}')
    workdir = rounds[-1]
    command = json.loads((workdir / 'round.json').read_text())['command']
    finish(model, workdir, command, _trained_minutes(workdir))
    return
  workdir, command = next_round(model, _MINUTES.value)
  start = time.monotonic()
  logging.info('Training: %s', ' '.join(command))
  subprocess.run(command, check=True, cwd=REPO)
  logging.info('Trained %.1f minutes.', (time.monotonic() - start) / 60)
  finish(model, workdir, command, _trained_minutes(workdir))


def _trained_minutes(workdir):
  """Minutes the round's steps took, from the run's logged step rates (restarts and compiles left out)."""
  path = workdir / 'metrics.jsonl'
  if not path.is_file():
    return 0.0
  seconds, last_step = 0.0, 0
  for line in path.read_text().splitlines():
    entry = json.loads(line)
    rate = entry.get('perf/steps_per_second')
    step = entry.get('step', 0)
    if rate and step > last_step:
      seconds += (step - last_step) / rate
    if step:
      last_step = step
  return seconds / 60.0


if __name__ == '__main__':
  app.run(main)
