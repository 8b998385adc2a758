"""The released L2H of Bulat et al. (GEN_DEEP, model.pkl) in jaxsr: its align-corners upsampling, the state dict
mapping, the run directory the importer writes, and equality with PyTorch's forward pass where torch is installed."""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsr import import_weights
from jaxsr.models import layers
from jaxsr.models.l2h import LowToHighGenerator
from jaxsr.using import inference

GEN_DEEP = dict(widths=(256, 128), blocks=(12, 3), head=96)
SMALL = dict(widths=(16, 8), blocks=(2, 1), head=8)


def align_corners_reference(x, factor):
  """PyTorch's bilinear align_corners=True, one output pixel at a time (NHWC)."""
  n, h, w, c = x.shape
  out = np.zeros((n, h * factor, w * factor, c))
  for i in range(h * factor):
    for j in range(w * factor):
      y, z = i * (h - 1) / (h * factor - 1), j * (w - 1) / (w * factor - 1)
      y0, z0 = int(y), int(z)
      y1, z1 = min(y0 + 1, h - 1), min(z0 + 1, w - 1)
      dy, dz = y - y0, z - z0
      out[:, i, j] = ((1 - dy) * (1 - dz) * x[:, y0, z0] + (1 - dy) * dz * x[:, y0, z1] +
                      dy * (1 - dz) * x[:, y1, z0] + dy * dz * x[:, y1, z1])
  return out


def test_align_corners_upsampling_samples_the_corners():
  row = jnp.asarray([0.0, 1.0]).reshape(1, 1, 2, 1).repeat(2, axis=1)
  np.testing.assert_allclose(layers.bilinear_upsample_align_corners(row, 2)[0, 0, :, 0], [0, 1 / 3, 2 / 3, 1],
                             atol=1e-6)  # jax.image.resize (half-pixel centres) gives 0, 1/4, 3/4, 1
  x = np.random.default_rng(0).normal(size=(2, 5, 4, 3)).astype(np.float32)
  np.testing.assert_allclose(layers.bilinear_upsample_align_corners(jnp.asarray(x), 2),
                             align_corners_reference(x, 2), atol=1e-5)


def gen_deep_shapes(widths, blocks, head):
  """{name: shape} of GEN_DEEP's state dict (model.py of jingyang2017/Face-and-Image-super-resolution), for any
  widths; with the released sizes it includes the never-called `a2` and PyTorch's BatchNorm step counters."""
  shapes = {'layers_in.weight': (widths[0], 3, 3, 3)}

  def bn(prefix, c):
    shapes.update({f'{prefix}.weight': (c,), f'{prefix}.bias': (c,), f'{prefix}.running_mean': (c,),
                   f'{prefix}.running_var': (c,), f'{prefix}.num_batches_tracked': ()})

  cin = widths[0]
  for i, (width, count) in enumerate(zip(widths, blocks)):
    for j in range(count):
      block_in = cin if j == 0 else width
      p = f'layers_set_final.{i}.{j}'
      bn(f'{p}.bn1', block_in)
      shapes[f'{p}.conv1.weight'] = (width, block_in, 3, 3)
      bn(f'{p}.bn2', width)
      shapes[f'{p}.conv2.weight'] = (width, width, 3, 3)
      if block_in != width:
        shapes.update({f'{p}.skip.weight': (width, block_in, 1, 1), f'{p}.skip.bias': (width,)})
    if cin != width:
      shapes.update({f'a{i}.0.weight': (width, cin, 1, 1), f'a{i}.0.bias': (width,)})
    bn(f'layers_set_final_up.{i}.1', width)
    shapes.update({f'layers_set_final_up.{i}.3.weight': (width, width, 1, 1),
                   f'layers_set_final_up.{i}.3.bias': (width,)})
    cin = width
  if (widths, blocks, head) == tuple(GEN_DEEP.values()):
    shapes.update({'a2.0.weight': (96, 128, 1, 1), 'a2.0.bias': (96,)})
  shapes.update({'main.0.weight': (head, cin, 3, 3), 'main.2.weight': (head, head, 1, 1), 'main.2.bias': (head,),
                 'main.4.weight': (3, head, 1, 1), 'main.4.bias': (3,)})
  return shapes


