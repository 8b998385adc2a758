"""Recipes for the paired x4 face model compared at equal CPU minutes, from scratch, on held-out faces.

    nohup python benchmarks/cpu/recipes.py --minutes=6 > recipes.log 2>&1 &
    python benchmarks/cpu/recipes.py --minutes=6 --recipes=base,mse     # some of RECIPES

Every recipe is the shipped one (`configs/edsr.py:face_cpu`, RECIPES['base']) with one change. Equal minutes are
counted in steps, not on the wall clock, so that a test run sharing the cores does not favour one recipe: the
full training step of each network and batch size the recipes use is timed once on random batches
(benchmarks/common.py's measure_step, back to back, kept in <runs>/recipes/step_rates.json so that a restart
plans the same steps), and a recipe trains --minutes times its step rate times PIPELINE_SHARE, the part of the
bare rate a run keeps with its input pipeline on a quiet machine. Recipes that change only the loss, the learning
rate or the moving average train as many steps as the base recipe. Each run is one warmup (a tenth of its steps)
+ cosine cycle unless the recipe sets its own schedule, then is measured by `jaxsr.evaluate` on every held-out
celeba_hr face (LR by PIL bicubic): the moving average of the weights where the recipe keeps one, and the trained
weights themselves. Uses campaign.py's datasets and its --runs and --shared_data; the table is appended to
benchmarks/RESULTS.md.
"""
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from absl import app, flags, logging

import campaign

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'benchmarks'))
import common  # noqa: E402  (benchmarks/common.py, beside this folder)

_RECIPES = flags.DEFINE_list('recipes', None, 'Names of RECIPES to run (default: all), in this order.')
_RESULTS = flags.DEFINE_string('results', str(REPO / 'benchmarks' / 'RESULTS.md'), 'Markdown file to append to.')

BASE = 'edsr:face_cpu'
# name: (what changes, --config overrides). The base recipe: L1, bicubic skip, Adam 2e-4, warmup + cosine, EMA
# 0.999, batch 16, 16 blocks of 64.
RECIPES = {
    'base': ('the shipped recipe', {}),
    'lr_1e-4': ('learning rate 1e-4', {'generator.optimizer.learning_rate': 1e-4}),
    'lr_5e-4': ('learning rate 5e-4', {'generator.optimizer.learning_rate': 5e-4}),
    'constant_lr': ("constant 1e-4, no warmup (EDSR's own schedule at this length)",
                    {'generator.optimizer.learning_rate': 1e-4, 'generator.optimizer.schedule': 'constant'}),
    'batch_8': ('batch 8', {'batch_size': 8}),
    'batch_32': ('batch 32', {'batch_size': 32}),
    'mse': ('MSE instead of L1', {'loss.l1': 0.0, 'loss.mse': 1.0}),
    'ema_0.99': ('moving average 0.99', {'ema_decay': 0.99}),
    'no_ema': ('no moving average', {'ema_decay': 0.0}),
    'width_32': ('16 blocks of 32 channels', {'generator.features': 32}),
    'depth_8': ('8 blocks of 64 channels', {'generator.blocks': 8}),
}
PIPELINE_SHARE = 0.8  # a quiet run's step rate over the bare step's (edsr:face_cpu, batch 16, this 2-core CPU)


def config_of(overrides):
  config = common.load_config(REPO / 'configs', BASE)
  for dotted, value in overrides.items():
    node = config
    *path, last = dotted.split('.')
    for part in path:
      node = node[part]
    node[last] = value
  return config


def step_shape(overrides):
  """What a recipe's step costs depends on: 'batch 16, 16 blocks of 64'."""
  config = config_of(overrides)
  return f'batch {config.batch_size}, {config.generator.blocks} blocks of {config.generator.features}'


def step_rates(names, path):
  """{step_shape: bare steps per second} for `names`, timed back to back for the shapes `path` lacks."""
  rates = json.loads(path.read_text()) if path.is_file() else {}
  missing = {step_shape(RECIPES[n][1]): RECIPES[n][1] for n in names}
  missing = {shape: overrides for shape, overrides in missing.items() if shape not in rates}
  if missing:
    from jaxsr.core import parallel
    mesh = parallel.make_mesh()
    for shape, overrides in missing.items():
      rates[shape] = common.measure_step(config_of(overrides), mesh, 10)[1]
      logging.info('%s: %.2f steps/s (bare step)', shape, rates[shape])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rates, indent=2) + '\n')
  return rates


