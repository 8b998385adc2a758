"""Low-to-High super-resolution of Bulat, Yang, Tzimiropoulos (ECCV 2018). Its LR inputs come from
config.degradation: 'h2l' makes them with a trained, frozen High-to-Low generator (configs/l2h.py, the paper's
method), 'bicubic' by bicubic downscaling (configs/l2h_bicubic.py, the ablation that shows why the learned
degradation matters); any other method of jaxsr.methods.paired_sr takes either too.

  L_G = alpha * MSE(L2H(sg(lr)), hr) + beta * (-mean D_HR(L2H(sg(lr))))      alpha = 1, beta = 0.05
  L_D = mean(relu(1 - D_HR(hr))) + mean(relu(1 + D_HR(L2H(sg(lr)))))

alpha and beta are config.loss.mse and config.loss.adversarial; adversarial = 0 drops the HR discriminator
(Bulat et al.'s L2H with the pixel loss only; their full model adds it).

Real low-resolution faces have no ground truth, so evaluation adds, on the real LR test faces: LR consistency
(PSNR of the bicubic downscale of each output against its input) and the sliced Wasserstein distance between the
outputs and as many HR test faces (jaxsr.core.metrics), each for L2H and for bicubic upsampling.
"""
import jax

from jaxsr.core import images, metrics
from jaxsr.data import pipeline
from jaxsr.methods import gan
from jaxsr.methods.paired_sr import PairedSR
from jaxsr.models.l2h import LowToHighGenerator


class LowToHigh(PairedSR):
  """L2H and the spectral-norm HR discriminator on pairs made by config.degradation."""

  eval_columns = PairedSR.eval_columns + ('real LR', 'real LR: bicubic', 'real LR: output')

  def make_generator(self):
    return self.network(LowToHighGenerator, self.config.generator, scale=self.config.scale)

  def make_discriminator(self):
    if not self.config.loss.adversarial:
      return None
    return gan.sn_discriminator(self.config.discriminator, self.dtype)

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


# 'l2h_bicubic': the name runs recorded before the ablation became a config of 'l2h' carry.
METHODS = {'l2h': LowToHigh, 'l2h_bicubic': LowToHigh}
