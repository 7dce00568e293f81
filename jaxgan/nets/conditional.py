r"""Class-conditional G and D: the three classic ways of giving a GAN the class y.

A conditional generator is ``G(z, train, labels) -> images`` and a conditional discriminator
``D(x, train, labels) -> logits`` (AC-GAN's: ``(logits, class_logits)``); ``labels`` are
int32 classes 0 … K−1, one per example (per pack under PacGAN: (B/m, m)). Each way is a
wrapper around a registered architecture's own networks (:func:`jaxgan.nets.models.build`):

* ``concat`` (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets",
  arXiv:1411.1784): a learned embedding e(y) ∈ ℝᴷ is concatenated to z, G([z, e(y)]), and to
  D's input, D([x, e(y)]): to the flattened input of an MLP D, as K constant channels to
  an image D's.
* ``projection`` (Miyato & Koyama 2018, "cGANs with Projection Discriminator",
  arXiv:1802.05637, eq. 3): D(x, y) = ψ(φ(x)) + ⟨V_y, φ(x)⟩, with φ the architecture's D up to
  its last layer, ψ a linear layer and V a (K × features) table (spectrally normalized
  when D is, as in the paper's SNEmbedID); G normalizes with class-conditional batch norm
  (:class:`jaxgan.nets.models.ConditionalBatchNorm`).
* ``acgan`` (Odena et al. 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs",
  arXiv:1610.09585): G([z, e(y)]) as ``concat``; D is unconditional, D(x) = (ψ(φ(x)),
  C(φ(x))), with C a K-way classifier head whose cross-entropy both players minimize
  (:func:`jaxgan.core.gan.d_objective`).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.nets import models
from jaxgan.nets.models import NormedLayer

CONDITIONALS = ("concat", "projection", "acgan")
_ROWS_INIT = nn.initializers.variance_scaling(1.0, "fan_out", "truncated_normal")


class ConcatGenerator(nn.Module):
  """G(z, y) = net([z, e(y)]): ``net`` is the architecture's G built for latents of
  z_dim + K."""

  net: nn.Module
  num_classes: int

  @nn.compact
  def __call__(self, z, train: bool = True, labels=None):
    e = nn.Embed(self.num_classes, self.num_classes, name="embed")(labels).astype(z.dtype)
    return self.net(jnp.concatenate([z, e], axis=-1), train)


class ConcatDiscriminator(nn.Module):
  """D(x, y) = net([x, e(y)]): on the flattened input (``flat``) or as channels."""

  net: nn.Module
  num_classes: int
  flat: bool

  @nn.compact
  def __call__(self, x, train: bool = True, labels=None):
    e = nn.Embed(self.num_classes, self.num_classes, name="embed")(labels).astype(x.dtype)
    e = e.reshape((x.shape[0], -1))  # a pack's m embeddings side by side, as its samples
    if self.flat:
      return self.net(jnp.concatenate([x.reshape((x.shape[0], -1)), e], axis=-1), train)
    planes = jnp.broadcast_to(e[:, None, None, :], (*x.shape[:-1], e.shape[-1]))
    return self.net(jnp.concatenate([x, planes], axis=-1), train)


class ProjectionDiscriminator(nn.Module):
  """D(x, y) = ψ(φ(x)) + ⟨V_y, φ(x)⟩; ``net`` is φ (the architecture's D with features=0)."""

  net: nn.Module
  num_classes: int
  spectral: bool

  @nn.compact
  def __call__(self, x, train: bool = True, labels=None):
    h = self.net(x, train)
    sn = "spectral" if self.spectral else "none"
    psi = NormedLayer(nn.Dense(1, name="psi"), sn)(h, train)[:, 0]
    # V_y as a bias-free linear map of the one-hot y, so that spectral norm normalizes the
    # (K × features) table itself; each row starts with variance 1/features, as ψ's weights,
    # so that ⟨V_y, φ(x)⟩ starts on ψ(φ(x))'s scale.
    onehot = jax.nn.one_hot(labels, self.num_classes, dtype=h.dtype)
    table = nn.Dense(h.shape[-1], use_bias=False, kernel_init=_ROWS_INIT, name="embed")
    v = NormedLayer(table, sn)(onehot, train)
    return psi + jnp.sum(v * h, axis=-1)


class ACGANDiscriminator(nn.Module):
  """D(x) = (ψ(φ(x)), C(φ(x))): the real/fake logit and K class logits."""

  net: nn.Module
  num_classes: int
  spectral: bool

  @nn.compact
  def __call__(self, x, train: bool = True, labels=None):
    del labels  # AC-GAN's D is not given the class: it predicts it
    h = self.net(x, train)
    sn = "spectral" if self.spectral else "none"
    logits = NormedLayer(nn.Dense(1, name="psi"), sn)(h, train)[:, 0]
    return logits, NormedLayer(nn.Dense(self.num_classes, name="classes"), sn)(h, train)


def build(
  arch: str,
  image_shape,
  conditional: str,
  num_classes: int,
  z_dim: int | None = None,
  axis_name: str | None = None,
  d_norm: str | None = None,
  pack: int = 1,
) -> tuple[nn.Module, nn.Module]:
  """(G, D) of a registered architecture conditioned the ``conditional`` way on
  ``num_classes`` classes; the other arguments as :func:`jaxgan.nets.models.build`'s."""
  spec = models.ARCHS.get(arch)
  if conditional not in spec.conditionals:
    takes = " or ".join(spec.conditionals) or "no conditioning"
    raise ValueError(f"--arch={arch} takes --conditional={takes}, not {conditional}")
  if num_classes < 2:
    raise ValueError(f"a class-conditional GAN needs at least 2 classes, got {num_classes}")
  generator, discriminator = models.build(arch, image_shape, z_dim, axis_name, d_norm, pack=pack)
  z_dim = z_dim or spec.z_dim
  spectral = (spec.d_norm if d_norm is None else d_norm) == "spectral"
  if conditional == "projection":
    trunk = discriminator.clone(features=0)
    return generator.clone(num_classes=num_classes), ProjectionDiscriminator(
      trunk, num_classes, spectral
    )
  wide, _ = models.build(arch, image_shape, z_dim + num_classes, axis_name, d_norm)
  generator = ConcatGenerator(wide, num_classes)
  if conditional == "concat":
    return generator, ConcatDiscriminator(discriminator, num_classes, spec.flat)
  return generator, ACGANDiscriminator(discriminator.clone(features=0), num_classes, spectral)
