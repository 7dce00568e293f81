"""Pixels as the networks see them: uint8 0…255 in the data, floats in [-1, 1] in G and D."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def to_unit_range(images: jax.Array) -> jax.Array:
  """uint8 pixels 0…255 to floats in [-1, 1]; float data (e.g. 2-D toy points) unchanged."""
  if images.dtype != jnp.uint8:
    return images
  return images.astype(jnp.float32) / 127.5 - 1.0
