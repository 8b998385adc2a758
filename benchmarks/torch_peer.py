"""A training step in PyTorch, timed eager and with torch.compile against jaxsr's jitted step, in the same run,
device, batch, threads and precision, for the networks that train on the CPU (`PEERS`, by config.method):

  edsr, srresnet     the generator's L1 / MSE step with Adam (and the moving average when the config keeps one)
  l2h                GEN_DEEP (jaxsr.models.l2h) against the HR discriminator (configs/l2h_bicubic.py)
  h2l                the authors' Gen_h2l_0424 against their 16x16 SNGAN discriminator (configs/h2l.py), or
                     yoon28's networks (:yoon)
  degradation_sr     the joint step: H2L + LR discriminator, then L2H + HR discriminator, all four updated
  unet_degradation   the write-up's U-Nets: H2L + LR discriminator, then L2H (+ HR discriminator, :hr_disc)

    python benchmarks/torch_peer.py --config=edsr:face_cpu --batch_sizes=16 --notorch_compile    # this CPU
    python benchmarks/torch_peer.py --config=degradation_sr:yoon --batch_sizes=32,256 --precisions=float32,bfloat16

Each PyTorch network mirrors jaxsr's module layer for layer, built from the same config fields, and the parameter
counts are asserted equal, network by network (tests/test_torch_peer.py checks every peer). The step is the one
the jaxsr method takes: a discriminator on (real, fake) with the hinge loss, then its generator against the
updated discriminator through the same forward pass (H2L: alpha MSE to the average-pooled HR + beta adversarial;
L2H: MSE + adversarial), Adam with the configs' betas. Not mirrored, as they cost nothing per step: learning-rate
schedules and initialisations. torch's bicubic upsampling (a = -0.75) stands in for jax.image.resize's (a = -0.5)
in EDSR's skip: the same work. The discriminators see real and fake in one call, where jaxsr makes two:
torch.compile cannot differentiate two spectral-norm forwards of one module (the second updates in place the
power-iteration vector the first saved); only the number of power iterations per step differs, not the FLOPs.
bfloat16 is torch.autocast, as jaxsr computes in bfloat16 with float32 parameters; float32 lets cuDNN and matmuls
use TF32, as XLA does by default. Needs PyTorch. Rows are appended to benchmarks/RESULTS.md.
"""
import sys
import time
from pathlib import Path
from typing import Callable, NamedTuple

import jax
import numpy as np
import torch
import torch.nn.functional as F
from absl import app, flags
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from jaxsr import methods
from jaxsr.core import parallel
from jaxsr.models.h2l import BULAT_GENERATORS
from jaxsr.models.sr_generators import DIV2K_RGB_MEAN
from jaxsr.models.unet import ENCODER, H2L_SKIPS, L2H_SKIPS

import common

REPO = Path(__file__).resolve().parents[1]
_CONFIG = flags.DEFINE_string('config', 'degradation_sr:yoon', 'configs/<name>.py[:variant] of a method in PEERS.')
_BATCH_SIZES = flags.DEFINE_list('batch_sizes', ['32'], 'Global batch sizes.')
_PRECISIONS = flags.DEFINE_list('precisions', ['float32'], 'float32 and/or bfloat16.')
_STEPS = flags.DEFINE_integer('steps', 20, 'Timed steps after warm-up.')
_COMPILE = flags.DEFINE_bool('torch_compile', True, 'Also time the torch.compile version.')
_TORCH_THREADS = flags.DEFINE_integer('torch_threads', None, "torch.set_num_threads (default: torch's own, the "
                                     'core count); 1 tells what one core of oneDNN makes.')
_RESULTS = flags.DEFINE_string('results', str(REPO / 'benchmarks' / 'RESULTS.md'), 'Markdown file to append to.')


class PreActBlock(nn.Module):
  """jaxsr.models.layers.PreActResBlock."""

  def __init__(self, cin, cout, downsample=False):
    super().__init__()
    self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, padding=1, bias=False)
    self.bn2, self.conv2 = nn.BatchNorm2d(cout), nn.Conv2d(cout, cout, 3, padding=1, bias=False)
    self.skip = nn.Conv2d(cin, cout, 1) if cin != cout or downsample else nn.Identity()
    self.downsample = downsample

  def forward(self, x):
    h = F.relu(self.bn2(self.conv1(F.relu(self.bn1(x)))))
    if self.downsample:
      h, x = F.avg_pool2d(h, 2), F.avg_pool2d(x, 2)
    return self.skip(x) + self.conv2(h)


