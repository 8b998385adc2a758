"""The authors' degradation networks (H2L.py, Discriminator.py of jingyang2017/Face-and-Image-super-resolution):
parameter counts, the noise inputs, and equality with PyTorch modules written from those files where torch is
installed (same weights, outputs to 1e-5; initialisation statistics as PyTorch's)."""
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from jaxsr.models.discriminators import SNGANDiscriminator
from jaxsr.models.h2l import BULAT_GENERATORS, BulatGenH2L, BulatHighToLowGenerator

# (variant, z_dim, parameters at nf = 64: counted from H2L.py's layers)
GENERATORS = [('gen_h2l_0424', 64 * 64, 1_336_518), ('gen_h2l_0424_32', 64, 1_418_051), ('gen_h2l_2', 64, 1_121_603),
              ('gen_h2l_cgan', 8, 859_395)]


def count(variables):
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(variables['params']))


@pytest.mark.parametrize('variant, z_dim, parameters', GENERATORS)
def test_each_generator_of_the_authors_file_has_its_size_and_scale(variant, z_dim, parameters):
  g = BulatHighToLowGenerator(variant)
  hr = jax.random.uniform(jax.random.key(0), (2, 64, 64, 3), minval=-1, maxval=1)
  out, variables = jax.jit(g.init_with_output, static_argnames='train')(
      jax.random.key(1), hr, jnp.zeros((2, z_dim)), train=False)
  assert count(variables) == parameters
  assert out.shape == (2, 64 // BulatHighToLowGenerator.scale(variant), 64 // BulatHighToLowGenerator.scale(variant), 3)
  assert float(jnp.abs(out).max()) < 1.0


def test_the_files_first_generator_keeps_every_block_at_full_size():
  g = BulatGenH2L()
  hr = jax.random.uniform(jax.random.key(0), (2, 64, 64, 3), minval=-1, maxval=1)
  out, variables = jax.jit(g.init_with_output, static_argnames='train')(jax.random.key(1), hr, jnp.zeros((2, 64)),
                                                                      train=False)
  assert out.shape == (2, 16, 16, 3) and count(variables) == 1_529_987  # counted from Gen_h2l(add_n=True)
  assert len([k for k in variables['params'] if k.startswith('conv2_1_')]) == 12


def test_the_default_generator_learns_how_much_noise_to_add():
  g = BulatHighToLowGenerator('gen_h2l_0424', features=8)
  hr = jax.random.uniform(jax.random.key(0), (2, 64, 64, 3), minval=-1, maxval=1)
  z = [jax.random.normal(jax.random.key(k), (2, 64 * 64)) for k in (1, 2)]
  variables = g.init(jax.random.key(3), hr, z[0], train=False)
  assert np.array_equal(variables['params']['weight'], np.zeros(3))  # starts noiseless, as nn.Parameter(zeros)
  same = [g.apply(variables, hr, zk, train=False) for zk in z]
  np.testing.assert_array_equal(same[0], same[1])
  noisy = {**variables, 'params': {**variables['params'], 'weight': jnp.ones(3)}}
  assert not np.allclose(*(g.apply(noisy, hr, zk, train=False) for zk in z))
  with pytest.raises(ValueError, match='config.z_dim: gen_h2l_0424 .* must be 64 x 64 = 4096'):
    g.init(jax.random.key(3), hr, jnp.zeros((2, 64)), train=False)


@pytest.mark.parametrize('strides, size, parameters',
                         [((2, 2, 2, 2, 1), 64, 1_382_017), ((2, 2, 1, 1, 1), 16, 1_348_993)])
def test_the_discriminators_have_the_authors_sizes(strides, size, parameters):
  d = SNGANDiscriminator(strides)
  logits, variables = d.init_with_output(jax.random.key(0), jnp.zeros((3, size, size, 3)), train=False)
  assert logits.shape == (3,) and count(variables) == parameters


# PyTorch peers, written from the authors' files, and the state-dict mapping.

def torch_modules():
  torch = pytest.importorskip('torch')
  nn, F = torch.nn, torch.nn.functional

  class BasicBlock(nn.Module):
    def __init__(self, nf):
      super().__init__()
      self.conv1, self.bn1 = nn.Conv2d(nf, nf, 3, 1, 1), nn.BatchNorm2d(nf)
      self.conv2, self.bn2 = nn.Conv2d(nf, nf, 3, 1, 1), nn.BatchNorm2d(nf)

    def forward(self, x):
      return x + self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))

  class Generator(nn.Module):
    def __init__(self, variant, nf, z_dim, size=64):
      super().__init__()
      self.stem_stride, down, self.up_blocks, self.noise = BULAT_GENERATORS[variant]
      extra = {'scaled': 0, 'linear': 1, 'broadcast': z_dim}[self.noise]
      if self.noise == 'scaled':
        self.weight = nn.Parameter(torch.zeros(3))
      if self.noise == 'linear':
        self.linear = nn.Linear(z_dim, size * size)
      self.conv1 = nn.Conv2d(3 + extra, nf, 3, self.stem_stride, 1)
      main = []
      for _ in range(down):
        main += [BasicBlock(nf), BasicBlock(nf), nn.BatchNorm2d(nf), nn.ReLU(), nn.Conv2d(nf, nf, 3, 2, 1)]
      self.main = nn.Sequential(*main)
      if self.up_blocks:
        self.up1 = nn.Sequential(*[BasicBlock(nf) for _ in range(self.up_blocks)], nn.Conv2d(nf, 4 * nf, 3, 1, 1))
        self.up2 = nn.Sequential(*[BasicBlock(nf) for _ in range(self.up_blocks)], nn.Conv2d(nf, 4 * nf, 3, 1, 1))
      else:
        self.conv2, self.conv3 = nn.Conv2d(nf, 4 * nf, 3, 1, 1), nn.Conv2d(nf, 4 * nf, 3, 1, 1)
      self.conv4 = nn.Conv2d(nf, 3, 3, 1, 1)

    def forward(self, x, z):
      n, _, h, w = x.shape
      if self.noise == 'scaled':
        x = x + self.weight.view(1, -1, 1, 1) * z.view(n, 1, h, w)
      elif self.noise == 'linear':
        x = torch.cat([x, self.linear(z).view(n, 1, h, w)], 1)
      else:
        x = torch.cat([x, z.view(n, -1, 1, 1).expand(n, z.shape[1], h, w)], 1)
      x = self.main(F.relu(self.conv1(x)))
      ups = (self.up1, self.up2) if self.up_blocks else (self.conv2, self.conv3)
      for up in ups:
        x = F.relu(F.pixel_shuffle(up(x), 2))
      return torch.tanh(self.conv4(x))

  class GenH2L(nn.Module):  # Gen_h2l(add_n=True)
    def __init__(self, nf, z_dim=64, size=64):
      super().__init__()
      self.linear, self.conv1 = nn.Linear(z_dim, size * size), nn.Conv2d(4, nf, 3, 1, 1)
      for stage, blocks in ((2, 12), (3, 3)):
        for part in ('conv{}_1', 'conv{}_2', 'bn{}_1', 'bn{}_2'):
          layer = (lambda: nn.Conv2d(nf, nf, 3, 1, 1)) if part.startswith('conv') else (lambda: nn.BatchNorm2d(nf))
          setattr(self, part.format(stage), nn.ModuleList([layer() for _ in range(blocks)]))
      self.bn3, self.conv3 = nn.BatchNorm2d(nf), nn.Conv2d(nf, nf, 3, 2, 1)
      self.bn4, self.conv4 = nn.BatchNorm2d(nf), nn.Conv2d(nf, nf, 3, 2, 1)
      self.conv4_1 = nn.ModuleList([nn.Conv2d(nf, nf, 3, 1, 1) for _ in range(2)])
      self.conv5 = nn.Conv2d(nf, 3, 3, 1, 1)

    def forward(self, x, z):
      n, _, h, w = x.shape
      out = F.relu(self.conv1(torch.cat([x, self.linear(z).view(n, 1, h, w)], 1)))
      for stage, blocks in ((2, 12), (3, 3)):
        for i in range(blocks):
          c1, c2 = getattr(self, f'conv{stage}_1')[i], getattr(self, f'conv{stage}_2')[i]
          b1, b2 = getattr(self, f'bn{stage}_1')[i], getattr(self, f'bn{stage}_2')[i]
          out = out + b2(c2(F.relu(b1(c1(out)))))
        out = getattr(self, f'conv{stage + 1}')(F.relu(getattr(self, f'bn{stage + 1}')(out)))
      for conv in self.conv4_1:
        out = out + F.relu(conv(out))
      return torch.tanh(self.conv5(out))

  def sn(layer, gain=1.0):
    """Xavier-uniform kernel, then spectral norm: one power iteration per training forward."""
    nn.init.xavier_uniform_(layer.weight, gain)
    return torch.nn.utils.spectral_norm(layer)

  class Block(nn.Module):
    def __init__(self, cin, cout, stride, first):
      super().__init__()
      self.first, self.pool = first, first or stride != 1
      self.conv1, self.conv2 = sn(nn.Conv2d(cin, cout, 3, 1, 1)), sn(nn.Conv2d(cout, cout, 3, 1, 1))
      if self.pool:
        self.bypass_conv = sn(nn.Conv2d(cin, cout, 1, 1, 0), np.sqrt(2))

    def forward(self, x):
      h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))
      if self.pool:
        h = F.avg_pool2d(h, 2)
      if self.first:
        return h + self.bypass_conv(F.avg_pool2d(x, 2))
      return h + (F.avg_pool2d(self.bypass_conv(x), 2) if self.pool else x)

  class Discriminator(nn.Module):
    def __init__(self, strides, nf):
      super().__init__()
      self.model = nn.Sequential(*[Block(3 if i == 0 else nf, nf, s, i == 0) for i, s in enumerate(strides)])
      self.fc = sn(nn.Linear(nf, 1))

    def forward(self, x):
      return self.fc(F.relu(self.model(x)).mean(dim=(2, 3)))[:, 0]

  return torch, Generator, Discriminator, GenH2L