def random_state_dict(shapes, seed=0):
  rng = np.random.default_rng(seed)
  state = {}
  for name, shape in shapes.items():
    if name.endswith('running_var'):
      state[name] = rng.uniform(0.5, 2.0, shape).astype(np.float32)
    elif name.endswith('num_batches_tracked'):
      state[name] = np.asarray(1000.0, np.float32)
    else:
      fan_in = np.prod(shape[1:]) if len(shape) > 1 else 10
      state[name] = (rng.normal(size=shape) / np.sqrt(fan_in)).astype(np.float32)
  return state


def expected(sizes, scale=4):
  g = LowToHighGenerator(scale, sizes['widths'], sizes['blocks'], sizes['head'])
  return g, jax.eval_shape(lambda: g.init(jax.random.key(0), jnp.zeros((1, 16, 16, 3)), train=False))


def test_released_state_dict_fills_every_variable_of_the_full_generator():
  shapes = gen_deep_shapes(**GEN_DEEP)
  _, variables = expected(GEN_DEEP)
  imported = import_weights.bulat_l2h_variables(random_state_dict(shapes), variables)
  assert jax.tree.map(np.shape, imported) == jax.tree.map(lambda x: x.shape, dict(variables))
  weights = sum(np.prod(s) for k, s in shapes.items() if not k.startswith('a2.') and 'running' not in k and
                'num_batches' not in k)
  assert sum(x.size for x in jax.tree.leaves(imported['params'])) == weights


def test_a_file_that_does_not_fit_names_each_tensor():
  _, variables = expected(SMALL)
  state = random_state_dict(gen_deep_shapes(**SMALL))
  del state['main.0.weight']
  state['layers_in.weight'] = state['layers_in.weight'][:8]
  state['extra.weight'] = np.zeros(3, np.float32)
  with pytest.raises(ValueError) as error:
    import_weights.bulat_l2h_variables(state, variables)
  message = str(error.value)
  assert 'missing: main.0.weight' in message and 'unexpected: extra.weight' in message
  assert 'layers_in.weight: (8, 3, 3, 3) in the file, (16, 3, 3, 3) expected' in message


def torch_gen_deep(widths, blocks, head):
  """A PyTorch network with GEN_DEEP's module names and computation, for any widths."""
  torch = pytest.importorskip('torch')
  nn, F = torch.nn, torch.nn.functional

  class Block(nn.Module):
    def __init__(self, cin, cout):
      super().__init__()
      self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, padding=1, bias=False)
      self.bn2, self.conv2 = nn.BatchNorm2d(cout), nn.Conv2d(cout, cout, 3, padding=1, bias=False)
      self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
      h = self.conv2(F.relu(self.bn2(self.conv1(F.relu(self.bn1(x))))))
      return h + (x if self.skip is None else self.skip(x))

  class Net(nn.Module):
    def __init__(self):
      super().__init__()
      self.layers_in = nn.Conv2d(3, widths[0], 3, padding=1, bias=False)
      cins = [widths[0], *widths[:-1]]
      self.layers_set_final = nn.ModuleList(
          nn.Sequential(*[Block(c if j == 0 else w, w) for j in range(n)]) for c, w, n in zip(cins, widths, blocks))
      self.layers_set_final_up = nn.ModuleList(
          nn.Sequential(nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True), nn.BatchNorm2d(w), nn.ReLU(),
                        nn.ConvTranspose2d(w, w, 1)) for w in widths)
      for i, (c, w) in enumerate(zip(cins, widths)):
        if c != w:
          setattr(self, f'a{i}', nn.Sequential(nn.Conv2d(c, w, 1)))
      self.main = nn.Sequential(nn.Conv2d(widths[-1], head, 3, padding=1, bias=False), nn.ReLU(),
                                nn.Conv2d(head, head, 1), nn.ReLU(), nn.Conv2d(head, 3, 1), nn.Tanh())

    def forward(self, x):
      x = self.layers_in(x)
      for i, (stage, up) in enumerate(zip(self.layers_set_final, self.layers_set_final_up)):
        skip = getattr(self, f'a{i}')(x) if hasattr(self, f'a{i}') else x
        x = up(stage(x) + skip)
      return self.main(x)

  return torch, Net()