class HighToLow(nn.Module):
  """jaxsr.models.h2l.HighToLowGenerator."""

  def __init__(self, g, z_dim, size):
    super().__init__()
    self.noise = nn.Linear(z_dim, size * size)
    self.stem = nn.Conv2d(4, g.widths[0], 3, padding=1, bias=False)
    widths = [g.widths[0], *g.widths]
    self.encoder = nn.Sequential(*[PreActBlock(widths[i], widths[i + 1], i % 2 == 0) for i in range(len(g.widths))])
    stages, width = [], g.widths[-1]
    for up in g.up_widths:
      assert width // 4 == up, 'pixel shuffle must give up_widths channels'
      stages += [nn.PixelShuffle(2), *[PreActBlock(up, up) for _ in range(g.blocks_per_stage)]]
      width = up
    self.decoder = nn.Sequential(*stages)
    self.head = nn.Sequential(nn.Conv2d(width, 8, 3, padding=1, bias=False), nn.ReLU(),
                              nn.Conv2d(8, 3, 3, padding=1, bias=False), nn.Tanh())

  def forward(self, hr, z):
    n, _, h, w = hr.shape
    x = torch.cat([hr, self.noise(z).view(n, 1, h, w)], 1)
    return self.head(self.decoder(self.encoder(self.stem(x))))


class LowToHighStage(nn.Module):
  def __init__(self, cin, width, blocks):
    super().__init__()
    self.blocks = nn.Sequential(*[PreActBlock(cin if i == 0 else width, width) for i in range(blocks)])
    self.skip = nn.Conv2d(cin, width, 1) if cin != width else nn.Identity()
    self.bn, self.conv = nn.BatchNorm2d(width), nn.Conv2d(width, width, 1)

  def forward(self, x):
    x = F.interpolate(self.skip(x) + self.blocks(x), scale_factor=2, mode='bilinear', align_corners=True)
    return self.conv(F.relu(self.bn(x)))


class LowToHigh(nn.Module):
  """jaxsr.models.l2h.LowToHighGenerator."""

  def __init__(self, g):
    super().__init__()
    self.stem = nn.Conv2d(3, g.widths[0], 3, padding=1, bias=False)
    cins = [g.widths[0], *g.widths[:-1]]
    self.stages = nn.Sequential(*[LowToHighStage(c, w, b) for c, w, b in zip(cins, g.widths, g.blocks)])
    f = g.head_features
    self.head = nn.Sequential(nn.Conv2d(g.widths[-1], f, 3, padding=1, bias=False), nn.ReLU(), nn.Conv2d(f, f, 1),
                              nn.ReLU(), nn.Conv2d(f, 3, 1), nn.Tanh())

  def forward(self, lr):
    return self.head(self.stages(self.stem(lr)))


class SNBlock(nn.Module):
  """jaxsr.models.layers.SNResBlock."""

  def __init__(self, cin, cout, downsample):
    super().__init__()
    self.conv1 = spectral_norm(nn.Conv2d(cin, cout, 3, padding=1, bias=False))
    self.conv2 = spectral_norm(nn.Conv2d(cout, cout, 3, padding=1, bias=False))
    self.skip = spectral_norm(nn.Conv2d(cin, cout, 1)) if cin != cout or downsample else nn.Identity()
    self.downsample = downsample

  def forward(self, x):
    h = F.relu(self.conv1(F.relu(x)))
    if self.downsample:
      h, x = F.avg_pool2d(h, 2), F.avg_pool2d(x, 2)
    return self.conv2(h) + self.skip(x)


class SNResNetDiscriminator(nn.Module):
  """jaxsr.models.discriminators.SNResNetDiscriminator."""

  def __init__(self, d, size):
    super().__init__()
    first_pooled = len(d.widths) - d.pooled_blocks
    cins = [3, *d.widths[:-1]]
    self.blocks = nn.Sequential(*[SNBlock(c, w, i >= first_pooled) for i, (c, w) in enumerate(zip(cins, d.widths))])
    side = size // 2 ** d.pooled_blocks
    self.dense = spectral_norm(nn.Linear(d.widths[-1] * side * side, d.dense_features))
    self.out = spectral_norm(nn.Linear(d.dense_features, 1))

  def forward(self, x):
    return self.out(F.relu(self.dense(self.blocks(x).flatten(1))))[:, 0]


