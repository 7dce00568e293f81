"""jaxgan: functional GANs in JAX/Flax."""

from jaxgan import losses, models, registry, train  # noqa: F401

__version__ = "0.1.0"
