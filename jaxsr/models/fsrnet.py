"""FSRNet (Chen, Tai, Liu, Shen, Yang: "FSRNet: End-to-End Learning Face Super-Resolution with Facial Priors",
CVPR 2018; the baseline of Bulat et al., ECCV 2018): LR (N, h, w, 3) -> coarse SR, fine SR and landmark heatmaps.

  coarse SR net: bicubic x scale, conv3x3, `coarse_blocks` residual blocks, conv3x3 3        -> y_c (H x W)
  fine SR encoder: conv3x3 stride 2 on y_c, `encoder_blocks` residual blocks, conv3x3       -> f (H/2)
  prior estimation net: conv7x7 stride 2 on y_c, `prior_blocks` residual blocks, `hourglasses` stacked
      hourglasses, each followed by a block and conv1x1; a conv1x1 head gives each stack's landmark heatmaps
  fine SR decoder: concat(f, prior features), conv3x3, deconv4x4 stride 2, `decoder_blocks` blocks, conv3x3 3 -> y_f

Every residual block is the hourglass bottleneck. The decoder reads the last hourglass's features (the maps its
heatmaps are a 1x1 conv of), so it does not depend on how many landmarks a dataset annotates; parsing maps, which
the paper also predicts, would be more channels of the same head and need a dataset that has them.
"""
import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxsr.models import layers


class FSRNetGenerator(nn.Module):
  scale: int = 4
  features: int = 64
  prior_features: int = 128
  coarse_blocks: int = 3
  encoder_blocks: int = 12
  prior_blocks: int = 3
  hourglasses: int = 2
  hourglass_depth: int = 4
  decoder_blocks: int = 3
  landmarks: int = 5
  dtype: layers.Dtype = jnp.float32

  @nn.compact
  def __call__(self, lr, train):
    """Returns {'coarse', 'sr' (the fine output): (N, H, W, 3) in [-1, 1] (unbounded), 'heatmaps': (stacks, N,
    H/2, W/2, L)}."""
    n, h, w, c = lr.shape
    if (h * self.scale // 2) % 2 ** self.hourglass_depth:
      raise ValueError(f'config.generator.hourglass_depth: priors are {h * self.scale // 2} px, which '
                       f'{self.hourglass_depth} halvings do not divide')
    conv = lambda f, k, s=1: nn.Conv(f, (k, k), (s, s), dtype=self.dtype)  # noqa: E731
    norm_relu = lambda x: nn.relu(layers.batch_norm(train, self.dtype)(x))  # noqa: E731

    def blocks(x, count, features):
      for _ in range(count):
        x = layers.BottleneckBlock(features, self.dtype)(x, train)
      return x

    upsampled = jax.image.resize(lr, (n, h * self.scale, w * self.scale, c), 'bicubic').astype(self.dtype)
    # The blocks are pre-activation, so a branch's last conv follows a BN + ReLU of their sum.
    coarse = conv(self.features, 3)(upsampled)
    coarse = conv(3, 3)(norm_relu(blocks(coarse, self.coarse_blocks, self.features)))

    encoded = conv(self.features, 3, 2)(coarse)
    encoded = conv(self.features, 3)(norm_relu(blocks(encoded, self.encoder_blocks, self.features)))

    x = blocks(norm_relu(conv(self.prior_features, 7, 2)(coarse)), self.prior_blocks, self.prior_features)
    heatmaps = []
    for stack in range(self.hourglasses):
      features = layers.Hourglass(self.prior_features, self.hourglass_depth, self.dtype)(x, train)
      features = norm_relu(conv(self.prior_features, 1)(blocks(features, 1, self.prior_features)))
      heatmaps.append(conv(self.landmarks, 1)(features))
      if stack + 1 < self.hourglasses:  # the next stack refines this one's estimate (Newell et al. 2016)
        x = x + conv(self.prior_features, 1)(features) + conv(self.prior_features, 1)(heatmaps[-1])

    x = norm_relu(conv(self.features, 3)(jnp.concatenate([encoded, features], axis=-1)))
    x = nn.ConvTranspose(self.features, (4, 4), (2, 2), dtype=self.dtype)(x)
    fine = conv(3, 3)(norm_relu(blocks(norm_relu(x), self.decoder_blocks, self.features)))
    return {'coarse': coarse.astype(jnp.float32), 'sr': fine.astype(jnp.float32),
            'heatmaps': jnp.stack(heatmaps).astype(jnp.float32)}