class EDSR(nn.Module):
  """jaxsr.models.sr_generators.EDSRGenerator."""

  def __init__(self, g, scale):
    super().__init__()
    f, conv = g.features, lambda cin, cout: nn.Conv2d(cin, cout, 3, padding=1)
    self.scale, self.res_scale, self.half_range, self.bicubic_skip = scale, g.res_scale, g.rgb_range / 2, g.bicubic_skip
    self.head = conv(3, f)
    self.body = nn.ModuleList([nn.Sequential(conv(f, f), nn.ReLU(), conv(f, f)) for _ in range(g.blocks)])
    self.body_end = conv(f, f)
    if g.upsampler == 'single_shuffle':
      self.tail = nn.Sequential(conv(f, 3 * scale ** 2), nn.PixelShuffle(scale))
    else:
      stages = [m for _ in range(int(np.log2(scale))) for m in (conv(f, 4 * f), nn.PixelShuffle(2))]
      self.tail = nn.Sequential(*stages, conv(f, 3))
    self.register_buffer('mean', g.rgb_range * torch.tensor(DIV2K_RGB_MEAN).view(1, 3, 1, 1))

  def forward(self, lr):
    x = skip = self.head((lr + 1) * self.half_range - self.mean)
    for block in self.body:
      x = x + self.res_scale * block(x)
    x = self.tail(skip + self.body_end(x))
    if self.bicubic_skip:
      return F.interpolate(lr, scale_factor=self.scale, mode='bicubic', align_corners=False) + x / self.half_range
    return (x + self.mean) / self.half_range - 1


class PostActBlock(nn.Module):
  """conv3x3, BN, activation, conv3x3, BN, + x: jaxsr.models.layers.ResBlock (SRResNet's, PReLU) and
  PostActResBlock (Bulat et al.'s, ReLU)."""

  def __init__(self, f, activation=nn.ReLU):
    super().__init__()
    self.body = nn.Sequential(nn.Conv2d(f, f, 3, padding=1), nn.BatchNorm2d(f), activation(),
                              nn.Conv2d(f, f, 3, padding=1), nn.BatchNorm2d(f))

  def forward(self, x):
    return x + self.body(x)


class SRResNet(nn.Module):
  """jaxsr.models.sr_generators.SRResNetGenerator."""

  def __init__(self, g, scale):
    super().__init__()
    f = g.features
    self.head = nn.Sequential(nn.Conv2d(3, f, 9, padding=4), nn.PReLU())
    self.body = nn.Sequential(*[PostActBlock(f, nn.PReLU) for _ in range(g.blocks)], nn.Conv2d(f, f, 3, padding=1),
                              nn.BatchNorm2d(f))
    stages = [m for _ in range(int(np.log2(scale))) for m in (nn.Conv2d(f, 4 * f, 3, padding=1), nn.PixelShuffle(2),
                                                             nn.PReLU())]
    self.tail = nn.Sequential(*stages, nn.Conv2d(f, 3, 9, padding=4), nn.Tanh())

  def forward(self, lr):
    x = self.head(lr)
    return self.tail(x + self.body(x))


class BulatHighToLow(nn.Module):
  """jaxsr.models.h2l.BulatHighToLowGenerator, its 'scaled' noise variant (Gen_h2l_0424, the config's default)."""

  def __init__(self, g):
    super().__init__()
    stem_stride, down, up_blocks, noise = BULAT_GENERATORS[g.architecture]
    if noise != 'scaled':
      raise ValueError(f'the peer mirrors gen_h2l_0424 (noise added per channel), not {g.architecture}')
    f = g.features
    self.weight = nn.Parameter(torch.zeros(3))
    layers = [nn.Conv2d(3, f, 3, stem_stride, 1), nn.ReLU()]
    for _ in range(down):
      layers += [PostActBlock(f), PostActBlock(f), nn.BatchNorm2d(f), nn.ReLU(), nn.Conv2d(f, f, 3, 2, 1)]
    for _ in range(2):
      layers += [*[PostActBlock(f) for _ in range(up_blocks)], nn.Conv2d(f, 4 * f, 3, padding=1), nn.PixelShuffle(2),
                 nn.ReLU()]
    self.body = nn.Sequential(*layers, nn.Conv2d(f, 3, 3, padding=1), nn.Tanh())

  def forward(self, hr, z):
    n, _, h, w = hr.shape
    return self.body(hr + self.weight.view(1, 3, 1, 1) * z.view(n, 1, h, w))


