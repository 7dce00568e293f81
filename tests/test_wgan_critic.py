"""experiments.wgan_critic (Gulrajani et al. 2017, Figure 1) on tiny critics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import wgan_critic as wc


def test_fixed_generator_never_moves_and_clipping_bounds_the_critic_while_gp_trains():
  toy = wc.TOYS["8 Gaussians"]()
  clipped = wc.fixed_generator_gan(toy, wc.clipping(0.01), width=16)
  state = wc.train(clipped, toy, 3)
  assert float(state.g_params["noise_std"]) == 1.0  # set_to_zero: G is held fixed
  z = clipped.latents(jax.random.key(1), 50_000)
  fake = np.asarray(clipped.sample(state.g_params, state.g_state, z))
  # data covariance (≈ r²/2 per axis on the ring, tiny spread) plus the identity
  r = np.linalg.norm(toy.modes[0])
  np.testing.assert_allclose(np.cov(fake.T), np.eye(2) * (1 + r**2 / 2 + toy.std**2), atol=0.05)
  assert max(float(abs(p).max()) for p in jax.tree.leaves(state.d_params)) <= 0.01 + 1e-7
  penalized = wc.fixed_generator_gan(toy, wc.penalty(), width=16)
  before = penalized.init(jax.random.key(0))
  after = wc.train(penalized, toy, 3)
  assert max(float(abs(p).max()) for p in jax.tree.leaves(after.d_params)) > 0.01
  assert not np.allclose(
    wc.value_surface(penalized, before, 8), wc.value_surface(penalized, after, 8)
  )


def test_kantorovich_bound_of_a_translation():
  """P_g = P_r shifted by 3 along x: W₁ = 3, and the 1-Lipschitz critic −x₀ attains it."""
  k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
  real = jax.random.normal(k1, (500, 2))
  fake = jax.random.normal(k2, (500, 2)) + jnp.array([3.0, 0.0])
  bound, w1 = wc.kantorovich_bound(lambda x: -x[:, 0], real, fake, k3)
  assert bound == pytest.approx(float(fake[:, 0].mean() - real[:, 0].mean()), abs=1e-5)
  assert w1 == pytest.approx(3.0, abs=0.25) and w1 >= bound - 0.05
  half, _ = wc.kantorovich_bound(lambda x: -2 * jnp.tanh(x[:, 0] / 2), real, fake, k3)
  assert half < bound  # a saturating critic captures less of the distance


def test_layer_gradient_norms_match_backpropagation_by_hand():
  """‖∂L/∂h_l‖ from flax's perturbations against the chain rule through the ReLU layers."""
  toy = wc.TOYS["Swiss roll"]()
  gan = wc.mlp_gan(wc.clipping(0.1), depth=3, width=8)
  state = gan.init(jax.random.key(0))
  norms = wc.layer_gradient_norms(gan, state, toy, seed=1)
  k_real, k_z = jax.random.split(jax.random.key(1))
  real = np.asarray(toy.sample(k_real, wc.BATCH), np.float64)
  fake = np.asarray(
    gan.sample(state.g_params, state.g_state, gan.latents(k_z, wc.BATCH)), np.float64
  )
  p = jax.tree.map(lambda a: np.asarray(a, np.float64), state.d_params)

  def backprop(x, sign):  # L's gradient w.r.t. each hidden activation, for one batch
    acts, pre = [], []
    for i in range(3):
      z = x @ p[f"Dense_{i}"]["kernel"] + p[f"Dense_{i}"]["bias"]
      pre.append(z), acts.append(np.maximum(z, 0))
      x = acts[-1]
    g = np.tile(sign / len(x) * p["Dense_3"]["kernel"][:, 0], (len(x), 1))
    grads = [g]
    for i in (2, 1):
      g = (g * (pre[i] > 0)) @ p[f"Dense_{i}"]["kernel"].T
      grads.insert(0, g)
    return grads

  by_hand = [
    np.sqrt((a**2).sum() + (b**2).sum()) for a, b in zip(backprop(real, -1), backprop(fake, 1))
  ]
  np.testing.assert_allclose(norms, by_hand, rtol=1e-4)


def test_gulrajani2017_table_and_figure_from_given_surfaces_and_norms(tmp_path):
  """The reproduction's writing step (the training is covered above): a bound of half of W₁
  reads 50.0%, and a norm that doubles per layer toward the input reads 2.00×."""
  from experiments.reproductions import gulrajani2017 as rep

  axis = np.linspace(-wc.RANGE, wc.RANGE, 128)
  x, y = np.meshgrid(axis, axis, indexing="ij")
  pts = np.zeros((4, 2))
  surf = {
    (m, t): (x**2 - y, pts, pts, (0.5, 1.0)) for m in ("clip 0.01", "GP (λ=0.1)") for t in wc.TOYS
  }
  norms = {name: 2.0 ** np.arange(12)[::-1] for name in rep.DEEP_METHODS}
  text = rep.table(surf, norms, rep.BUDGETS["cpu"])
  assert (
    "| 8 Gaussians | 1.000 | 50.0% | 50.0% |" in text
    and "| clip 0.1 | 1 | 2.05e+03 | 2.00× |" in text
  )
  rep.plot(surf, norms, str(tmp_path / "f.png"))
  assert (tmp_path / "f.png").stat().st_size > 10_000