def flax_name(path, spectral=False):
  """The state-dict key of a flax variable path: main_0/conv1/conv/kernel -> main.0.conv1.weight (conv2_1_3 ->
  conv2_1.3, a ModuleList's); with `spectral`
  (torch.nn.utils.spectral_norm's names) kernels -> weight_orig, u -> weight_u."""
  parts = [str(getattr(k, 'key', k)) for k in path][1:]
  leaf = parts.pop()
  parts = ['.'.join(p.rsplit('_', 1)) if p.rsplit('_', 1)[-1].isdigit() else p for p in parts if p != 'conv']
  leaf = {'kernel': 'weight_orig' if spectral else 'weight', 'scale': 'weight', 'mean': 'running_mean',
          'var': 'running_var', 'u': 'weight_u'}.get(leaf, leaf)
  return '.'.join([*parts, leaf])


def load_torch_into(variables, state_dict, spectral=False):
  """`variables` with every array taken from the PyTorch state dict (transposed to flax's layouts)."""
  def take(path, like):
    value = state_dict[flax_name(path, spectral)].detach().numpy().copy()  # PyTorch updates u in place
    if value.ndim == 4:
      value = value.transpose(2, 3, 1, 0)
    elif value.ndim == 2:
      value = value.T
    return jnp.asarray(value.reshape(like.shape), like.dtype)
  return jax.tree_util.tree_map_with_path(take, variables)