class SNGANBlock(nn.Module):
  """jaxsr.models.discriminators.SNGANBlock."""

  def __init__(self, cin, cout, stride, first):
    super().__init__()
    self.conv1 = spectral_norm(nn.Conv2d(cin, cout, 3, padding=1))
    self.conv2 = spectral_norm(nn.Conv2d(cout, cout, 3, padding=1))
    self.first, self.pool = first, first or stride != 1
    self.bypass = spectral_norm(nn.Conv2d(cin, cout, 1)) if self.pool else nn.Identity()

  def forward(self, x):
    h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))
    if not self.pool:
      return h + x
    skip = self.bypass(F.avg_pool2d(x, 2)) if self.first else F.avg_pool2d(self.bypass(x), 2)
    return F.avg_pool2d(h, 2) + skip


class SNGANDiscriminator(nn.Module):
  """jaxsr.models.discriminators.SNGANDiscriminator."""

  def __init__(self, d):
    super().__init__()
    f = d.features
    self.blocks = nn.Sequential(*[SNGANBlock(3 if i == 0 else f, f, s, i == 0) for i, s in enumerate(d.strides)])
    self.fc = spectral_norm(nn.Linear(f, 1))

  def forward(self, x):
    return self.fc(F.relu(self.blocks(x)).mean((2, 3)))[:, 0]


ACTIVATIONS = {'relu': nn.ReLU, 'leaky_relu': lambda: nn.LeakyReLU(0.2)}


class UStage(nn.Sequential):
  """jaxsr.models.unet._Stage."""

  def __init__(self, cin, cout, stride=1, norm=True, shuffle=False, activation='relu'):
    super().__init__(*([nn.BatchNorm2d(cin)] if norm else []), ACTIVATIONS[activation](),
                     nn.Conv2d(cin, cout * (4 if shuffle else 1), 3, stride, 1),
                     *([nn.PixelShuffle(2)] if shuffle else []))


class UEncoder(nn.Module):
  """jaxsr.models.unet.UNetEncoder on 64x64 inputs; `widths` maps each side to its last width."""

  def __init__(self, cin, width, norm, activation):
    super().__init__()
    self.first = nn.Conv2d(cin, width, 3, padding=1)
    stages, self.widths, side, c = [], {64: width}, 64, width
    for units, stride in ENCODER:
      side //= stride
      stages.append(UStage(c, units * width, stride, norm and side > 1, activation=activation))
      c = self.widths[side] = units * width
    self.stages = nn.ModuleList(stages)

  def forward(self, x):
    x = self.first(x)
    features = {x.shape[2]: x}
    for stage in self.stages:
      x = stage(x)
      features[x.shape[2]] = x
    return features


class UNetPeer(nn.Module):
  """jaxsr.models.unet.UNet."""

  def __init__(self, cin, skips, residual, width, activation):
    super().__init__()
    self.encoder, self.skips, self.residual = UEncoder(cin, width, True, activation), skips, residual
    widths, c, decoder = self.encoder.widths, self.encoder.widths[1], []
    for side in (2, 4, 8, 16, 32, 64):
      decoder.append(nn.Sequential(UStage(c, widths[side], norm=side > 2, shuffle=True, activation=activation),
                                   UStage(widths[side], widths[side], norm=side > 2, activation=activation)))
      c = widths[side] * (2 if side in skips else 1)
    self.decoder = nn.ModuleList(decoder)
    self.head = UStage(c, 3, activation=activation)

  def forward(self, x):
    encoded = self.encoder(x)
    y = encoded[1]
    for side, level in zip((2, 4, 8, 16, 32, 64), self.decoder):
      y = level(y)
      if side in self.skips:
        y = torch.cat([y, encoded[side]], 1)
    y = self.head(y)
    return torch.tanh(y + x[:, :3] if self.residual else y)


class UNetHighToLow(nn.Module):
  """jaxsr.models.unet.UNetHighToLow."""

  def __init__(self, config):
    super().__init__()
    self.noise = nn.Linear(config.z_dim, 64 * 64)
    self.unet = UNetPeer(4, H2L_SKIPS, False, config.width, config.activation)

  def forward(self, hr, z):
    return self.unet(torch.cat([hr, self.noise(z).view(-1, 1, 64, 64)], 1))


