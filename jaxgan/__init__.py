"""jaxgan: functional GANs in JAX/Flax.

The layers, each a subpackage:

* :mod:`jaxgan.core`: the GAN and its pure update (state, steps, losses, penalties, optimizers,
  precision, building a GAN from a config);
* :mod:`jaxgan.nets`: architectures of G and D, PacGAN's packing;
* :mod:`jaxgan.data`: image datasets through TFDS, IDX files, 2-D toys;
* :mod:`jaxgan.eval`: the feature classifier and its metrics (FD, KID, IS, PR, density and
  coverage), the Parzen window, latent interpolation;
* :mod:`jaxgan.run`: the compiled training steps, the training driver, its outputs and
  checkpoints, a saved run read back;
* :mod:`jaxgan.sweeps`: populations of GANs trained by one program, search spaces, sweep specs,
  the sweep runner and its report;
* :mod:`jaxgan.backend`: workarounds of one platform or one library version (XLA options,
  XLA:CPU's transposed convolution).

:mod:`jaxgan.config` declares every setting once; :mod:`jaxgan.registry` and :mod:`jaxgan.io`
are the small pieces they all use.
"""

from jaxgan.config import Config, ConfigError, make_config
from jaxgan.core.build import build_gan
from jaxgan.core.gan import GAN, GANState, UpdateOptions
from jaxgan.core.losses import LOSSES
from jaxgan.core.optimizers import OPTIMIZERS, SCHEDULES
from jaxgan.core.penalties import PENALTIES
from jaxgan.nets.models import ARCHS

__all__ = [
  "ARCHS",
  "GAN",
  "GANState",
  "LOSSES",
  "OPTIMIZERS",
  "PENALTIES",
  "SCHEDULES",
  "Config",
  "ConfigError",
  "UpdateOptions",
  "build_gan",
  "make_config",
]
__version__ = "0.1.0"
