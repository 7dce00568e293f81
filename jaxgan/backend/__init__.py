"""Workarounds of one platform or one library version, kept apart from the math: the choices
made per platform (:mod:`~jaxgan.backend.platform`), XLA options and jax's private lowering
table (:mod:`~jaxgan.backend.xla_options`) and XLA:CPU's fast transposed convolution
(:mod:`~jaxgan.backend.conv_cpu`). Each says what it is needed for, names the version it was
measured with, and falls back to the plain path where its premise does not hold."""
