r"""GAN objectives as pure functions of discriminator logits.

Every loss has the signature ``loss(real_logits, fake_logits) -> Losses(d, g)``, where the
logits are D's pre-sigmoid outputs on a batch of real images x and generated images G(z), and
``d`` and ``g`` are the scalars that D and G *minimize*. The update computes the D term in the
D step and the G term in the G step (with the updated D); XLA drops whatever half is unused.
Notation: D(x) = σ(l(x)) with σ the logistic sigmoid, so log D = log σ(l) = −softplus(−l) and
log(1 − D) = log σ(−l) = −softplus(l); all losses are computed in that stable form.

The registry ``LOSSES`` holds a :class:`LossSpec` per name: the function and the facts the
rest of the library needs about it (whether it keeps state, whether D must be an autoencoder,
which training controls it implies). Adding a loss is one function here, one registration and
one test in ``tests/test_losses.py``::

    LOSSES.register("name")(LossSpec(name))

A loss that keeps state across steps (BEGAN's k_t) is registered with ``init_state`` and is
called as ``fn(real, fake, state) -> Losses(d, g, new_state, metrics)``; the update carries
the state in ``GANState.loss_state`` and advances it once per G step.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxgan.registry import Registry


class Losses(NamedTuple):
  d: jax.Array  # the discriminator's loss (to minimize)
  g: jax.Array  # the generator's loss (to minimize)
  state: Any = None  # a stateful loss's next state (BEGAN: k_{t+1})
  metrics: Any = None  # extra scalars a loss reports, {name: value}


LossFn = Callable[[jax.Array, jax.Array], Losses]


@dataclasses.dataclass(frozen=True)
class LossSpec:
  """A registered GAN objective and what it asks of the rest of the GAN.

  fn: ``fn(real_logits, fake_logits) -> Losses``, or with ``init_state`` also the state:
    ``fn(real, fake, state) -> Losses(d, g, new_state, metrics)``.
  init_state: makes the loss's initial state (BEGAN's k_0); None for a stateless loss.
  needs_autoencoder: D must be an autoencoder whose "logits" are reconstruction errors.
  implies: the training controls the loss's paper prescribes (config field -> value); a
    configuration takes them unless it sets the field itself.
  params: the loss's own hyperparameters, fields of ``fn`` (a dataclass); the config sets
    them as ``<loss>_<param>`` (``began_gamma``), and :meth:`with_params` replaces them.
  """

  fn: Callable[..., Losses]
  init_state: Callable[[], Any] | None = None
  needs_autoencoder: bool = False
  implies: Mapping[str, Any] = dataclasses.field(default_factory=lambda: types.MappingProxyType({}))
  params: tuple[str, ...] = ()

  def with_params(self, **params) -> LossSpec:
    """The same loss with other values of its hyperparameters (floats, or per-member tracers
    inside ``jax.vmap``)."""
    if not params:
      return self
    fn = dataclasses.replace(self.fn, **params)
    return dataclasses.replace(self, fn=fn, init_state=fn.init_state if self.stateful else None)

  @property
  def stateful(self) -> bool:
    return self.init_state is not None

  def __call__(self, real_logits, fake_logits, state=None) -> Losses:
    """The losses of a batch; ``state`` is the loss's state when it keeps one."""
    if self.stateful:
      return self.fn(real_logits, fake_logits, state)
    return self.fn(real_logits, fake_logits)


def _implies(**controls) -> Mapping[str, Any]:
  return types.MappingProxyType(controls)


LOSSES: Registry[LossSpec] = Registry("loss")


def _bce(logits: jax.Array, label: float) -> jax.Array:
  """Mean binary cross-entropy −[y log σ(l) + (1−y) log(1−σ(l))] over the batch."""
  return optax.losses.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, label)).mean()