def train_command(workdir, steps, overrides):
  config = config_of(overrides)
  settings = {'dataset': campaign.TRAIN_SET, 'eval_dataset': campaign.TRAIN_SET,
              'data_dir': str(campaign.data_dir()), 'num_steps': steps, 'eval_every': steps,
              'checkpoint_every': steps, 'log_every': 50}
  if config.generator.optimizer.schedule == 'warmup_cosine':
    settings.update({'generator.optimizer.decay_steps': steps, 'generator.optimizer.warmup_steps': steps // 10})
  settings.update(overrides)
  config_file = REPO / 'configs' / BASE.replace(':', '.py:')
  return [sys.executable, '-m', 'jaxsr.main', f'--config={config_file}', f'--workdir={workdir}',
          *(f'--config.{k}={v}' for k, v in settings.items())]


def held_out(workdir):
  """(bicubic row, row of the averaged weights, row of the trained weights) of jaxsr.evaluate on every held-out
  face; the two runs' rows are the same where the recipe keeps no average."""
  from jaxsr import evaluate
  from jaxsr.storage import checkpointing
  from jaxsr.using import inference
  averaged = inference.load(workdir)
  net = averaged.state.nets['generator']
  params, state = checkpointing.load_network(workdir, 'generator', {'params': net.params, 'state': net.state},
                                             'run')
  trained = dataclasses.replace(averaged, state=averaged.state.replace(
      nets={'generator': net.replace(params=params, state=state, ema=None)}))
  data = evaluate.test_set(averaged.config.image_size, averaged.scale, dataset=campaign.TRAIN_SET,
                           data_dir=str(campaign.data_dir()))
  rows, _ = evaluate.evaluate([averaged, trained], ['bicubic'], data, averaged.scale)
  return rows


def main(argv):
  del argv
  logging.set_verbosity(logging.INFO)
  names = _RECIPES.value or list(RECIPES)
  unknown = [n for n in names if n not in RECIPES]
  if unknown:
    raise app.UsageError(f'--recipes: unknown {", ".join(unknown)} (known: {", ".join(RECIPES)})')
  campaign.build_datasets()
  minutes = campaign._MINUTES.value
  runs = Path(campaign._RUNS.value).parent / 'recipes'
  rates = step_rates(names, runs / 'step_rates.json')
  rows = []
  for name in names:
    what, overrides = RECIPES[name]
    rate = rates[step_shape(overrides)]
    steps = int(rate * PIPELINE_SHARE * 60 * minutes)
    workdir = runs / f'{minutes:g}min' / name
    if not _finished(workdir, steps):
      logging.info('%s: %d steps (%.2f bare steps/s x %.2f)', name, steps, rate, PIPELINE_SHARE)
      subprocess.run(train_command(workdir, steps, overrides), check=True, cwd=REPO)
    bicubic, run, trained = held_out(workdir)
    gain = lambda row, key: f'{row[key]:.2f} ({row[key] - bicubic[key]:+.2f})'  # noqa: E731
    rows.append(f'| {name} | {what} | {steps:,} | {gain(run, "psnr")} | {run["ssim"]:.4f} | {gain(run, "psnr_y")} | '
                f'{gain(trained, "psnr")} |')
    logging.info('%s', rows[-1])
  where = (f'{common.device_description()}, {minutes:g} minutes each at the bare step rates; every held-out '
           f'celeba_hr face (bicubic PSNR RGB {bicubic["psnr"]:.2f}, Y {bicubic["psnr_y"]:.2f})')
  common.append_results(Path(_RESULTS.value), where, sys.argv,
                        '| recipe | change | steps | PSNR RGB (- bicubic) | SSIM RGB | PSNR Y (- bicubic) | '
                        'PSNR RGB of the weights before averaging |', rows)


def _finished(workdir, steps):
  from jaxsr.storage import checkpointing
  return max(checkpointing.saved_steps(workdir / 'checkpoints'), default=0) >= steps


if __name__ == '__main__':
  app.run(main)