def test_shapes_are_gen_deeps_own_and_outputs_equal_pytorch_in_eval_mode():
  torch, net = torch_gen_deep(**SMALL)
  shapes = gen_deep_shapes(**SMALL)
  assert {k: tuple(v.shape) for k, v in net.state_dict().items()} == shapes
  state = random_state_dict(shapes, seed=1)
  net.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in state.items()}, strict=True)
  lr = np.random.default_rng(2).uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)
  with torch.no_grad():
    want = net.eval()(torch.from_numpy(lr.transpose(0, 3, 1, 2))).numpy().transpose(0, 2, 3, 1)
  g, variables = expected(SMALL)
  got = g.apply(import_weights.bulat_l2h_variables(state, variables), lr, train=False)
  np.testing.assert_allclose(np.asarray(got), want, atol=1e-5)


def test_the_imported_run_upscales_like_the_network_it_holds(tmp_path):
  from safetensors.numpy import save_file
  state = random_state_dict(gen_deep_shapes(**GEN_DEEP), seed=3)
  src = tmp_path / 'model.safetensors'
  save_file({k: np.asarray(v) for k, v in state.items()}, src)
  import_weights.import_run(src, tmp_path / 'run')
  record = json.loads((tmp_path / 'run' / 'imported.json').read_text())
  assert record['format'] == 'bulat_l2h' and len(record['sha256']) == 64
  lr = np.random.default_rng(4).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
  sr = inference.load(tmp_path / 'run').upscale(lr)
  g, variables = expected(GEN_DEEP)
  want = g.apply(import_weights.bulat_l2h_variables(state, variables), lr / 127.5 - 1.0, train=False)
  assert sr.shape == (2, 64, 64, 3)
  np.testing.assert_allclose(sr, np.clip(np.round((np.asarray(want) + 1) * 127.5), 0, 255), atol=1)
  with pytest.raises(FileExistsError, match='already holds a run'):
    import_weights.import_run(src, tmp_path / 'run')


def test_gen_deep_starts_where_pytorch_starts():
  """Every tensor's spread at initialisation is PyTorch's (kaiming_uniform(a=sqrt(5)) kernels, uniform biases), and
  so is the output's in training mode: flax's defaults started GEN_DEEP's outputs about 6 times wider."""
  torch = pytest.importorskip('torch')
  torch.manual_seed(0)
  _, net = torch_gen_deep(**GEN_DEEP)
  g, shapes = expected(GEN_DEEP)
  theirs = import_weights.bulat_l2h_variables({k: v.numpy() for k, v in net.state_dict().items()}, shapes)
  ours = g.init(jax.random.key(0), jnp.zeros((1, 16, 16, 3)), train=False)
  compared = 0
  for (path, a), b in zip(jax.tree_util.tree_leaves_with_path(ours['params']), jax.tree.leaves(theirs['params'])):
    if np.size(b) >= 64 and np.std(b) > 0:
      assert 0.85 < np.std(a) / np.std(b) < 1.15, jax.tree_util.keystr(path)
      compared += 1
  assert compared >= 40
  lr = np.random.default_rng(0).uniform(-1, 1, (8, 16, 16, 3)).astype(np.float32)
  with torch.no_grad():
    want = net.train()(torch.from_numpy(lr.transpose(0, 3, 1, 2))).numpy()
  got, _ = g.apply(ours, lr, train=True, mutable=['batch_stats'])
  # one draw each: the outputs' spread is mostly three final biases, so only the factor is held (flax's defaults: 7)
  assert 1 / 3 < float(np.std(got)) / float(np.std(want)) < 3, (np.std(got), np.std(want))
