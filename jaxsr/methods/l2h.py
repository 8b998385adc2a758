"""Low-to-High super-resolution of Bulat, Yang, Tzimiropoulos (ECCV 2018), trained on pairs whose
LR side comes from a learned degradation (`LowToHigh`: a trained, frozen High-to-Low network) or from bicubic
downscaling (`LowToHighBicubic`: the ablation that shows why the learned degradation matters).

  L_G = alpha * MSE(L2H(sg(lr)), hr) + beta * (-mean D_HR(L2H(sg(lr))))      alpha = 1, beta = 0.05
  L_D = mean(relu(1 - D_HR(hr))) + mean(relu(1 + D_HR(L2H(sg(lr)))))

alpha and beta are config.loss.mse and config.loss.adversarial; adversarial = 0 drops the HR discriminator
(Bulat et al.'s L2H with the pixel loss only; their full model adds it).

Real low-resolution faces have no ground truth, so evaluation adds, on the real LR test faces: LR consistency
(PSNR of the bicubic downscale of each output against its input) and the sliced Wasserstein distance between the
outputs and as many HR test faces (jaxsr/metrics.py), each for L2H and for bicubic upsampling.
"""
import json
from pathlib import Path

import jax
import ml_collections

from jaxsr import checkpointing, images, metrics
from jaxsr.data import pipeline
from jaxsr.methods.h2l import HighToLow
from jaxsr.methods.paired_sr import PairedSR
from jaxsr.models.discriminators import SNResNetDiscriminator
from jaxsr.models.l2h import LowToHighGenerator


class LowToHighBicubic(PairedSR):
  """L2H and the spectral-norm HR discriminator on pairs made by config.degradation (bicubic)."""

  eval_columns = PairedSR.eval_columns + ('real LR', 'real LR: bicubic', 'real LR: output')

  def make_generator(self):
    g = self.config.generator
    return LowToHighGenerator(self.config.scale, tuple(g.widths), tuple(g.blocks), g.head_features, self.dtype)

  def make_discriminator(self):
    if not self.config.loss.adversarial:
      return None
    d = self.config.discriminator
    return SNResNetDiscriminator(tuple(d.widths), d.pooled_blocks, d.dense_features, self.dtype)

  def eval_data(self, data_dir):
    c = self.config
    batch = super().eval_data(data_dir)
    real = pipeline.first_examples(pipeline.data_source(c.lr_dataset, 'test', data_dir), c.eval_size,
                                   [c.lr_feature])[c.lr_feature]
    n = min(len(real), len(batch['hr']))  # the SWD compares equal-sized sets
    return {**{k: v[:n] for k, v in batch.items()}, 'real_lr': real[:n]}

  def evaluate(self, state, batch, rng):
    outputs, scalars = super().evaluate(state, batch, rng)
    real_lr, hr = images.to_float(batch['real_lr']), images.to_float(batch['hr'])
    size = hr.shape[1]
    candidates = {'output': metrics.quantize(self.upscale(state, real_lr)),
                  'bicubic': metrics.quantize(metrics.bicubic_resize(real_lr, size))}
    for name, sr in candidates.items():
      scalars[f'real_lr/lr_consistency/{name}'] = metrics.lr_consistency(sr, real_lr)
      scalars[f'real_lr/swd/{name}'] = metrics.swd(sr, hr, jax.random.PRNGKey(0))[0]
    return {**outputs, 'real LR': real_lr, 'real LR: bicubic': candidates['bicubic'],
            'real LR: output': candidates['output']}, scalars


class LowToHigh(LowToHighBicubic):
  """L2H trained on LR faces made on the fly by the frozen H2L generator of the run in config.h2l_workdir."""

  def __init__(self, config):
    super().__init__(config)
    run = Path(config.h2l_workdir or '').expanduser()
    if not config.h2l_workdir or not (run / 'config.json').is_file():
      raise FileNotFoundError(f'config.h2l_workdir: {config.h2l_workdir!r} is not an H2L run directory (no '
                              f'config.json); train one first: python -m jaxsr.main --config=configs/h2l.py '
                              f'--workdir=runs/h2l')
    h2l_config = ml_collections.ConfigDict(json.loads((run / 'config.json').read_text()))
    if h2l_config.get('method') != 'h2l':
      raise ValueError(f"config.h2l_workdir: {run} is a '{h2l_config.get('method')}' run, not an h2l one")
    h2l_config.precision = config.precision
    self.h2l = HighToLow(h2l_config)

  def train_data(self, data_dir):
    c = self.config
    return pipeline.shuffled(pipeline.data_source(c.dataset, 'train', data_dir), c.hr_feature, 'hr', c.seed)

  def load_pretrained(self, state):
    """The H2L generator's newest weights (and BatchNorm statistics), frozen."""
    state = super().load_pretrained(state)
    size = self.config.image_size
    hr, z = jax.ShapeDtypeStruct((1, size, size, 3), 'float32'), jax.ShapeDtypeStruct((1, self.h2l.config.z_dim),
                                                                                          'float32')
    shapes = jax.eval_shape(lambda hr, z: self.h2l.generator.init(jax.random.key(0), hr, z, train=False), hr, z)
    expected = {'params': shapes['params'], 'state': {k: v for k, v in shapes.items() if k != 'params'}}
    params, h2l_state = checkpointing.load_network(self.config.h2l_workdir, 'h2l', expected, 'h2l_workdir')
    return state.replace(frozen={**state.frozen, 'h2l': {'params': params, **h2l_state}})

  def training_pair(self, state, batch, rng):
    """HR faces and their degradation by the frozen H2L (inference mode: BatchNorm running statistics)."""
    hr = images.to_float(batch['hr'])
    lr = self.h2l.generator.apply(state.frozen['h2l'], hr, self.h2l.noise(rng, hr), train=False)
    return hr, jax.lax.stop_gradient(lr)