class UNetDiscriminator(nn.Module):
  """jaxsr.models.unet.UNetDiscriminator."""

  def __init__(self, config):
    super().__init__()
    self.encoder = UEncoder(3, config.width, False, config.activation)
    self.out = nn.Linear(self.encoder.widths[1], 1)

  def forward(self, x):
    return self.out(self.encoder(x)[1].flatten(1))[:, 0]


def high_to_low(config):
  g = config.generator
  return HighToLow(g, config.z_dim, config.image_size) if g.architecture == 'yoon28' else BulatHighToLow(g)


def discriminator(d, size):
  return SNResNetDiscriminator(d, size) if d.architecture == 'yoon28' else SNGANDiscriminator(d)


def adam(module, opt):
  if opt.name != 'adam':
    raise ValueError(f'the peer implements Adam only, not {opt.name}')
  return module, torch.optim.Adam(module.parameters(), lr=opt.learning_rate, betas=(opt.b1, opt.b2))


def paired_networks(config):
  """{'generator'[, 'discriminator']}: a paired method's networks with their optimisers."""
  generators = {'edsr': lambda: EDSR(config.generator, config.scale),
                'srresnet': lambda: SRResNet(config.generator, config.scale),
                'l2h': lambda: LowToHigh(config.generator)}
  nets = {'generator': adam(generators[config.method](), config.generator.optimizer)}
  if config.loss.get('adversarial'):
    nets['discriminator'] = adam(discriminator(config.discriminator, config.image_size),
                                 config.discriminator.optimizer)
  return nets