def assert_equals_pytorch(torch, g, peer, z_dim, atol):
  """Flax generator `g` on the PyTorch `peer`'s weights gives its outputs, in eval and train mode."""
  for m in peer.modules():  # running statistics other than PyTorch's (0, 1) start, so eval mode means something
    if isinstance(m, torch.nn.BatchNorm2d):
      m.running_mean.uniform_(-0.5, 0.5)
      m.running_var.uniform_(0.5, 2.0)
  rng = np.random.default_rng(0)
  hr, z = rng.uniform(-1, 1, (2, 64, 64, 3)).astype(np.float32), rng.normal(size=(2, z_dim)).astype(np.float32)
  variables = g.init(jax.random.key(0), hr, z, train=False)
  assert count(variables) == sum(p.numel() for p in peer.parameters())
  variables = load_torch_into(variables, peer.state_dict())
  for train in (False, True):
    peer.train(train)
    want = peer(torch.from_numpy(hr.transpose(0, 3, 1, 2)), torch.from_numpy(z)).detach().numpy()
    got = g.apply(variables, hr, z, train=train, mutable=['batch_stats'])[0] if train else g.apply(
        variables, hr, z, train=False)
    np.testing.assert_allclose(np.asarray(got), want.transpose(0, 2, 3, 1), atol=atol)


