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

A loss that keeps state across steps (BEGAN's k_t) is an object with ``init_state()`` and
``__call__(real, fake, state) -> Losses(d, g, new_state, metrics)``; the update carries the
state in ``GANState.loss_state`` and advances it once per G step (see :func:`is_stateful`).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxgan.registry import Registry


class Losses(NamedTuple):
  d: jax.Array  # the discriminator's loss (to minimize)
  g: jax.Array  # the generator's loss (to minimize)
  state: Any = None    # a stateful loss's next state (BEGAN: k_{t+1})
  metrics: Any = None  # extra scalars a loss reports, {name: value}


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


@LOSSES.register("wgan")
def wasserstein(real_logits: jax.Array, fake_logits: jax.Array) -> Losses:
  r"""Wasserstein GAN (Arjovsky et al. 2017, arXiv:1701.07875, eq. 3), D a critic f.

    L_D = E_z[f(G(z))] − E_x[f(x)]
    L_G = −E_z[f(G(z))]

  f must be kept 1-Lipschitz: by weight clipping (``clip``, the paper's c = 0.01) for
  ``wgan``, by the gradient penalty for ``wgan_gp``.
  """
  return Losses(d=fake_logits.mean() - real_logits.mean(), g=-fake_logits.mean())


LOSSES.register("wgan_gp")(wasserstein)  # + the two-sided gradient penalty (penalties.py)


@LOSSES.register("lsgan")
def least_squares(real_logits: jax.Array, fake_logits: jax.Array) -> Losses:
  r"""Least-squares GAN (Mao et al. 2017, arXiv:1611.04076, eq. 2 with a=0, b=c=1).

    L_D = ½ E_x[(D(x) − 1)²] + ½ E_z[D(G(z))²]
    L_G = ½ E_z[(D(G(z)) − 1)²]

  D(·) is the raw (linear) output here, not a probability.
  """
  return Losses(d=0.5 * jnp.mean((real_logits - 1) ** 2) + 0.5 * jnp.mean(fake_logits ** 2),
                g=0.5 * jnp.mean((fake_logits - 1) ** 2))


@LOSSES.register("hinge")
def hinge(real_logits: jax.Array, fake_logits: jax.Array) -> Losses:
  r"""Hinge GAN (Lim & Ye 2017, arXiv:1705.02894; Miyato et al. 2018, arXiv:1802.05957, eq. 17).

    L_D = E_x[max(0, 1 − D(x))] + E_z[max(0, 1 + D(G(z)))]
    L_G = −E_z[D(G(z))]
  """
  return Losses(d=jax.nn.relu(1 - real_logits).mean() + jax.nn.relu(1 + fake_logits).mean(),
                g=-fake_logits.mean())


LOSSES.register("dragan")(non_saturating)  # + DRAGAN's perturbation penalty (penalties.py)


@LOSSES.register("rsgan")
def relativistic(real_logits: jax.Array, fake_logits: jax.Array) -> Losses:
  r"""Relativistic standard GAN (Jolicoeur-Martineau 2018, arXiv:1807.00734, eqs. 9-10).

  With C the critic (logits) and pairs (x_i, G(z_i)) of the batch:

    L_D = −E[log σ(C(x) − C(G(z)))]
    L_G = −E[log σ(C(G(z)) − C(x))]
  """
  return Losses(d=_bce(real_logits - fake_logits, 1.0), g=_bce(fake_logits - real_logits, 1.0))


@LOSSES.register("ragan")
def relativistic_average(real_logits: jax.Array, fake_logits: jax.Array) -> Losses:
  r"""Relativistic average standard GAN (Jolicoeur-Martineau 2018, arXiv:1807.00734, eqs. 13-14).

    D̃(x) = σ(C(x) − E_z C(G(z))),  D̃(G(z)) = σ(C(G(z)) − E_x C(x))
    L_D = −E_x[log D̃(x)] − E_z[log(1 − D̃(G(z)))]
    L_G = −E_z[log D̃(G(z))] − E_x[log(1 − D̃(x))]
  """
  real_rel = real_logits - fake_logits.mean()
  fake_rel = fake_logits - real_logits.mean()
  return Losses(d=_bce(real_rel, 1.0) + _bce(fake_rel, 0.0),
                g=_bce(fake_rel, 1.0) + _bce(real_rel, 0.0))


@dataclasses.dataclass(frozen=True)
class BEGAN:
  r"""Boundary equilibrium GAN (Berthelot et al. 2017, arXiv:1703.10717, eqs. 4-5 and 7).

  D is an autoencoder and its "logits" are per-example reconstruction errors
  L(v) = mean |v − AE(v)| (η = 1; ``models.AutoencoderDiscriminator``). With k_t ∈ [0, 1]
  the equilibrium state (k_0 = 0):

    L_D = E_x[L(x)] − k_t E_z[L(G(z))]
    L_G = E_z[L(G(z))]
    k_{t+1} = clip(k_t + λ_k (γ E_x[L(x)] − E_z[L(G(z))]), 0, 1)
    M = E_x[L(x)] + |γ E_x[L(x)] − E_z[L(G(z))]|   (the convergence measure)

  γ = 0.5 (the diversity ratio) and λ_k = 0.001 as in the paper. The update advances k once
  per G step, from the errors it measures there (real batch and G's fresh samples, under the
  D that G trains against); with ``simultaneous`` that is exactly the paper's step.
  """
  gamma: float = 0.5
  lambda_k: float = 0.001
  autoencoder_discriminator = True  # the model builder gives D an autoencoder

  def init_state(self) -> dict:
    return {"k": jnp.zeros((), jnp.float32)}

  def __call__(self, real_errors: jax.Array, fake_errors: jax.Array, state: dict) -> Losses:
    real, fake = real_errors.mean(), fake_errors.mean()
    k = state["k"]
    balance = self.gamma * real - fake
    new_k = jnp.clip(k + self.lambda_k * jax.lax.stop_gradient(balance), 0.0, 1.0)
    return Losses(d=real - k * fake, g=fake, state={"k": new_k},
                  metrics={"began_k": k, "began_M": real + jnp.abs(balance)})


LOSSES.register("began")(BEGAN())


def is_stateful(loss_fn) -> bool:
  """Whether a loss keeps state across steps (has ``init_state``)."""
  return hasattr(loss_fn, "init_state")


def initial_state(loss_fn):
  """The loss's initial state, or None for a stateless loss."""
  return loss_fn.init_state() if is_stateful(loss_fn) else None


# Training controls that a loss implies unless set otherwise (flags override them).
LOSS_DEFAULTS: dict[str, dict] = {
    "wgan": {"clip": 0.01},                                      # Arjovsky et al. 2017
    "wgan_gp": {"penalty": "gp", "penalty_weight": 10.0},        # Gulrajani et al. 2017
    "dragan": {"penalty": "dragan", "penalty_weight": 10.0},     # Kodali et al. 2017
}
