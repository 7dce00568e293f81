"""Each loss against values computed by hand from its formula, and the mm/ns gradient gap."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.core import losses

REAL = jnp.array([2.0, -1.0, 0.5])
FAKE = jnp.array([-3.0, 0.0, 1.5])


def sigmoid(v):
  return 1.0 / (1.0 + math.exp(-v))


def mean(xs):
  return sum(xs) / len(xs)


def d_bce_by_hand():
  # −E[log D(x)] − E[log(1 − D(G(z)))]
  return -mean([math.log(sigmoid(r)) for r in REAL.tolist()]) - mean(
    [math.log(1 - sigmoid(f)) for f in FAKE.tolist()]
  )


def test_minimax_matches_formula():
  out = losses.LOSSES.get("mm")(REAL, FAKE)
  np.testing.assert_allclose(out.d, d_bce_by_hand(), rtol=1e-6)
  # G minimizes E[log(1 − D(G(z)))]
  np.testing.assert_allclose(
    out.g, mean([math.log(1 - sigmoid(f)) for f in FAKE.tolist()]), rtol=1e-6
  )


def test_non_saturating_matches_formula():
  out = losses.LOSSES.get("ns")(REAL, FAKE)
  np.testing.assert_allclose(out.d, d_bce_by_hand(), rtol=1e-6)
  # G minimizes −E[log D(G(z))]
  np.testing.assert_allclose(out.g, -mean([math.log(sigmoid(f)) for f in FAKE.tolist()]), rtol=1e-6)


def test_exact_values_at_zero_logits():
  # D = 1/2 everywhere: L_D = 2 log 2, mm L_G = −log 2, ns L_G = log 2.
  zeros = jnp.zeros(4)
  mm, ns = losses.minimax(zeros, zeros), losses.non_saturating(zeros, zeros)
  np.testing.assert_allclose(
    [mm.d, mm.g, ns.d, ns.g],
    [2 * math.log(2), -math.log(2), 2 * math.log(2), math.log(2)],
    rtol=1e-6,
  )


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
    fn = losses.LOSSES.get(name)
    out = fn(big, -big, fn.init_state() if fn.stateful else None)
    assert jnp.isfinite(out.d) and jnp.isfinite(out.g), name


def test_unknown_loss_lists_choices():
  with pytest.raises(KeyError, match="choices: mm, ns, wgan"):
    losses.LOSSES.get("nope")


# Hand-computed values for REAL = [2, −1, 0.5], FAKE = [−3, 0, 1.5].
def softplus(v):
  return math.log1p(math.exp(v))


HAND = {
  # E f(G(z)) − E f(x) = (−1.5/3) − (1.5/3) = −1;  −E f(G(z)) = 0.5
  "wgan": (-1.0, 0.5),
  "wgan_gp": (-1.0, 0.5),
  # ½ mean((r−1)²) + ½ mean(f²) = ½(1+4+0.25)/3 + ½(9+0+2.25)/3;  ½ mean((f−1)²) = ½(16+1+0.25)/3
  "lsgan": (0.5 * 5.25 / 3 + 0.5 * 11.25 / 3, 0.5 * 17.25 / 3),
  # mean(relu(1−r)) + mean(relu(1+f)) = (0+2+0.5)/3 + (0+1+2.5)/3;  −mean f = 0.5
  "hinge": (2.5 / 3 + 3.5 / 3, 0.5),
  # −log σ(r−f) = softplus(f−r) over pairs (2,−3), (−1,0), (0.5,1.5)
  "rsgan": (
    mean([softplus(-5), softplus(1), softplus(1)]),
    mean([softplus(5), softplus(-1), softplus(-1)]),
  ),
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_loss_matches_hand_computed(name):
  out = losses.LOSSES.get(name)(REAL, FAKE)
  np.testing.assert_allclose([out.d, out.g], HAND[name], rtol=1e-6)


def test_dragan_uses_the_non_saturating_objective():
  out, ns = losses.LOSSES.get("dragan")(REAL, FAKE), losses.non_saturating(REAL, FAKE)
  np.testing.assert_allclose([out.d, out.g], [ns.d, ns.g])


def test_ragan_matches_formula():
  mr, mf = 1.5 / 3, -1.5 / 3  # E C(x), E C(G(z))
  real_rel = [r - mf for r in REAL.tolist()]
  fake_rel = [f - mr for f in FAKE.tolist()]
  d = mean([softplus(-v) for v in real_rel]) + mean([softplus(v) for v in fake_rel])
  g = mean([softplus(-v) for v in fake_rel]) + mean([softplus(v) for v in real_rel])
  out = losses.LOSSES.get("ragan")(REAL, FAKE)
  np.testing.assert_allclose([out.d, out.g], [d, g], rtol=1e-6)


def test_began_matches_formula_and_updates_k():
  """L_D = E L(x) − k E L(G(z)), L_G = E L(G(z)), k' = clip(k + λ_k(γ E L(x) − E L(G(z))))."""
  began = losses.LOSSES.get("began")
  real_err, fake_err = jnp.array([0.2, 0.4]), jnp.array([0.1, 0.3, 0.2])  # means 0.3, 0.2
  out = began(real_err, fake_err, {"k": jnp.float32(0.25)})
  np.testing.assert_allclose([out.d, out.g], [0.3 - 0.25 * 0.2, 0.2], rtol=1e-6)
  # γ = 0.5, λ_k = 0.001: k' = 0.25 + 0.001 (0.15 − 0.2) = 0.24995
  np.testing.assert_allclose(out.state["k"], 0.25 + 0.001 * (0.5 * 0.3 - 0.2), rtol=1e-6)
  # M = E L(x) + |γ E L(x) − E L(G(z))| = 0.3 + 0.05
  np.testing.assert_allclose(out.metrics["began_M"], 0.35, rtol=1e-6)
  np.testing.assert_allclose(out.metrics["began_k"], 0.25)
  # k starts at 0 and stays in [0, 1].
  assert float(began.init_state()["k"]) == 0.0
  low = began(real_err, jnp.array([5.0]), {"k": jnp.float32(0.001)})
  high = began(jnp.array([50.0]), fake_err, {"k": jnp.float32(0.999)})
  assert float(low.state["k"]) == 0.0 and float(high.state["k"]) == 1.0
  # k is a constant to both players: G's gradient is that of E L(G(z)) alone.
  g = jax.grad(lambda f: began(real_err, f, {"k": jnp.float32(0.5)}).g)(fake_err)
  np.testing.assert_allclose(g, jnp.full(3, 1 / 3), rtol=1e-6)
