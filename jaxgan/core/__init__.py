"""The GAN and its pure update: state, steps, losses, penalties, optimizers, precision, and
building a GAN from a :class:`~jaxgan.config.Config` (:mod:`jaxgan.core.build`)."""
