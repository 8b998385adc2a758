"""srez, David Garcia's TensorFlow face super-resolver (david-gpu/srez: srez_model.py, srez_train.py).

  L_G = 0.1 * CE(D(G(x + n)), 1) + 0.9 * L1(avgpool_4(G(x + n)), x)     n ~ N(0, 0.03^2) on [0, 1] images
  L_D = CE(D(y), 1) + CE(D(G(x + n)), 0)

G and D are updated together from the same parameters, as srez_train.py runs both minimize ops in one
`sess.run`: G's gradient comes from the D the step started with. Adam 2e-4, beta1 0.5, halved every 5k steps.
The original works on [0, 1] images; here they are in [-1, 1], so the noise std doubles (config.input_noise keeps
the original's number; PairedSR.generator_input doubles it) and the L1 weight halves (configs/srez.py).
"""
import functools

from jaxsr.methods.paired_sr import PairedSR
from jaxsr.models import discriminators, layers
from jaxsr.models.sr_generators import SrezGenerator


class Srez(PairedSR):

  simultaneous_update = True

  def make_generator(self):
    return self.network(SrezGenerator, self.config.generator, scale=self.config.scale)

  def make_discriminator(self):
    """srez_model.py `_discriminator_model`: TensorFlow BatchNorm and srez's initialisation (std factor 2)."""
    norm = functools.partial(layers.batch_norm, dtype=self.dtype, momentum=0.999, epsilon=1e-3, use_scale=False)
    return self.network(discriminators.ConvDiscriminator, self.config.discriminator, activation='relu',
                        first_norm=True, head='mean', norm_fn=norm, kernel_init=layers.srez_kernel_init(2.0))


METHODS = {'srez': Srez}