def _discriminator_bce(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  r"""L_D = −E_x[log D(x)] − E_z[log(1 − D(G(z)))]  (Goodfellow et al. 2014, eq. 1)."""
  return _bce(real_logits, 1.0) + _bce(fake_logits, 0.0)


def minimax(real_logits: jax.Array, fake_logits: jax.Array) -> Losses:
  r"""The minimax GAN (Goodfellow et al. 2014, arXiv:1406.2661, eq. 1).

    L_D = −E_x[log D(x)] − E_z[log(1 − D(G(z)))]
    L_G =  E_z[log(1 − D(G(z)))]

  G minimizes log(1 − D(G(z))), the zero-sum game. Its gradient vanishes when D confidently
  rejects the samples (D(G(z)) → 0): dL_G/dl = −σ(l) → 0 as the fake logit l → −∞.
  """
  return Losses(d=_discriminator_bce(real_logits, fake_logits), g=-_bce(fake_logits, 0.0))


def non_saturating(real_logits: jax.Array, fake_logits: jax.Array) -> Losses:
  r"""The non-saturating GAN (Goodfellow et al. 2014, arXiv:1406.2661, section 3).

    L_D = −E_x[log D(x)] − E_z[log(1 − D(G(z)))]
    L_G = −E_z[log D(G(z))]

  G maximizes log D(G(z)) instead of minimizing log(1 − D(G(z))): same fixed point, but
  dL_G/dl = σ(l) − 1 → −1 as l → −∞, so G still learns when D rejects its samples.
  """
  return Losses(d=_discriminator_bce(real_logits, fake_logits), g=_bce(fake_logits, 1.0))


def wasserstein(real_logits: jax.Array, fake_logits: jax.Array) -> Losses:
  r"""Wasserstein GAN (Arjovsky et al. 2017, arXiv:1701.07875, eq. 3), D a critic f.

    L_D = E_z[f(G(z))] − E_x[f(x)]
    L_G = −E_z[f(G(z))]

  f must be kept 1-Lipschitz: by weight clipping (``clip``, the paper's c = 0.01) for
  ``wgan``, by the gradient penalty for ``wgan_gp``.
  """
  return Losses(d=fake_logits.mean() - real_logits.mean(), g=-fake_logits.mean())


def least_squares(real_logits: jax.Array, fake_logits: jax.Array) -> Losses:
  r"""Least-squares GAN (Mao et al. 2017, arXiv:1611.04076, eq. 2 with a=0, b=c=1).

    L_D = ½ E_x[(D(x) − 1)²] + ½ E_z[D(G(z))²]
    L_G = ½ E_z[(D(G(z)) − 1)²]

  D(·) is the raw (linear) output here, not a probability.
  """
  return Losses(
    d=0.5 * jnp.mean((real_logits - 1) ** 2) + 0.5 * jnp.mean(fake_logits**2),
    g=0.5 * jnp.mean((fake_logits - 1) ** 2),
  )


def hinge(real_logits: jax.Array, fake_logits: jax.Array) -> Losses:
  r"""Hinge GAN (Lim & Ye 2017, arXiv:1705.02894; Miyato et al. 2018, arXiv:1802.05957, eq. 17).

  L_D = E_x[max(0, 1 − D(x))] + E_z[max(0, 1 + D(G(z)))]
  L_G = −E_z[D(G(z))]
  """
  return Losses(
    d=jax.nn.relu(1 - real_logits).mean() + jax.nn.relu(1 + fake_logits).mean(),
    g=-fake_logits.mean(),
  )


def relativistic(real_logits: jax.Array, fake_logits: jax.Array) -> Losses:
  r"""Relativistic standard GAN (Jolicoeur-Martineau 2018, arXiv:1807.00734, eqs. 9-10).

  With C the critic (logits) and pairs (x_i, G(z_i)) of the batch:

    L_D = −E[log σ(C(x) − C(G(z)))]
    L_G = −E[log σ(C(G(z)) − C(x))]
  """
  return Losses(d=_bce(real_logits - fake_logits, 1.0), g=_bce(fake_logits - real_logits, 1.0))


def relativistic_average(real_logits: jax.Array, fake_logits: jax.Array) -> Losses:
  r"""Relativistic average standard GAN (Jolicoeur-Martineau 2018, arXiv:1807.00734, eqs. 13-14).

  D̃(x) = σ(C(x) − E_z C(G(z))),  D̃(G(z)) = σ(C(G(z)) − E_x C(x))
  L_D = −E_x[log D̃(x)] − E_z[log(1 − D̃(G(z)))]
  L_G = −E_z[log D̃(G(z))] − E_x[log(1 − D̃(x))]
  """
  real_rel = real_logits - fake_logits.mean()
  fake_rel = fake_logits - real_logits.mean()
  return Losses(
    d=_bce(real_rel, 1.0) + _bce(fake_rel, 0.0), g=_bce(fake_rel, 1.0) + _bce(real_rel, 0.0)
  )


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

  def init_state(self) -> dict:
    return {"k": jnp.zeros((), jnp.float32)}

  def __call__(self, real_errors: jax.Array, fake_errors: jax.Array, state: dict) -> Losses:
    real, fake = real_errors.mean(), fake_errors.mean()
    k = state["k"]
    balance = self.gamma * real - fake
    new_k = jnp.clip(k + self.lambda_k * jax.lax.stop_gradient(balance), 0.0, 1.0)
    return Losses(
      d=real - k * fake,
      g=fake,
      state={"k": new_k},
      metrics={"began_k": k, "began_M": real + jnp.abs(balance)},
    )


# The registry. Implied controls: Arjovsky et al. 2017 clip at 0.01; Gulrajani et al. 2017 and
# Kodali et al. 2017 weight their penalties with λ = 10.
_BEGAN = BEGAN()
LOSSES.register("mm")(LossSpec(minimax))
LOSSES.register("ns")(LossSpec(non_saturating))
LOSSES.register("wgan")(LossSpec(wasserstein, implies=_implies(clip=0.01)))
LOSSES.register("wgan_gp")(
  LossSpec(wasserstein, implies=_implies(penalty="gp", penalty_weight=10.0))
)
LOSSES.register("lsgan")(LossSpec(least_squares))
LOSSES.register("hinge")(LossSpec(hinge))
LOSSES.register("dragan")(
  LossSpec(non_saturating, implies=_implies(penalty="dragan", penalty_weight=10.0))
)
LOSSES.register("rsgan")(LossSpec(relativistic))
LOSSES.register("ragan")(LossSpec(relativistic_average))
LOSSES.register("began")(
  LossSpec(
    _BEGAN, init_state=_BEGAN.init_state, needs_autoencoder=True, params=("gamma", "lambda_k")
  )
)
