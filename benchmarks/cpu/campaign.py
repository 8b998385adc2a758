"""The CPU training campaign that makes pretrained/: one command per model, in rounds that add up across restarts.

    nohup python benchmarks/cpu/campaign.py --model=edsr_x4_celeba --minutes=120 > campaign.log 2>&1 &
    python benchmarks/cpu/campaign.py --model=edsr_x4_celeba --finish     # measure and ship the last round only

Rounds train with the Python that runs this script: on this 2-core CPU, jax 0.12 (Python 3.12) trains EDSR 1.45x
faster than jax 0.10 (benchmarks/RESULTS.md, "The CPU step against PyTorch"), so rounds from 2026-12-06 on ran
in a Python 3.12 environment (`.venv312`, made as `.ci/run` makes it).

A round, on this machine's 2 cores:
1. builds the real face sets from --shared_data when they are missing (celeba_hr: 64x64 crops, the same 6% of
   file names held out every time by their hash; celeba_ids: the same face box of the identity set's 178x218
   photos, named by their CelebA number like celeba_hr's, so the hash holds out every photo that celeba_hr's test
   split holds; wider: real 16x16 LR faces, 5% held out);
2. trains for --minutes (or exactly --steps) through `python -m jaxsr.main`; a paired model's round is one warmup +
   cosine cycle whose length is the fastest recorded round's steps per minute times --minutes (SGDR's warm
   restarts, Loshchilov & Hutter, ICLR 2017), a GAN keeps its config's constant rates. An unfinished round in
   runs/campaign/<model>/ is resumed as it was; a new round starts from the best finished round on this machine
   by its held-out metric (float32 weights, their moving average: a round that lost ground, overfitting, is not
   built on) or else from the model's export in pretrained/ (bfloat16 weights; a
   GAN's export keeps its discriminator) or else from Model.starts_from's export. Only the weights come over: the
   optimizer state starts afresh. An ablation (Model.ablation_of) trains as many steps as the same round of the
   model it is the ablation of, from the same kind of start;
3. measures the round on held-out faces with jaxsr.evaluate, by the model's kind (KINDS);
4. exports it in bfloat16 to pretrained/<model>/ only when its held-out metric beats the shipped one (PSNR by
   --min_gain dB, SWD by --min_swd_gain), measures the export itself (the weights people download), and
5. records the round in pretrained/<model>/rounds.json, the record the next round reads, and rewrites
   pretrained/MANIFEST.md from every model's record; an exported round of FIGURE_MODELS also redraws its block of
   docs/results.png, README's figure (--figure redraws every block from the shipped exports).
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
_MIN_SWD_GAIN = flags.DEFINE_float('min_swd_gain', 0.02, 'Export only when the held-out SWD is below the shipped '
                                   "one by this fraction (models measured by SWD).")
_FIGURE = flags.DEFINE_bool('figure', False, "Do not train: redraw docs/results.png from the shipped exports.")
_STEPS = flags.DEFINE_integer('steps', None, 'A new round of exactly this many steps, --minutes not counted (an '
                              "ablation's are its model's).")


KINDS = {
    'paired': 'PSNR/SSIM on every held-out celeba_hr face, its LR made by PIL bicubic',
    'degradation': "SWD of H2L(held-out celeba_hr faces) to the held-out real WIDER LR faces (16x16, 2 levels)",
    'real_lr': 'SWD of its outputs on the held-out real WIDER LR faces to held-out celeba_hr faces, LR consistency',
}


@dataclasses.dataclass(frozen=True)
class Model:
  config: str  # configs/<name>.py:<variant>
  overrides: dict  # --config.<key>=<value> beyond the dataset's
  steps_per_minute: float  # first round's guess of the step rate, for the length of its cosine
  warmup_steps: int  # of each round's cycle, at most a tenth of its steps; 0: the config's constant rates (GANs)
  description: str
  kind: str = 'paired'  # what a round is measured by: KINDS
  companions: tuple = ()  # networks exported beside the served one, for the next round (a GAN's discriminator)
  starts_from: str = ''  # a model whose export starts the first round
  ablation_of: str = ''  # the model whose rounds this one repeats with one change, step for step
  network: str = 'generator'  # the config section of the network it serves, whose optimizer is the round's recipe
  compared_with: tuple = ()  # shipped models measured beside it (default: starts_from's and the ablation's)


H2L_EXPORT = 'pretrained/h2l_celeba_wider'
# From round 2: + L1(avgpool4(G(x)), x), the output explaining its input: round 1 (without it) reached SWD 132 on
# real LR faces, but its outputs downscaled matched their inputs to 23.8 dB only.
EDSR = {'eval_every': 500, 'checkpoint_every': 250, 'log_every': 50, 'loss.lr_l1': 1.0}
MODELS = {
    # From round 6 on celeba_hr's 9,369 training faces and celeba_ids' 5,099 (round 5, 86 passes over celeba_hr
    # alone, lost 0.12 dB on held-out faces while its training loss fell).
    'edsr_x4_celeba': Model(
        config='edsr.py:face_cpu', overrides={'dataset': 'face_folder/celeba_hr+face_folder/celeba_ids',
                                              'eval_every': 1000, 'checkpoint_every': 500, 'log_every': 50},
        steps_per_minute=60.0, warmup_steps=1000,
        description='EDSR baseline body (16 blocks of 64), bicubic skip, one-shuffle tail; x4, 16 -> 64 faces'),
    # Gen_h2l_2 of the authors' H2L.py (stride-2 stem, three stride-2 stages, 64 channels): 0.8 steps/s at batch
    # 16 on this CPU, where the default Gen_h2l_0424 (every block at 64x64) trains at 0.14.
    'h2l_celeba_wider': Model(
        config='h2l.py', overrides={'generator.architecture': 'gen_h2l_2', 'z_dim': 64, 'batch_size': 16,
                                    'lr_dataset': 'lr_face_folder/wider', 'lr_feature': 'image',
                                    'eval_every': 500, 'checkpoint_every': 250, 'log_every': 50},
        steps_per_minute=48.0, warmup_steps=0, kind='degradation', companions=('d_lr',),
        description="the authors' Gen_h2l_2 + SNGAN LR discriminator: celeba_hr 64x64 -> 16x16 like real WIDER LR"),
    # The second stage of Bulat et al.: the paired model, fine-tuned on H2L's degradations of the same faces ...
    'edsr_x4_h2l': Model(
        config='edsr.py:face_cpu', overrides={'degradation': 'h2l', 'h2l_workdir': H2L_EXPORT, **EDSR},
        steps_per_minute=30.0, warmup_steps=150, kind='real_lr', starts_from='edsr_x4_celeba',
        description='edsr_x4_celeba fine-tuned on H2L(celeba_hr) inputs: real LR faces -> 64x64'),
    # ... and its ablation: the same start, steps and recipe on PIL bicubic inputs.
    'edsr_x4_bicubic_ablation': Model(
        config='edsr.py:face_cpu', overrides=EDSR, steps_per_minute=45.0, warmup_steps=150, kind='real_lr',
        starts_from='edsr_x4_celeba', ablation_of='edsr_x4_h2l',
        description="edsr_x4_h2l's ablation: the same fine-tuning on bicubic inputs"),
    # The write-up's U-Net pipeline, all three networks trained together from scratch. At half the figures' widths
    # (width=32: 5.4 M parameters in L2H, 5.2 M in H2L): 16 faces/s at batch 16 on this CPU where the figures'
    # 64 train at under 5, and its three networks in bfloat16 (24 MB) fit pretrained/'s 48 MB, the full ones
    # (85 MB) do not. configs/unet_degradation.py keeps the figures' widths.
    'unet_x4_celeba_wider': Model(
        config='unet_degradation.py', overrides={'width': 32, 'batch_size': 16, 'lr_dataset': 'lr_face_folder/wider',
                                                 'lr_feature': 'image', 'l2h_lr_l1': 1.0, 'ema_decay': 0.999,
                                                 'eval_every': 500, 'checkpoint_every': 250, 'log_every': 50},
        steps_per_minute=55.0, warmup_steps=0, kind='real_lr', companions=('h2l', 'd_lr'), network='l2h',
        compared_with=('edsr_x4_h2l', 'edsr_x4_bicubic_ablation'),
        description="the write-up's H2L and L2H U-Nets and LR discriminator at half width, trained jointly: real "
                    'LR faces -> 64x64'),
}

# What every round reads: (tfds kind/name, source folder under --shared_data, build flags, read by file name).
# celeba_hr's photos are celeba_ids' halved (89x109, 178x218): the same face box is (12, 22, 64) and (24, 44, 128).
DATASETS = {
    'face_folder/celeba_hr': ('celeba_hr', ['--crop=12,22,64,64', '--test_fraction=0.06'], False),
    'face_folder/celeba_ids': ('celeba_ids', ['--crop=24,44,128,128', '--test_fraction=0.06'], True),
    'lr_face_folder/wider': ('wider_lr', [], False),
}
TRAIN_SET = 'face_folder/celeba_hr'


def data_dir():
  return Path(_RUNS.value) / 'tfds'


def build_datasets():
  """Builds what is missing; a dataset already built from the same folder and options is reused as it is."""
  for name, (folder, extra, by_file_name) in DATASETS.items():
    kind, short = name.split('/')
    if list((data_dir() / kind / short).glob('*/dataset_info.json')):
      continue
    path = Path(_SHARED.value) / folder
    if by_file_name:
      path = flattened(path, Path(_RUNS.value) / 'flat' / folder)
    subprocess.run([sys.executable, '-m', 'jaxsr.data.build', kind, f'--path={path}', f'--name={short}',
                    f'--data_dir={data_dir()}', *extra], check=True, cwd=REPO)


def flattened(source, target):
  """`target`, a folder of links to every image under `source` named by its file name alone: the test split is a
  hash of the path in the folder, so a photo is held out here exactly when a photo of the same name is held out
  in a flat set such as celeba_hr."""
  from jaxsr.data import image_files
  target.mkdir(parents=True, exist_ok=True)
  for path in image_files.find(source):
    link = target / path.name
    if link.is_symlink() and link.resolve() != path.resolve():
      raise ValueError(f'{source}: two photos are named {path.name}; they cannot be told apart by name')
    if not link.is_symlink():
      link.symlink_to(path.resolve())
  return target


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
               'train_minutes': minutes, 'init_from': init_from, **spec.overrides}
  if spec.warmup_steps:
    overrides.update({'generator.optimizer.decay_steps': steps,
                      'generator.optimizer.warmup_steps': min(spec.warmup_steps, steps // 10)})
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
  spec = MODELS[model]
  # numbered after every recorded round too: on a new machine the rounds before live only in rounds.json
  number = max([int(r.name.split('-')[1]) for r in rounds] + [len(past)]) + 1
  # the fastest round's rate (a quiet machine's): the cosine may then end short of 0, never before the minutes do
  rate = max((r['round_steps'] / r['round_minutes'] for r in past if r['round_minutes']),
             default=spec.steps_per_minute)
  steps = _STEPS.value or max(100, int(rate * minutes))
  if spec.ablation_of:  # step for step with the model's round of the same number
    steps, minutes = _planned_steps(spec.ablation_of, number), 0.0
  elif _STEPS.value:
    minutes = 0.0
  if (best := best_round(model, rounds)) is not None:
    init_from = str(best)
  elif (shipped(model) / 'export.json').is_file():
    init_from = str(shipped(model))
  elif spec.starts_from and (shipped(spec.starts_from) / 'export.json').is_file():
    init_from = str(shipped(spec.starts_from))
  else:
    init_from = ''
  workdir = rounds_dir(model) / f'round-{number}'
  command = train_command(model, workdir, init_from, minutes, steps)
  workdir.mkdir(parents=True)
  (workdir / 'round.json').write_text(json.dumps({'command': command, 'init_from': init_from,
                                                  'started': _now()}, indent=2))
  logging.info('%s of %s: %d steps planned (%.1f steps/min), from %s.', workdir.name, model, steps, rate,
               init_from or 'scratch')
  return workdir, command


def best_round(model, rounds):
  """The round on this machine whose weights are still here and whose recorded held-out metric is best (PSNR, or
  SWD for the models measured by it); else the last round whose weights are here; else None."""
  kept = [r for r in rounds if (r / 'checkpoints').is_dir()]
  key, sign = ('swd', -1.0) if _by_swd(model) else ('psnr', 1.0)
  scored = []
  for workdir in kept:
    result = workdir / 'result.json'
    value = json.loads(result.read_text()).get('run', {}).get(key) if result.is_file() else None
    if value is not None:
      scored.append((sign * value, workdir))
  if scored:
    return max(scored, key=lambda pair: pair[0])[1]
  return kept[-1] if kept else None


def _planned_steps(model, number):
  """The steps round `number` of `model` was planned with (its command's num_steps)."""
  path = rounds_dir(model) / f'round-{number}' / 'round.json'
  if not path.is_file():
    raise app.UsageError(f'{model} has no round-{number} under {rounds_dir(model)}: start it first, then its '
                         'ablation')
  command = json.loads(path.read_text())['command']
  return int(next(a for a in command if a.startswith('--config.num_steps=')).split('=')[1])


def _now():
  return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')


def measure(model, run, out):
  """(rows: the baseline, the run, then the shipped models it is compared with; held-out faces; grid columns) of
  `run` (a round or an export) measured as its model's kind; tables and grid (dataset faces: they stay out of
  pretrained/) go to `out`."""
  from jaxsr import evaluate
  from jaxsr.using import inference
  spec = MODELS[model]
  if spec.kind == 'degradation':
    return measure_degradation(run, out)
  loaded = inference.load(run)
  if spec.kind == 'paired':
    data = evaluate.test_set(loaded.config.image_size, loaded.scale, dataset=TRAIN_SET, data_dir=str(data_dir()))
    title = f'{TRAIN_SET}, test split: {len(data["lr"])} held-out faces, x{loaded.scale}, PIL bicubic LR'
    others = []
  else:
    data = {'lr': held_out(REAL_LR_SET), 'hr': None, 'reference': held_out(TRAIN_SET)}
    data['names'] = [str(i) for i in range(len(data['lr']))]
    title = (f'{REAL_LR_SET}, test split: {len(data["lr"])} held-out real LR faces, x{loaded.scale}; SWD to the '
             f'first {len(data["lr"])} held-out {TRAIN_SET} faces')
    others = [inference.load(shipped(m)) for m in (spec.compared_with or
                                                   (spec.starts_from, spec.ablation_of or _ablation(model)))
              if m and (shipped(m) / 'export.json').is_file() and m != model]
  rows, columns = evaluate.evaluate([loaded, *others], ['bicubic'], data, loaded.scale)
  evaluate.write(rows, columns, out, title, data['names'])
  return rows, len(data['lr']), columns


def _ablation(model):
  return next((name for name, spec in MODELS.items() if spec.ablation_of == model), '')


REAL_LR_SET = 'lr_face_folder/wider'


def held_out(dataset):
  """Every face of `dataset`'s test split, uint8."""
  from jaxsr.data import pipeline
  source = pipeline.data_source(dataset, 'test', str(data_dir()))
  return pipeline.first_examples(source, 10**9, ['image'])['image']


def measure_degradation(run, out, batch=100):
  """An H2L round against PIL bicubic downscaling: SWD (2 levels: 16 and 8 px) of the LR faces each makes from the
  held-out celeba_hr faces to the held-out real WIDER LR faces, averaged over disjoint chunks of the HR faces as
  many as the real ones (SWD compares equal-sized sets)."""
  import jax
  import ml_collections

  from jaxsr import evaluate
  from jaxsr.core import images, metrics
  from jaxsr.data import degradations
  from jaxsr.training import resources
  hr, real = held_out(TRAIN_SET), held_out(REAL_LR_SET)
  h2l = resources.learned_degradation(ml_collections.ConfigDict(
      {'h2l_workdir': str(run), 'image_size': hr.shape[1], 'scale': hr.shape[1] // real.shape[1], 'h2l_step': 0}))
  scale = hr.shape[1] // real.shape[1]
  made = {'bicubic (PIL)': np.stack([degradations.get('bicubic')(x, np.random.default_rng([i]), scale)
                                     for i, x in enumerate(hr)]),
          f'{Path(run).name} (h2l)': np.concatenate([
              images.to_uint8(h2l(images.to_float(hr[i:i + batch]), jax.random.key(i)))
              for i in range(0, len(hr), batch)])}
  n, chunks = len(real), len(hr) // len(real)
  f = images.to_float
  rows = [{'method': name, 'step': '', 'swd': float(np.mean([
      metrics.swd(f(lr[c * n:(c + 1) * n]), f(real), jax.random.key(0), levels=2)[0] for c in range(chunks)]))}
      for name, lr in made.items()]
  columns = {'HR': f(hr[:8]), **{name.split(' ')[0]: f(lr[:8]) for name, lr in made.items()}, 'real LR': f(real[:8])}
  evaluate.write(rows, columns, out, f'{TRAIN_SET} test split ({len(hr)} faces) degraded x{scale}, SWD to the '
                 f'{n} real LR faces of {REAL_LR_SET}, test split')
  return rows, len(hr), columns


FIGURE = REPO / 'docs' / 'results.png'
FIGURE_MODELS = {  # README's one figure: a block of rows per model, under this title
    'edsr_x4_celeba': 'Held-out CelebA faces, LR by PIL bicubic',
    'edsr_x4_h2l': 'Held-out real WIDER LR faces (no HR exists)',
}


def figure(columns, path, title, zoom=2):
  """A model's block of README's figure: `title`, then a labelled row per column of jaxsr.evaluate's grid (LR,
  bicubic, the models, HR where it exists), its first 8 faces side by side, all enlarged `zoom` times by pixel
  repetition."""
  from PIL import Image

  from jaxsr.core import images
  block = images.grid(columns, rows=8, title=title, by_row=True)
  Image.fromarray(block.repeat(zoom, axis=0).repeat(zoom, axis=1)).save(path)


def draw_block(model):
  """runs/campaign/<model>/figure.png, the block of `model`'s shipped export."""
  rounds_dir(model).mkdir(parents=True, exist_ok=True)
  columns = measure(model, shipped(model), rounds_dir(model) / 'figure_measure')[2]
  figure(columns, rounds_dir(model) / 'figure.png', FIGURE_MODELS[model])


def compose_figure():
  """docs/results.png: the block of each model of FIGURE_MODELS, one under the other, as this machine drew it
  (runs/campaign/<model>/figure.png) or, where it drew none, from the model's shipped export: an export of one
  model leaves the others' blocks in."""
  from PIL import Image
  for model in FIGURE_MODELS:
    if not (rounds_dir(model) / 'figure.png').is_file() and (shipped(model) / 'export.json').is_file():
      draw_block(model)
  blocks = [Image.open(rounds_dir(m) / 'figure.png').convert('RGB') for m in FIGURE_MODELS
            if (rounds_dir(m) / 'figure.png').is_file()]
  if not blocks:
    return
  out = Image.new('RGB', (max(b.width for b in blocks), sum(b.height for b in blocks)), (255, 255, 255))
  y = 0
  for block in blocks:
    out.paste(block, (0, y))
    y += block.height
  out.save(FIGURE, optimize=True)


def export(run, model):
  """Replaces pretrained/<model>/'s weights by the run's (bfloat16, with its companions); the round record stays."""
  from jaxsr import export as exporting
  staging = shipped(model).with_name(f'.{model}.staging')
  shutil.rmtree(staging, ignore_errors=True)
  _, files = exporting.export_run(run, staging, dtype='bfloat16', companions=MODELS[model].companions,
                                  source=_relative(run))
  target = shipped(model)
  target.mkdir(parents=True, exist_ok=True)
  for old in target.glob('variables-*.npz'):
    old.unlink()
  for path in staging.iterdir():
    os.replace(path, target / path.name)
  staging.rmdir()
  return files


def _by_swd(model):
  return MODELS[model].kind != 'paired'


LR_CONSISTENCY_FLOOR = 28.0  # dB: a real-LR model's output must explain its input at least this well


def gained(model, run, past):
  """Does `run` beat the best shipped round of `past` by the export margin (or is there none)? A real-LR model
  that reaches LR_CONSISTENCY_FLOOR beats one that does not; on the same side of it, SWD decides."""
  if _by_swd(model):
    shipped = [r for r in past if r.get('shipped_swd') is not None]
    if MODELS[model].kind == 'real_lr':
      meets = lambda m: m['lr_consistency'] >= LR_CONSISTENCY_FLOOR  # noqa: E731
      if shipped and meets(run) != meets(shipped[-1]['shipped']):
        return meets(run), shipped[-1]['shipped_swd']
    best = min((r['shipped_swd'] for r in shipped), default=None)
    return best is None or run['swd'] <= best * (1.0 - _MIN_SWD_GAIN.value), best
  best = max((r['shipped_psnr'] for r in past if r.get('shipped_psnr') is not None), default=None)
  return best is None or run['psnr'] >= best + _MIN_GAIN.value, best


def ancestry(model, past, init_from):
  """The recorded rounds whose weights a round starting from `init_from` carries, newest first: the round it names
  (runs/campaign/<model>/round-N), or the last exported round (pretrained/<model>), then theirs in turn; none from
  scratch or from another model's export. A round that lost ground and was not built on is not counted."""
  chain, index = [], len(past)
  while True:
    if init_from == _relative(shipped(model)):
      found = [i for i in range(index) if past[i]['exported']]
    elif init_from.startswith(_relative(rounds_dir(model)) + '/'):
      name = init_from.rsplit('/', 1)[1]
      found = [i for i in range(index) if past[i]['round'] == name]
    else:
      return chain
    if not found:
      return chain
    index = found[-1]
    chain.append(past[index])
    init_from = past[index]['init_from']


def finish(model, workdir, command, minutes_trained):
  """Measures the round, exports it if it gained, records it."""
  config = json.loads((workdir / 'config.json').read_text())
  optimizer = config[MODELS[model].network]['optimizer']
  steps = _last_step(workdir)
  rows, faces, _ = measure(model, workdir, workdir / 'held_out')
  baseline, run, *others = rows
  past = history(model)
  exported, best = gained(model, run, past)
  init_from = _relative(json.loads((workdir / 'round.json').read_text())['init_from']) or 'scratch'
  before = ancestry(model, past, init_from)
  record = {
      'round': workdir.name, 'finished': _now(), 'command': ' '.join(_relative(a) for a in command),
      'init_from': init_from, 'round_steps': steps, 'round_minutes': round(minutes_trained, 1),
      'total_steps': steps + sum(r['round_steps'] for r in before),
      'total_hours': round((minutes_trained + sum(r['round_minutes'] for r in before)) / 60.0, 2),
      'held_out_faces': faces, 'bicubic': _metrics(baseline), 'run': _metrics(run),
      'compared': {row['method']: _metrics(row) for row in others}, 'exported': exported,
      'recipe': {'lr': optimizer['learning_rate'], 'batch': config['batch_size'], 'schedule': optimizer['schedule'],
                 'ema': config.get('ema_decay', 0.0)},
  }
  if exported:
    files = export(workdir, model)
    shipped_rows, _, columns = measure(model, shipped(model), workdir / 'held_out_export')
    if model in FIGURE_MODELS:
      figure(columns, rounds_dir(model) / 'figure.png', FIGURE_MODELS[model])
      compose_figure()
    key = 'swd' if _by_swd(model) else 'psnr'
    record.update(shipped=_metrics(shipped_rows[1]), sha256=files, **{f'shipped_{key}': shipped_rows[1][key]})
  else:
    logging.info('Held-out %s does not beat the shipped %s by the margin: pretrained/%s stays.', _metrics(run), best,
                 model)
  shipped(model).mkdir(parents=True, exist_ok=True)
  (shipped(model) / 'rounds.json').write_text(json.dumps([*past, record], indent=2) + '\n')
  (workdir / 'result.json').write_text(json.dumps(record, indent=2) + '\n')
  write_manifest()
  logging.info('Round recorded: %s', json.dumps(record))


def _relative(arg):
  return str(arg).replace(str(REPO) + '/', '').replace(sys.executable, 'python')


def _metrics(row):
  return {k: round(float(row[k]), 4) for k in ('psnr', 'ssim', 'psnr_y', 'ssim_y', 'lr_consistency', 'swd')
          if row.get(k) not in (None, '')}


def _last_step(workdir):
  from jaxsr.storage import checkpointing
  return max(checkpointing.saved_steps(workdir / 'checkpoints'), default=0)


MANIFEST_HEADER = """# Pretrained models

Each folder is a `jaxsr.export` (bfloat16 weights, `config.json` with the recipe it was trained with, `export.json`
with each file's sha256); `python -m jaxsr.upscale --run=pretrained/<name> --input=faces/ --output=sr/` uses the
super-resolvers. `rounds.json` in each folder records every training round, exported or not; this file is
rewritten from them by `benchmarks/cpu/campaign.py`.

**Data and terms.** CelebA faces (Liu et al., ICCV 2015): the `celeba_hr` photos of the development set (89x109
aligned faces, a 64x64 crop at (12, 22)), 9,369 for training, the 597 whose file-name hash falls in the held-out
6% for measuring; from edsr_x4_celeba's round 6 on, also the `celeba_ids` photos (178x218 aligned faces of 200
people, the same face box at (24, 44, 128) resized to 64), 5,099 for training, the 301 whose CelebA number
hashes into the same 6% left out, so no held-out `celeba_hr` face is trained on under any name. Real
low-resolution faces: 16x16 faces detected in WIDER FACE photos (Yang et al., CVPR 2016), 2,570 for training,
130 held out. Both datasets are for non-commercial research only; so are these weights.

**How.** `benchmarks/cpu/campaign.py` on a 2-core CPU, in rounds: each round trains from the best earlier round's
weights (float32 on the same machine, else these bfloat16 exports; the optimizer state starts afresh every
round; an H2L export keeps its LR discriminator for the next round), measures held-out faces with
`jaxsr.evaluate`, and replaces the export only when the held-out metric gains: +0.1 dB RGB PSNR for paired models,
-2% SWD for the others. Metrics are of the exported bfloat16 weights when the round was exported, else of the
round's float32 run. Hours are wall-clock on the 2-core machine.
"""
_COMMON = ('date', 'model', 'round', 'from', 'steps (round / total)', 'hours (total)')
MANIFEST_TABLES = {
    'paired': ('Paired x4 models: every held-out celeba_hr face, its LR by PIL bicubic',
               ('PSNR / SSIM RGB', 'PSNR / SSIM Y', 'bicubic PSNR RGB / Y'),
               lambda m, r: (f"{m['psnr']:.2f} / {m['ssim']:.4f}", f"{m['psnr_y']:.2f} / {m['ssim_y']:.4f}",
                             f"{r['bicubic']['psnr']:.2f} / {r['bicubic']['psnr_y']:.2f}")),
    'degradation': ('Degradation models: H2L(597 held-out celeba_hr faces) against the 130 held-out real WIDER LR '
                    'faces (SWD x1e3 at 16 and 8 px; lower is closer)',
                    ('SWD to real LR', 'PIL bicubic SWD'),
                    lambda m, r: (f"{m['swd']:.2f}", f"{r['bicubic']['swd']:.2f}")),
    'real_lr': ('Real LR models: the 130 held-out real WIDER LR faces, x4 (SWD x1e3 to held-out celeba_hr faces; '
                'LR consistency: PSNR of the output downscaled to its input)',
                ('SWD / LR consistency', 'bicubic', 'compared with'),
                lambda m, r: (f"{m['swd']:.2f} / {m['lr_consistency']:.2f}",
                              f"{r['bicubic']['swd']:.2f} / {r['bicubic']['lr_consistency']:.2f}",
                              '; '.join(f"{k.split(' ')[0]}: {v['swd']:.2f} / {v['lr_consistency']:.2f}"
                                        for k, v in r.get('compared', {}).items()) or '-')),
}


def write_manifest():
  """pretrained/MANIFEST.md from every model's rounds.json: one table per kind of model."""
  text = MANIFEST_HEADER
  for kind, (title, columns, cells) in MANIFEST_TABLES.items():
    rows = [(model, r) for model in MODELS if MODELS[model].kind == kind for r in history(model)]
    if not rows:
      continue
    header = (*_COMMON, *columns, 'exported', 'sha256 (first 12)', 'command')
    text += f'\n## {title}\n\n| ' + ' | '.join(header) + ' |\n|' + '---|' * len(header) + '\n'
    for model, r in rows:
      sha = ', '.join(v[:12] for v in r.get('sha256', {}).values()) or '-'
      values = (r['finished'][:10], model, r['round'], r['init_from'], f"{r['round_steps']} / {r['total_steps']}",
                f"{r['total_hours']:.2f}", *cells(r.get('shipped') or r['run'], r),
                'yes' if r['exported'] else 'no', sha, f"`{r['command']}`")
      text += '| ' + ' | '.join(values) + ' |\n'
  (Path(_PRETRAINED.value) / 'MANIFEST.md').write_text(text)


def main(argv):
  del argv
  logging.set_verbosity(logging.INFO)
  model = _MODEL.value
  if model not in MODELS:
    raise app.UsageError(f'--model: unknown {model!r} (known: {", ".join(MODELS)})')
  build_datasets()
  if _FIGURE.value:
    for name in FIGURE_MODELS:
      if (shipped(name) / 'export.json').is_file():
        draw_block(name)
    compose_figure()
    return
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
