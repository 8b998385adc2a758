"""benchmarks/cpu/campaign.py's bookkeeping, without training: how a round is planned (start, steps, an ablation's
budget), when a round is exported, and the manifest the records make."""
import json
import sys
from pathlib import Path

import pytest
from absl import app, flags

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'benchmarks' / 'cpu'))
import campaign


@pytest.fixture
def places(tmp_path):
  flags.FLAGS(['campaign', f'--runs={tmp_path / "runs"}', f'--pretrained={tmp_path / "pretrained"}'])
  yield tmp_path
  flags.FLAGS.unparse_flags()


def fake_export(folder):
  folder.mkdir(parents=True)
  (folder / 'export.json').write_text('{}')


def option(command, name):
  return next(a.split('=', 1)[1] for a in command if a.startswith(f'--config.{name}='))


def test_an_ablation_repeats_its_models_round_step_for_step_from_the_same_start(places):
  with pytest.raises(app.UsageError, match="start it first"):
    campaign.next_round('edsr_x4_bicubic_ablation', 10)
  fake_export(places / 'pretrained' / 'edsr_x4_celeba')
  workdir, command = campaign.next_round('edsr_x4_h2l', 40)
  assert workdir.name == 'round-1' and option(command, 'num_steps') == str(40 * 30)
  assert option(command, 'init_from') == str(places / 'pretrained' / 'edsr_x4_celeba')  # Model.starts_from
  assert option(command, 'degradation') == 'h2l' and option(command, 'generator.optimizer.warmup_steps') == '120'
  _, ablation = campaign.next_round('edsr_x4_bicubic_ablation', 5)
  assert option(ablation, 'num_steps') == '1200' and option(ablation, 'train_minutes') == '0.0'
  assert option(ablation, 'init_from') == option(command, 'init_from')
  assert not any(a.startswith('--config.degradation=') for a in ablation)
  workdir, resumed = campaign.next_round('edsr_x4_h2l', 25)  # unfinished: resumed with the new minutes
  assert workdir.name == 'round-1' and option(resumed, 'num_steps') == '1200'
  assert option(resumed, 'train_minutes') == '25'


def test_a_gan_keeps_constant_rates_and_a_new_round_starts_from_the_last(places):
  workdir, command = campaign.next_round('h2l_celeba_wider', 10)
  assert not any('optimizer.decay_steps' in a for a in command) and option(command, 'init_from') == ''
  (workdir / 'checkpoints').mkdir()
  (workdir / 'result.json').write_text('{}')
  workdir, command = campaign.next_round('h2l_celeba_wider', 10)
  assert workdir.name == 'round-2' and option(command, 'init_from') == str(workdir.parent / 'round-1')


def test_a_new_round_starts_from_the_best_round_not_one_that_lost_ground(places):
  rounds = places / 'runs' / 'edsr_x4_celeba'
  for number, psnr in ((1, 26.0), (2, 26.5), (3, 26.4)):
    (rounds / f'round-{number}' / 'checkpoints').mkdir(parents=True)
    (rounds / f'round-{number}' / 'result.json').write_text(json.dumps({'run': {'psnr': psnr}}))
  workdir, command = campaign.next_round('edsr_x4_celeba', 10)
  assert workdir.name == 'round-4' and option(command, 'init_from') == str(rounds / 'round-2')
  assert option(command, 'dataset') == 'face_folder/celeba_hr+face_folder/celeba_ids'
  (workdir / 'checkpoints').mkdir()  # unfinished, then abandoned: not measured, not a start
  (workdir / 'result.json').write_text(json.dumps({'run': {'psnr': 27.0}}))
  (rounds / 'round-2' / 'checkpoints').rmdir()  # its weights gone from this machine: the best that is here
  assert option(campaign.next_round('edsr_x4_celeba', 10)[1], 'init_from') == str(workdir)


def test_a_set_read_by_file_name_holds_out_what_the_flat_set_holds_out(tmp_path):
  from jaxsr.data import builders
  source = tmp_path / 'ids'
  names = [f'{i:06d}.jpg' for i in range(200)]
  for i, name in enumerate(names):
    (source / f'person_{i % 7}').mkdir(parents=True, exist_ok=True)
    (source / f'person_{i % 7}' / name).write_bytes(b'')
  flat = campaign.flattened(source, tmp_path / 'flat')
  assert sorted(p.name for p in flat.iterdir()) == names and campaign.flattened(source, flat) == flat  # again: as is
  held = [p.name for p in flat.iterdir() if builders._in_test_split(p.relative_to(flat).as_posix(), 0.06)]
  assert held and sorted(held) == [n for n in names if builders._in_test_split(n, 0.06)]
  (source / 'person_0' / 'again').mkdir()
  (source / 'person_0' / 'again' / names[1]).write_bytes(b'')
  with pytest.raises(ValueError, match=f'two photos are named {names[1]}'):
    campaign.flattened(source, flat)


