"""Penalties against their closed forms on critics whose input gradients are known."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.core import penalties

KEY = penalties.example_keys(jax.random.key(0), 6)  # one key per example
REAL = jax.random.normal(jax.random.key(1), (6, 4, 3, 2))
FAKE = jax.random.normal(jax.random.key(2), (6, 4, 3, 2))
W = jax.random.normal(jax.random.key(3), (4, 3, 2))


def linear_critic(w):
  return lambda x: jnp.sum(x * w, axis=(1, 2, 3))


@pytest.mark.parametrize("scale", [0.05, 1.0, 3.0])
def test_gradient_penalty_on_linear_critic_is_exact(scale):
  """D(x) = w·x has ∇D = w everywhere: GP = (‖w‖ − 1)²; one-sided: max(0, ‖w‖ − 1)²."""
  w = W / jnp.linalg.norm(W) * scale
  gp = penalties.PENALTIES.get("gp")(linear_critic(w), REAL, FAKE, KEY)
  one = penalties.PENALTIES.get("gp_one_sided")(linear_critic(w), REAL, FAKE, KEY)
  dr = penalties.PENALTIES.get("dragan")(linear_critic(w), REAL, FAKE, KEY)
  np.testing.assert_allclose(gp, (scale - 1) ** 2, rtol=1e-5, atol=1e-10)
  np.testing.assert_allclose(one, max(0.0, scale - 1) ** 2, rtol=1e-5, atol=1e-10)
  np.testing.assert_allclose(dr, (scale - 1) ** 2, rtol=1e-5, atol=1e-10)


def test_interpolation_is_per_example_not_per_pixel():
  x_hat = penalties.interpolate(KEY, REAL, FAKE)
  eps = (x_hat - FAKE) / (REAL - FAKE)  # the coefficient of every pixel
  per_example = eps.reshape(6, -1)
  np.testing.assert_allclose(
    per_example, per_example[:, :1] * jnp.ones_like(per_example), rtol=1e-4, atol=1e-5
  )
  assert float(per_example[:, 0].std()) > 0.05  # different across examples
  assert bool(((per_example >= -1e-5) & (per_example <= 1 + 1e-5)).all())


def test_gradient_penalty_uses_interpolates():
  """A critic D(x) = ½‖x‖² has ∇D(x̂) = x̂: the penalty must equal E(‖x̂‖ − 1)² at x̂."""
  critic = lambda x: 0.5 * jnp.sum(x**2, axis=(1, 2, 3))
  x_hat = penalties.interpolate(KEY, REAL, FAKE)
  expected = jnp.mean((jnp.linalg.norm(x_hat.reshape(6, -1), axis=1) - 1) ** 2)
  np.testing.assert_allclose(
    penalties.gradient_penalty(critic, REAL, FAKE, KEY), expected, rtol=1e-5
  )


def test_r1_and_r2_of_a_quadratic_critic():
  """D(x) = ½ xᵀAx (A symmetric) has ∇D = Ax: R1 = ½ E‖Ax‖² on real, R2 the same on fake."""
  n = 4 * 3 * 2
  m = jax.random.normal(jax.random.key(4), (n, n))
  a = (m + m.T) / 2
  critic = lambda x: (
    0.5 * jnp.einsum("bi,ij,bj->b", x.reshape(x.shape[0], -1), a, x.reshape(x.shape[0], -1))
  )
  closed = lambda x: 0.5 * jnp.mean(jnp.sum((x.reshape(x.shape[0], -1) @ a) ** 2, axis=1))
  np.testing.assert_allclose(penalties.r1_penalty(critic, REAL, FAKE, KEY), closed(REAL), rtol=1e-5)
  np.testing.assert_allclose(penalties.r2_penalty(critic, REAL, FAKE, KEY), closed(FAKE), rtol=1e-5)


def test_penalties_have_finite_gradients_at_zero_input_gradient():
  """At a constant critic ∇D = 0, where ‖·‖ is not differentiable: no NaN reaches D's weights."""
  for name in penalties.PENALTIES.names():
    grad = jax.grad(lambda w: penalties.PENALTIES.get(name)(linear_critic(w), REAL, FAKE, KEY))(
      jnp.zeros_like(W)
    )
    assert bool(jnp.isfinite(grad).all()), name


def test_draws_depend_on_the_example_not_the_batch_split():
  """Example i's interpolation coefficient comes from its own key: computing the batch in
  two halves (as two devices would, with their global offsets) gives the same x̂."""
  key = jax.random.key(5)
  whole = penalties.interpolate(penalties.example_keys(key, 6), REAL, FAKE)
  halves = [
    penalties.interpolate(penalties.example_keys(key, 3, offset), REAL[s], FAKE[s])
    for offset, s in ((0, slice(0, 3)), (3, slice(3, 6)))
  ]
  np.testing.assert_array_equal(whole, jnp.concatenate(halves))