@pytest.mark.parametrize('variant, z_dim, _', GENERATORS)
def test_generators_equal_pytorch_on_the_same_weights(variant, z_dim, _):
  torch, Generator, *_ = torch_modules()
  torch.manual_seed(0)
  peer = Generator(variant, 16, z_dim)
  with torch.no_grad():
    if variant == 'gen_h2l_0424':
      peer.weight.uniform_(-1, 1)
  assert_equals_pytorch(torch, BulatHighToLowGenerator(variant, features=16), peer, z_dim, 2e-5)  # 20 convs


def test_the_files_first_generator_equals_pytorch_on_the_same_weights():
  torch, *_, GenH2L = torch_modules()
  torch.manual_seed(0)
  assert_equals_pytorch(torch, BulatGenH2L(features=8), GenH2L(8), 64, 5e-5)  # 37 float32 convs


@pytest.mark.parametrize('strides, size', [((2, 2, 2, 2, 1), 64), ((2, 2, 1, 1, 1), 16)])
def test_discriminators_equal_pytorch_and_update_the_same_power_iteration(strides, size):
  torch, _, Discriminator, _ = torch_modules()
  torch.manual_seed(0)
  peer = Discriminator(strides, 16)
  d = SNGANDiscriminator(strides, features=16)
  x = np.random.default_rng(0).uniform(-1, 1, (4, size, size, 3)).astype(np.float32)
  variables = load_torch_into(d.init(jax.random.key(0), x, train=False), peer.state_dict(), spectral=True)
  want = peer(torch.from_numpy(x.transpose(0, 3, 1, 2))).detach().numpy()  # training mode: one power iteration
  got, updated = d.apply(variables, x, train=True, mutable=['batch_stats'])
  np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5)
  u = updated['batch_stats']['model_1']['conv1']['u']
  np.testing.assert_allclose(np.asarray(u), peer.state_dict()['model.1.conv1.weight_u'].numpy(), atol=1e-5)


def test_initialisation_matches_pytorch_statistics():
  """Kernels and biases drawn as PyTorch draws them: per layer, the same bound (kaiming_uniform(a=sqrt(5)) or
  Xavier) and so the same standard deviation within sampling error."""
  torch, Generator, Discriminator, _ = torch_modules()
  torch.manual_seed(0)
  for flax_module, peer, inputs, spectral in (
      (BulatHighToLowGenerator('gen_h2l_2'), Generator('gen_h2l_2', 64, 64),
       (jnp.zeros((1, 64, 64, 3)), jnp.zeros((1, 64))), False),
      (SNGANDiscriminator((2, 2, 2, 2, 1)), Discriminator((2, 2, 2, 2, 1), 128), (jnp.zeros((1, 64, 64, 3)),), True)):
    variables = flax_module.init(jax.random.key(0), *inputs, train=False)['params']
    ours = {flax_name([jax.tree_util.DictKey('params'), *p], spectral): np.asarray(v)
            for p, v in jax.tree_util.tree_leaves_with_path(variables)}
    theirs = {k: v.detach().numpy() for k, v in peer.state_dict().items()}
    compared = 0
    for key, value in ours.items():
      if value.size < 256 or key not in theirs or key.endswith(('running_mean', 'running_var')):
        continue
      assert np.std(value) == pytest.approx(np.std(theirs[key]), rel=0.1), key
      assert np.abs(value).max() <= np.abs(theirs[key]).max() * 1.05 + 1e-6, key
      compared += 1
    assert compared > 5


