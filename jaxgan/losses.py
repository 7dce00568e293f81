r"""GAN objectives as pure functions of discriminator logits.

Every loss has the signature ``loss(real_logits, fake_logits) -> Losses(d, g)``, where the
logits are D's pre-sigmoid outputs on a batch of real images x and generated images G(z), and
``d`` and ``g`` are the scalars that D and G *minimize*. The update computes the D term in the
D step and the G term in the G step (with the updated D); XLA drops whatever half is unused.
Notation: D(x) = σ(l(x)) with σ the logistic sigmoid, so log D = log σ(l) = −softplus(−l) and
log(1 − D) = log σ(−l) = −softplus(l); all losses are computed in that stable form.

Adding a loss is one function here plus one test in ``tests/test_losses.py``::

    @LOSSES.register("name")
    def name(real_logits, fake_logits) -> Losses: ...
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxgan.registry import Registry


class Losses(NamedTuple):
  d: jax.Array  # the discriminator's loss (to minimize)
  g: jax.Array  # the generator's loss (to minimize)


LossFn = Callable[[jax.Array, jax.Array], Losses]
LOSSES: Registry[LossFn] = Registry("loss")


def _bce(logits: jax.Array, label: float) -> jax.Array:
  """Mean binary cross-entropy −[y log σ(l) + (1−y) log(1−σ(l))] over the batch."""
  return optax.losses.sigmoid_binary_cross_entropy(
      logits, jnp.full_like(logits, label)).mean()


def _discriminator_bce(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  r"""L_D = −E_x[log D(x)] − E_z[log(1 − D(G(z)))]  (Goodfellow et al. 2014, eq. 1)."""
  return _bce(real_logits, 1.0) + _bce(fake_logits, 0.0)


@LOSSES.register("mm")
def minimax(real_logits: jax.Array, fake_logits: jax.Array) -> Losses:
  r"""The minimax GAN (Goodfellow et al. 2014, arXiv:1406.2661, eq. 1).

    L_D = −E_x[log D(x)] − E_z[log(1 − D(G(z)))]
    L_G =  E_z[log(1 − D(G(z)))]

  G minimizes log(1 − D(G(z))), the zero-sum game. Its gradient vanishes when D confidently
  rejects the samples (D(G(z)) → 0): dL_G/dl = −σ(l) → 0 as the fake logit l → −∞.
  """
  return Losses(d=_discriminator_bce(real_logits, fake_logits),
                g=-_bce(fake_logits, 0.0))


@LOSSES.register("ns")
def non_saturating(real_logits: jax.Array, fake_logits: jax.Array) -> Losses:
  r"""The non-saturating GAN (Goodfellow et al. 2014, arXiv:1406.2661, section 3).

    L_D = −E_x[log D(x)] − E_z[log(1 − D(G(z)))]
    L_G = −E_z[log D(G(z))]

  G maximizes log D(G(z)) instead of minimizing log(1 − D(G(z))): same fixed point, but
  dL_G/dl = σ(l) − 1 → −1 as l → −∞, so G still learns when D rejects its samples.
  """
  return Losses(d=_discriminator_bce(real_logits, fake_logits),
                g=_bce(fake_logits, 1.0))