def h2l_networks(config):
  size = config.image_size
  return {'h2l': adam(high_to_low(config), config.generator.optimizer),
          'd_lr': adam(discriminator(config.discriminator, size // config.scale), config.discriminator.optimizer)}


def joint_networks(config):
  l2h = config.l2h
  return {**h2l_networks(config), 'l2h': adam(LowToHigh(l2h.generator), l2h.generator.optimizer),
          'd_hr': adam(discriminator(l2h.discriminator, config.image_size), l2h.discriminator.optimizer)}


def unet_networks(config):
  nets = {'h2l': adam(UNetHighToLow(config), config.h2l.optimizer),
          'd_lr': adam(UNetDiscriminator(config), config.d_lr.optimizer),
          'l2h': adam(UNetPeer(3, L2H_SKIPS, True, config.width, config.activation), config.l2h.optimizer)}
  if config.hr_discriminator:
    nets['d_hr'] = adam(UNetDiscriminator(config), config.d_hr.optimizer)
  return nets


def hinge_d(real, fake):
  return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def autocast(dtype):
  return torch.autocast(device_type='cuda' if torch.cuda.is_available() else 'cpu', dtype=dtype,
                        enabled=dtype != torch.float32)


def adversarial_update(dtype, g_opt, fake, d, d_opt, real, g_loss):
  """D on (real, fake.detach()) with the hinge loss, then G against the updated D through the same forward pass."""
  with autocast(dtype):
    real_logits, fake_logits = d(torch.cat([real, fake.detach().to(real.dtype)])).float().chunk(2)
    d_loss = hinge_d(real_logits, fake_logits)
  d_opt.zero_grad(set_to_none=True)
  d_loss.backward()
  d_opt.step()
  d.requires_grad_(False)
  with autocast(dtype):
    loss = g_loss(-d(fake).float().mean())
  g_opt.zero_grad(set_to_none=True)
  loss.backward()
  g_opt.step()
  d.requires_grad_(True)
  return loss


def make_paired_step(config, nets, dtype):
  """A paired method's step on float tensors in [-1, 1]: the L1 and MSE terms to HR, against the HR discriminator
  when the config has one (its hinge loss; G against the updated D), Adam, then the moving average."""
  generator, opt = nets['generator']
  if config.loss.get('adversarial') and config.gan_loss != 'hinge':
    raise ValueError(f'the peer implements the hinge GAN loss, not {config.gan_loss}')
  params = list(generator.parameters())
  ema = [p.detach().clone() for p in params] if config.ema_decay else None

  def content(sr, hr):
    return config.loss.l1 * (sr - hr).abs().mean() + config.loss.mse * F.mse_loss(sr, hr)

  def step(lr, hr):
    with autocast(dtype):
      sr = generator(lr).float()
    if 'discriminator' in nets:
      d, d_opt = nets['discriminator']
      loss = adversarial_update(dtype, opt, sr, d, d_opt, hr,
                                lambda adv: content(sr, hr) + config.loss.adversarial * adv)
    else:
      loss = content(sr, hr)
      opt.zero_grad(set_to_none=True)
      loss.backward()
      opt.step()
    if ema is not None:
      with torch.no_grad():
        torch._foreach_lerp_(ema, params, 1.0 - config.ema_decay)
    return loss

  return step


def make_h2l_step(config, nets, dtype):
  """H2L's step: D_LR on real LR vs H2L(hr, z), then H2L against the updated D_LR (alpha MSE to the average-pooled
  HR + beta hinge). Returns (step, the fake LR it made) for the joint step to go on from."""
  (h2l, h2l_opt), (d_lr, d_lr_opt) = nets['h2l'], nets['d_lr']

  def step(hr, real_lr, z):
    with autocast(dtype):
      fake_lr = h2l(hr, z)
    target = F.avg_pool2d(hr, config.scale)
    adversarial_update(dtype, h2l_opt, fake_lr, d_lr, d_lr_opt, real_lr,
                       lambda adv: config.alpha * F.mse_loss(fake_lr.float(), target) + config.beta * adv)
    return fake_lr

  return step


def make_joint_step(config, nets, dtype):
  """The H2L step, then D_HR on HR vs L2H(H2L output), then L2H against the updated D_HR (MSE + hinge)."""
  h2l_step = make_h2l_step(config, nets, dtype)
  (l2h, l2h_opt), (d_hr, d_hr_opt) = nets['l2h'], nets['d_hr']
  mse, adversarial = config.l2h.loss.mse, config.l2h.loss.adversarial

  def step(hr, real_lr, z):
    fake_lr = h2l_step(hr, real_lr, z)
    with autocast(dtype):
      sr = l2h(fake_lr.detach())
    return adversarial_update(dtype, l2h_opt, sr, d_hr, d_hr_opt, hr,
                              lambda adv: mse * F.mse_loss(sr.float(), hr) + adversarial * adv)

  return step


def make_unet_step(config, nets, dtype):
  """jaxsr.methods.unet_degradation's step at 64x64: D_LR on real LR faces bicubic-upsampled vs H2L(hr, z), H2L
  against the updated D_LR (alpha MSE to the HR face's bicubic round trip + beta hinge), then L2H on the fake LR
  (MSE [+ L1 of its 4x average pool to its input's] [+ beta hinge against D_HR, :hr_disc])."""
  (h2l, h2l_opt), (d_lr, d_lr_opt), (l2h, l2h_opt) = nets['h2l'], nets['d_lr'], nets['l2h']
  size, lr_size = config.image_size, config.image_size // config.scale

  def up(x):
    return F.interpolate(x, size=(size, size), mode='bicubic', align_corners=False)

  def l2h_loss(sr, hr, lr_up, adv=0.0):
    loss = config.l2h_alpha * F.mse_loss(sr.float(), hr) + config.l2h_beta * adv
    if config.l2h_lr_l1:
      loss = loss + config.l2h_lr_l1 * (F.avg_pool2d(sr.float(), config.scale) - F.avg_pool2d(lr_up, config.scale)
                                        ).abs().mean()
    return loss

  def step(hr, real_lr, z):
    with autocast(dtype):
      fake_lr = h2l(hr, z)
    target = (up(F.interpolate(hr, size=(lr_size, lr_size), mode='bicubic', antialias=True))
              if config.h2l_target == 'round_trip' else hr)
    adversarial_update(dtype, h2l_opt, fake_lr, d_lr, d_lr_opt, up(real_lr),
                       lambda adv: config.alpha * F.mse_loss(fake_lr.float(), target) + config.beta * adv)
    fake_lr = fake_lr.detach().float()
    with autocast(dtype):
      sr = l2h(fake_lr)
    if 'd_hr' in nets:
      d_hr, d_hr_opt = nets['d_hr']
      return adversarial_update(dtype, l2h_opt, sr, d_hr, d_hr_opt, hr, lambda adv: l2h_loss(sr, hr, fake_lr, adv))
    loss = l2h_loss(sr, hr, fake_lr)
    l2h_opt.zero_grad(set_to_none=True)
    loss.backward()
    l2h_opt.step()
    return loss

  return step


def paired_inputs(config, device):
  n, size = config.batch_size, config.image_size
  lr = torch.rand(n, 3, size // config.scale, size // config.scale, device=device) * 2 - 1
  return lr, torch.rand(n, 3, size, size, device=device) * 2 - 1


def unpaired_inputs(config, device):
  lr, hr = paired_inputs(config, device)
  return hr, lr, torch.randn(config.batch_size, config.z_dim, device=device)


class Peer(NamedTuple):
  networks: Callable  # config -> {name: (module, optimizer)}, named as jaxsr's TrainState.nets
  step: Callable  # (config, networks, dtype) -> step(*inputs)
  inputs: Callable  # (config, device) -> the step's float tensors in [-1, 1]


PEERS = {'edsr': Peer(paired_networks, make_paired_step, paired_inputs),
         'srresnet': Peer(paired_networks, make_paired_step, paired_inputs),
         'l2h': Peer(paired_networks, make_paired_step, paired_inputs),
         'h2l': Peer(h2l_networks, make_h2l_step, unpaired_inputs),
         'degradation_sr': Peer(joint_networks, make_joint_step, unpaired_inputs),
         'unet_degradation': Peer(unet_networks, make_unet_step, unpaired_inputs)}


def time_torch(config, precision, device, compiled):
  """(seconds to the end of the first step, steps/s, parameter counts) of the PyTorch step."""
  torch.manual_seed(0)
  peer = PEERS[config.method]
  nets = peer.networks(config)
  counts = {k: sum(p.numel() for p in m.parameters()) for k, (m, _) in nets.items()}
  nets = {k: ((torch.compile(m) if compiled else m).to(device).train(), opt) for k, (m, opt) in nets.items()}
  step = peer.step(config, nets, {'float32': torch.float32, 'bfloat16': torch.bfloat16}[precision])
  inputs = peer.inputs(config, device)
  sync = torch.cuda.synchronize if device.type == 'cuda' else lambda: None
  t0 = time.perf_counter()
  step(*inputs)
  sync()
  first = time.perf_counter() - t0
  for _ in range(2):
    step(*inputs)
  sync()
  t0 = time.perf_counter()
  for _ in range(_STEPS.value):
    step(*inputs)
  sync()
  return first, _STEPS.value / (time.perf_counter() - t0), counts


def jax_parameter_counts(config):
  method = methods.create(config)
  batch = common.random_batch(method, config)
  shapes = jax.eval_shape(lambda: method.init_networks(jax.random.PRNGKey(0), batch))
  return {k: sum(int(np.prod(x.shape)) for x in jax.tree.leaves(n.params)) for k, n in shapes.items()}


def main(argv):
  del argv
  torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True  # XLA's float32 default
  if _TORCH_THREADS.value:
    torch.set_num_threads(_TORCH_THREADS.value)
  device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
  mesh = parallel.make_mesh()
  where = (f'{jax.device_count()} x {jax.devices()[0].device_kind} (jax {jax.__version__}); torch {torch.__version__} '
           f'on {torch.cuda.get_device_name() if device.type == "cuda" else "cpu"}, {torch.get_num_threads()} threads')
  rows = []
  for precision in _PRECISIONS.value:
    for batch_size in map(int, _BATCH_SIZES.value):
      config = common.load_config(REPO / 'configs', _CONFIG.value)
      config.batch_size, config.precision = batch_size, precision
      ours = jax_parameter_counts(config)
      compile_s, steps_s, _ = common.measure_step(config, mesh, _STEPS.value)
      results = {'jaxsr (jit)': (compile_s, steps_s)}
      for compiled in (False, True)[:1 + _COMPILE.value]:
        first, rate, counts = time_torch(config, precision, device, compiled)
        if counts != ours:
          raise AssertionError(f'parameter counts differ: torch {counts}, jaxsr {ours}')
        results['torch.compile' if compiled else 'torch eager'] = (first, rate)
      for name, (first, rate) in results.items():
        speedup = steps_s / rate
        rows.append(f'| {_CONFIG.value} | {name} | {batch_size} | {precision} | {first:.1f} | {rate * batch_size:.4g} |'
                    f' {speedup:.2f}x |')
        print(rows[-1], flush=True)
  print('parameters per network:', ours)
  common.append_results(Path(_RESULTS.value), where, sys.argv, '| config | implementation | batch | precision | '
                        'compile / first step s | images/s | jaxsr speed-up |', rows)


if __name__ == '__main__':
  app.run(main)