def test_configs_train_the_authors_networks_and_runs_recorded_before_keep_yoon28s():
  from conftest import load_config

  from jaxsr import methods
  from jaxsr.models.discriminators import SNResNetDiscriminator
  from jaxsr.models.h2l import HighToLowGenerator
  h2l = methods.create(load_config('h2l'))
  assert isinstance(h2l.generator, BulatHighToLowGenerator) and h2l.generator.variant == 'gen_h2l_0424'
  assert isinstance(h2l.discriminator, SNGANDiscriminator) and tuple(h2l.discriminator.strides) == (2, 2, 1, 1, 1)
  l2h = methods.create(load_config('l2h_bicubic'))
  assert isinstance(l2h.discriminator, SNGANDiscriminator) and tuple(l2h.discriminator.strides) == (2, 2, 2, 2, 1)
  for name in ('h2l', 'l2h_bicubic', 'degradation_sr'):
    old = load_config(name, 'yoon').to_dict()  # a config.json written before the field existed
    for part in (old, old.get('l2h', {})):
      for net in ('generator', 'discriminator'):
        if net in part:
          part[net].pop('architecture', None)
    method = methods.create(ml_collections.ConfigDict(old))
    for module in (getattr(method, 'h2l', method), getattr(method, 'l2h', method)):
      if hasattr(module, 'discriminator') and module.discriminator is not None:
        assert isinstance(module.discriminator, SNResNetDiscriminator), name
    if name == 'h2l':
      assert isinstance(method.generator, HighToLowGenerator)
  bad = load_config('h2l')
  bad.generator.architecture = 'gen_h2l_0424_32'  # a x2 generator under a x4 config
  with pytest.raises(ValueError, match='config.generator.architecture: gen_h2l_0424_32 degrades by x2'):
    methods.create(bad)


def test_yoon28s_networks_start_as_pytorch_draws_them():
  """yoon_model.py keeps PyTorch's defaults: kernels and biases uniform(+-1/sqrt(fan_in)) (kaiming_uniform(a=sqrt(5))
  for kernels), so std 1/sqrt(3 fan_in); spectral-norm layers store W / sigma(W) (flax's nn.SpectralNorm), so only
  their biases keep PyTorch's scale."""
  from jaxsr.models.discriminators import SNResNetDiscriminator
  from jaxsr.models.h2l import HighToLowGenerator
  params = HighToLowGenerator().init(jax.random.key(0), jnp.zeros((1, 64, 64, 3)), jnp.zeros((1, 64)),
                                     train=False)['params']
  checked = 0
  for path, value in jax.tree_util.tree_leaves_with_path(params):
    if getattr(path[-1], 'key', '') != 'kernel' or value.size < 4096:
      continue
    fan_in = int(np.prod(value.shape[:-1]))
    bound = 1 / np.sqrt(fan_in)
    assert np.abs(value).max() <= bound * 1.0001, path
    assert np.std(value) == pytest.approx(bound / np.sqrt(3), rel=0.1), path
    checked += 1
  assert checked > 15
  noise_bias = np.asarray(params['noise']['bias'])
  assert np.abs(noise_bias).max() <= 1 / 8 and np.std(noise_bias) > 0.05  # uniform(+-1/sqrt(64))
  d = SNResNetDiscriminator().init(jax.random.key(1), jnp.zeros((1, 16, 16, 3)), train=False)['params']
  skip_bias = np.asarray(d['SNResBlock_0']['skip']['Conv_0']['bias'])
  assert skip_bias.shape == (128,) and 0 < np.abs(skip_bias).max() <= 1 / np.sqrt(3)  # 1x1 conv from 3 channels