def test_exports_need_the_margin_and_the_manifest_has_a_table_per_kind(places):
  paired = [{'shipped_psnr': 26.0}]
  assert campaign.gained('edsr_x4_celeba', {'psnr': 26.1}, paired)[0]
  assert not campaign.gained('edsr_x4_celeba', {'psnr': 26.09}, paired)[0]
  by_swd = [{'shipped_swd': 50.0}, {'shipped_swd': None}]
  assert campaign.gained('h2l_celeba_wider', {'swd': 49.0}, by_swd)[0]
  assert not campaign.gained('h2l_celeba_wider', {'swd': 49.1}, by_swd)[0]
  assert campaign.gained('h2l_celeba_wider', {'swd': 99.0}, [])[0]  # nothing shipped yet
  inconsistent = [{'shipped_swd': 130.0, 'shipped': {'swd': 130.0, 'lr_consistency': 24.0}}]
  assert campaign.gained('edsr_x4_h2l', {'swd': 150.0, 'lr_consistency': 29.0}, inconsistent)[0]  # the floor first
  assert not campaign.gained('edsr_x4_h2l', {'swd': 100.0, 'lr_consistency': 27.0},
                             [{'shipped_swd': 150.0, 'shipped': {'swd': 150.0, 'lr_consistency': 29.0}}])[0]
  assert campaign.gained('edsr_x4_h2l', {'swd': 120.0, 'lr_consistency': 23.0}, inconsistent)[0]  # then SWD

  def record(run, **extra):
    return {'round': 'round-1', 'finished': '2026-12-01 10:00 UTC', 'init_from': 'scratch', 'round_steps': 10,
            'total_steps': 10, 'total_hours': 0.5, 'bicubic': run, 'run': run, 'exported': False,
            'command': 'python -m jaxsr.main', **extra}
  for model, run in (('h2l_celeba_wider', {'swd': 12.5}),
                     ('edsr_x4_h2l', {'swd': 30.25, 'lr_consistency': 33.5})):
    folder = places / 'pretrained' / model
    folder.mkdir(parents=True)
    extra = {'compared': {'edsr_x4_celeba (edsr)': {'swd': 40.0, 'lr_consistency': 35.0}}} if 'edsr' in model else {}
    (folder / 'rounds.json').write_text(json.dumps([record(run, **extra)]))
  campaign.write_manifest()
  text = (places / 'pretrained' / 'MANIFEST.md').read_text()
  assert '## Degradation models' in text and '## Real LR models' in text and '## Paired' not in text
  assert '| 12.50 | 12.50 | no |' in text and '30.25 / 33.50' in text and 'edsr_x4_celeba: 40.00 / 35.00' in text


def test_a_rounds_totals_count_only_the_rounds_its_weights_come_from(places):
  rounds, export = campaign._relative(campaign.rounds_dir('edsr_x4_celeba')), campaign._relative(
      campaign.shipped('edsr_x4_celeba'))
  past = [{'round': 'round-1', 'init_from': 'scratch', 'exported': True, 'round_steps': 1},
          {'round': 'round-2', 'init_from': f'{rounds}/round-1', 'exported': True, 'round_steps': 10},
          {'round': 'round-3', 'init_from': export, 'exported': False, 'round_steps': 100},
          {'round': 'round-4', 'init_from': f'{rounds}/round-3', 'exported': False, 'round_steps': 1000}]
  steps = lambda init_from: [r['round_steps'] for r in campaign.ancestry('edsr_x4_celeba', past, init_from)]  # noqa: E731
  assert steps(f'{rounds}/round-3') == [100, 10, 1]  # round 4 lost ground: a sibling of it counts none of it
  assert steps(f'{rounds}/round-4') == [1000, 100, 10, 1]
  assert steps(export) == [10, 1]  # the export is the last exported round
  assert steps('scratch') == [] and steps('pretrained/another_model') == []
