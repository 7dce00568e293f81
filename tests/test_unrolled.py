"""The Unrolled GAN (Metz et al. 2017): G's gradient through k unrolled D steps, checked by
finite differences on the Dirac-GAN, and the plain update when the unrolled steps are void."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import dirac
from jaxgan.core import optimizers
from jaxgan.core.gan import UpdateOptions


def softplus(x):
  return np.logaddexp(0.0, x)


def sigmoid(x):
  return 1.0 / (1.0 + np.exp(-x))


def surrogate_g_loss(theta, psi, h, k):
  """NS-GAN on the Dirac-GAN (real data δ_0, so D's real logit is 0): D descends
  softplus(ψθ) + log 2, whose ψ-gradient is σ(ψθ)θ; after k such steps with G at θ, G's loss
  is softplus(−ψ_k θ) (Metz et al.'s f_K)."""
  for _ in range(k):
    psi = psi - h * sigmoid(psi * theta) * theta
  return softplus(-psi * theta)


def one_update(unroll, theta=0.5, psi=0.3, d_lr=dirac.LR):
  gan = dirac.dirac_gan("ns", UpdateOptions(unroll=unroll))
  gan = dataclasses.replace(gan, d_tx=optimizers.sgd(d_lr))
  state = gan.init(jax.random.key(0))
  state = state.replace(
    g_params={"theta": jnp.float32(theta)}, d_params={"psi": jnp.float32(psi)},
    d_opt_state=gan.d_tx.init({"psi": jnp.float32(psi)}),
  )  # fmt: skip
  new, _ = gan.update(state, jnp.zeros((dirac.BATCH, 1)), jax.random.key(1))
  return float(new.g_params["theta"]), float(new.d_params["psi"])


@pytest.mark.parametrize("k", [1, 3])
def test_g_gradient_equals_a_finite_difference_through_the_unrolled_steps(k):
  h, theta, psi = dirac.LR, 0.5, 0.3
  new_theta, new_psi = one_update(k, theta, psi)
  psi_after_d_step = psi - h * sigmoid(psi * theta) * theta  # D's own, normal step
  assert new_psi == pytest.approx(psi_after_d_step, rel=1e-6)  # unrolling leaves D's step alone
  eps = 1e-5
  fd = (
    surrogate_g_loss(theta + eps, psi_after_d_step, h, k)
    - surrogate_g_loss(theta - eps, psi_after_d_step, h, k)
  ) / (2 * eps)
  g_gradient = (theta - new_theta) / h  # SGD: θ' = θ − h ∇
  assert g_gradient == pytest.approx(fd, rel=1e-4)
  plain = (theta - one_update(0, theta, psi)[0]) / h
  assert abs(g_gradient - plain) > 1e-3  # the unrolled steps matter here


def test_no_unrolling_and_void_unrolled_steps_give_the_plain_update():
  assert one_update(0) == one_update(0)
  assert UpdateOptions(unroll=0) == UpdateOptions()
  # with D's step size 0 the unrolled D is D itself: G's step is the plain one
  assert one_update(2, d_lr=0.0)[0] == pytest.approx(one_update(0, d_lr=0.0)[0], abs=1e-7)
  with pytest.raises(ValueError, match="unroll"):
    UpdateOptions(unroll=-1)
