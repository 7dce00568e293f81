"""Workarounds of one platform or one library version, kept apart from the math: XLA options
per platform and XLA:CPU's fast transposed convolution. Each says what it is needed for."""
