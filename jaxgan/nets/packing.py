r"""PacGAN's packing (Lin et al. 2018, "PacGAN: The power of two samples in generative
adversarial networks", arXiv:1712.04086, §3): the discriminator judges m samples at once.

With packing degree m, D maps a *pack* (x₁, …, x_m) of m samples, all real or all generated,
to one logit; the loss is the unchanged GAN loss over packs,

    L_D = E[ℓ(D(x₁, …, x_m))] over packs of real samples + E[ℓ'(D(G(z₁), …, G(z_m)))],

so a generator that collapses onto few modes yields packs that look alike, which D sees.
A pack is the m samples concatenated along the last (feature or channel) axis, as the
paper's code concatenates its vectors and images: consecutive examples i·m … i·m + m − 1 of
a batch of B form pack i, and D sees B/m packs of shape (..., m·C).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def pack(x: jax.Array, m: int) -> jax.Array:
  """(B, ..., C) → (B/m, ..., m·C): examples i·m … i·m+m−1 concatenated on the last axis."""
  if m == 1:
    return x
  b = x.shape[0]
  if b % m:
    raise ValueError(f"a batch of {b} cannot be packed {m} at a time (pack must divide it)")
  x = x.reshape((b // m, m, *x.shape[1:]))
  x = jnp.moveaxis(x, 1, -2)  # (B/m, ..., m, C): each position's m samples side by side
  return x.reshape((*x.shape[:-2], m * x.shape[-1]))


def pack_labels(labels: jax.Array, m: int) -> jax.Array:
  """(B,) class labels → (B/m, m): each pack's labels, in the order :func:`pack` lays out its
  samples."""
  return labels if m == 1 else labels.reshape((labels.shape[0] // m, m))


def packed_shape(image_shape: tuple[int, ...], m: int) -> tuple[int, ...]:
  """The shape of one pack of m examples of ``image_shape``."""
  return (*image_shape[:-1], m * image_shape[-1])
