import jax.numpy as jnp
import numpy as np
import pytest
from absl import flags
from conftest import REPO, load_config
from ml_collections import config_flags

from jaxsr.core import config_base, optim


def parse(*overrides):
  argv = ['main', f'--config={REPO}/configs/h2l.py', *overrides]
  values = flags.FlagValues()
  config_flags.DEFINE_config_file('config', flag_values=values, lock_config=True, sys_argv=argv)
  values(argv)
  return values.config


def test_h2l_defaults_follow_the_paper():
  c = load_config('h2l')
  assert (c.alpha, c.beta, c.batch_size) == (1.0, 0.05, 32)
  for net in (c.generator, c.discriminator):
    assert (net.optimizer.name, net.optimizer.learning_rate, net.optimizer.b1, net.optimizer.b2) == \
        ('adam', 1e-4, 0.0, 0.9)
  config_base.validate(c, device_count=8)


def test_overrides_reach_nested_fields():
  c = parse('--config.batch_size=64', '--config.generator.optimizer.learning_rate=0.001',
            '--config.generator.features=32', '--config.precision=bfloat16')
  assert (c.batch_size, c.generator.optimizer.learning_rate, c.generator.features, c.precision) == \
      (64, 0.001, 32, 'bfloat16')


def test_unknown_field_and_wrong_type_are_rejected_at_parse_time():
  with pytest.raises((flags.Error, KeyError, AttributeError), match="batch_sizee"):
    parse('--config.batch_sizee=64')
  with pytest.raises(flags.Error, match='batch_size'):
    parse('--config.batch_size=many')


@pytest.mark.parametrize('field,value,match', [
    ('precision', 'fp8', r'config.precision: must be one of'),
    ('batch_size', 30, r'config.batch_size: 30 does not split over 8 devices'),
    ('log_every', 0, r'config.log_every: must be positive'),
])
def test_invalid_values_are_named(field, value, match):
  c = load_config('h2l')
  c[field] = value
  with pytest.raises(ValueError, match=match):
    config_base.validate(c, device_count=8)


def test_invalid_optimizer_is_named():
  c = load_config('h2l')
  c.discriminator.optimizer.name = 'sgd'
  with pytest.raises(ValueError, match=r'config.discriminator.optimizer.name'):
    config_base.validate(c, device_count=1)


@pytest.mark.parametrize('path', sorted((REPO / 'configs').glob('*.py')), ids=lambda p: p.stem)
def test_every_config_and_its_tiny_variant_validate(path):
  for arg in ('', 'tiny'):
    c = load_config(path.stem, arg)
    config_base.validate(c, device_count=8)
    assert c.method and c.num_steps > 0
  with pytest.raises(ValueError, match='unknown variant'):
    load_config(path.stem, 'huge')


def test_rmsprop_clips_gradient_values_and_adams_state_keeps_its_structure():
  adam = optim.make(config_base.optimizer('adam', 1e-3))
  assert {'eps', 'eps_root'} <= set(adam.init({'w': jnp.zeros(3)}).hyperparams)  # earlier checkpoints restore
  params = {'w': jnp.zeros(2)}
  for clip, equal in ((1.0, True), (0.0, False)):
    rmsprop = optim.make(config_base.optimizer('rmsprop', 0.1, b2=0.9, clip_value=clip))
    state = rmsprop.init(params)
    _, state = rmsprop.update({'w': jnp.array([100.0, 0.5])}, state, params)  # clipped to (1, 0.5)
    updates, _ = rmsprop.update({'w': jnp.array([1.0, 0.5])}, state, params)
    # with clipping both coordinates saw the same history up to scale, so they step alike
    assert np.isclose(updates['w'][0], updates['w'][1], rtol=1e-3) == equal


def test_warmup_cosine_rises_linearly_then_falls_to_zero_and_is_checked():
  o = config_base.optimizer('adam', 1e-3, schedule='warmup_cosine', warmup_steps=10, decay_steps=110)
  lr = optim.schedule(o)
  assert [float(lr(s)) for s in (0, 5, 10, 60, 110, 200)] == pytest.approx([0, 5e-4, 1e-3, 5e-4, 0, 0], abs=1e-9)
  c = load_config('edsr', 'face_cpu')
  c.generator.optimizer.update(warmup_steps=500, decay_steps=500)
  with pytest.raises(ValueError, match='config.generator.optimizer.decay_steps'):
    config_base.validate(c, device_count=1)


@pytest.mark.parametrize('name', sorted(p.stem for p in (REPO / 'configs').glob('*.py')))
def test_each_network_has_its_own_optimizer_config(name):
  """An override of one network's learning rate must leave every other network's as it was."""
  c = load_config(name)
  fields = [field for field, _ in config_base._optimizers(c)]
  for changed in fields:
    before = {field: o.learning_rate for field, o in config_base._optimizers(c)}
    node = c
    for part in changed.split('.'):
      node = node[part]
    node.learning_rate = before[changed] * 3 + 1
    after = {field: o.learning_rate for field, o in config_base._optimizers(c)}
    assert {f for f in fields if after[f] != before[f]} == {changed}, name


@pytest.mark.parametrize('name', sorted(p.stem for p in (REPO / 'configs').glob('*.py')))
def test_a_methods_example_is_what_its_training_data_gives(name, data_dir):
  """Method.example() is what start-up checks a dataset against and what runs are read into: it must be exact."""
  from jaxsr import methods
  config = load_config(name, 'tiny')
  config.data_dir = data_dir
  method = methods.create(config)
  given = method.train_data(data_dir)[0]
  assert {k: (x.shape, x.dtype) for k, x in method.example().items()} == {
      k: (x.shape, x.dtype) for k, x in given.items()}


def test_networks_are_built_by_name_from_their_config_fields():
  """Method.network passes a config sub-dict by keyword: each field lands on the module field of its name, and a
  field the module lacks fails at construction rather than shifting the arguments after it."""
  from jaxsr import methods
  c = load_config('fsrnet', 'gan')
  c.generator.update(hourglasses=3, landmarks=7)
  c.discriminator.dense_features = 24
  method = methods.create(c)
  assert (method.generator.hourglasses, method.generator.landmarks, method.generator.scale) == (3, 7, c.scale)
  assert method.discriminator.dense_features == 24 and isinstance(method.discriminator.units[0], tuple)
  c = load_config('edsr')
  with c.unlocked():
    c.generator.blokcs = 4
  with pytest.raises(TypeError, match='blokcs'):
    methods.create(c)
