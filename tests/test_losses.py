"""Each loss against values computed by hand from its formula, and the mm/ns gradient gap."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import losses

REAL = jnp.array([2.0, -1.0, 0.5])
FAKE = jnp.array([-3.0, 0.0, 1.5])


def sigmoid(v):
  return 1.0 / (1.0 + math.exp(-v))


def mean(xs):
  return sum(xs) / len(xs)


def d_bce_by_hand():
  # −E[log D(x)] − E[log(1 − D(G(z)))]
  return (-mean([math.log(sigmoid(r)) for r in REAL.tolist()])
          - mean([math.log(1 - sigmoid(f)) for f in FAKE.tolist()]))


def test_minimax_matches_formula():
  out = losses.LOSSES.get("mm")(REAL, FAKE)
  np.testing.assert_allclose(out.d, d_bce_by_hand(), rtol=1e-6)
  # G minimizes E[log(1 − D(G(z)))]
  np.testing.assert_allclose(out.g, mean([math.log(1 - sigmoid(f)) for f in FAKE.tolist()]),
                             rtol=1e-6)


def test_non_saturating_matches_formula():
  out = losses.LOSSES.get("ns")(REAL, FAKE)
  np.testing.assert_allclose(out.d, d_bce_by_hand(), rtol=1e-6)
  # G minimizes −E[log D(G(z))]
  np.testing.assert_allclose(out.g, -mean([math.log(sigmoid(f)) for f in FAKE.tolist()]),
                             rtol=1e-6)


def test_exact_values_at_zero_logits():
  # D = 1/2 everywhere: L_D = 2 log 2, mm L_G = −log 2, ns L_G = log 2.
  zeros = jnp.zeros(4)
  mm, ns = losses.minimax(zeros, zeros), losses.non_saturating(zeros, zeros)
  np.testing.assert_allclose([mm.d, mm.g, ns.d, ns.g],
                             [2 * math.log(2), -math.log(2), 2 * math.log(2), math.log(2)],
                             rtol=1e-6)


def test_saturation_when_discriminator_rejects_samples():
  """Where D(G(z)) ≈ 0, mm's generator gradient vanishes and ns's does not (Goodfellow §3)."""
  fake = jnp.full((8,), -10.0)  # D(G(z)) = σ(−10) ≈ 4.5e-5
  real = jnp.zeros(8)
  g_mm = jax.grad(lambda f: losses.minimax(real, f).g)(fake)
  g_ns = jax.grad(lambda f: losses.non_saturating(real, f).g)(fake)
  # d/dl log(1 − σ(l)) = −σ(l);  d/dl −log σ(l) = σ(l) − 1  (per example, /8 for the mean)
  np.testing.assert_allclose(g_mm, -sigmoid(-10.0) / 8, rtol=1e-4)
  np.testing.assert_allclose(g_ns, (sigmoid(-10.0) - 1) / 8, rtol=1e-4)
  assert float(jnp.abs(g_ns).sum()) > 1e4 * float(jnp.abs(g_mm).sum())


def test_losses_are_stable_for_large_logits():
  big = jnp.array([80.0, -80.0])
  for name in losses.LOSSES.names():
    out = losses.LOSSES.get(name)(big, -big)
    assert jnp.isfinite(out.d) and jnp.isfinite(out.g), name


def test_unknown_loss_lists_choices():
  with pytest.raises(KeyError, match="choices: mm, ns"):
    losses.LOSSES.get("nope")
