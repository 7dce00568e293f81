"""Many GANs at once: populations trained by one program, search spaces, sweep specs, the
runner and its report."""
