"""Training controls of the update: clipping, D steps per G step, EMA, simultaneous steps,
penalties inside the update, separate learning rates."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.core import optimizers
from jaxgan.core.gan import UpdateOptions
from jaxgan.data import pixels
from jaxgan.nets import models

from helpers import SHAPE, assert_trees_close, fake_data, small_gan, small_mlp

IMAGES = pixels.to_unit_range(fake_data(16))


def build(options, loss="ns", g_lr=1e-3, d_lr=1e-3):
  gan = small_gan(small_mlp(), optimizers.adam(g_lr), loss, options, d_tx=optimizers.adam(d_lr))
  return gan.init(jax.random.key(0)), jax.jit(gan.update)


def test_weights_stay_within_the_clip():
  state, update = build(UpdateOptions(clip=0.01), loss="wgan", d_lr=0.1)
  for i in range(3):
    state, _ = update(state, IMAGES, jax.random.key(i))
  leaves = jax.tree.leaves(state.d_params)
  assert max(float(jnp.abs(p).max()) for p in leaves) <= 0.01
  assert any(float(jnp.abs(p).max()) == pytest.approx(0.01) for p in leaves)  # it did clip


def test_n_disc_takes_that_many_d_steps_on_their_own_batches():
  state, update = build(UpdateOptions(n_disc=3))
  batches = jnp.stack([IMAGES, IMAGES[::-1], -IMAGES])
  new, metrics = update(state, batches, jax.random.key(0))
  assert int(new.d_opt_state.count) == 3 and int(new.g_opt_state.count) == 1
  assert int(new.step) == 1
  with pytest.raises(ValueError, match="leading axis"):
    update(state, jnp.stack([IMAGES] * 2), jax.random.key(0))


def test_ema_of_generator_weights():
  decay = 0.9
  state, update = build(UpdateOptions(ema_decay=decay))
  new, _ = update(state, IMAGES, jax.random.key(0))
  expected = jax.tree.map(lambda old, p: decay * old + (1 - decay) * p, state.g_ema, new.g_params)
  assert_trees_close(new.g_ema, expected)
  assert not np.allclose(new.g_ema["Dense_0"]["kernel"], new.g_params["Dense_0"]["kernel"])


def test_simultaneous_g_step_sees_the_old_discriminator():
  """Simultaneous G step = the alternating G step against a D that did not move (D lr 0)."""
  sim_state, sim = build(UpdateOptions(simultaneous=True), d_lr=1e-2)
  frozen_state, frozen = build(UpdateOptions(), d_lr=0.0)
  alt_state, alt = build(UpdateOptions(), d_lr=1e-2)
  key = jax.random.key(0)
  g_sim = sim(sim_state, IMAGES, key)[0].g_params
  assert_trees_close(g_sim, frozen(frozen_state, IMAGES, key)[0].g_params)
  assert not np.allclose(
    g_sim["Dense_0"]["kernel"], alt(alt_state, IMAGES, key)[0].g_params["Dense_0"]["kernel"]
  )


def test_separate_learning_rates():
  state, update = build(UpdateOptions(), g_lr=0.0, d_lr=1e-3)
  new, _ = update(state, IMAGES, jax.random.key(0))
  assert_trees_close(new.g_params, state.g_params, rtol=0, atol=0)
  assert not np.allclose(new.d_params["Dense_0"]["kernel"], state.d_params["Dense_0"]["kernel"])


@pytest.mark.parametrize("penalty", ["gp", "gp_one_sided", "dragan", "r1", "r2"])
def test_penalty_enters_the_d_loss(penalty):
  state, update = build(UpdateOptions(penalty=penalty, penalty_weight=10.0), loss="wgan")
  _, metrics = update(state, IMAGES, jax.random.key(0))
  plain_state, plain = build(UpdateOptions(), loss="wgan")
  _, plain_metrics = plain(plain_state, IMAGES, jax.random.key(0))
  if penalty == "gp_one_sided":  # a fresh critic has gradient norms below 1: nothing to penalize
    assert float(metrics["penalty"]) == 0
  else:
    assert float(metrics["penalty"]) > 0
  np.testing.assert_allclose(
    metrics["d_loss"], plain_metrics["d_loss"] + 10 * metrics["penalty"], rtol=1e-5
  )


def test_bad_options_fail_early():
  with pytest.raises(ValueError, match="--n_disc=1"):
    UpdateOptions(simultaneous=True, n_disc=2)
  with pytest.raises(KeyError, match="choices: gp"):
    UpdateOptions(penalty="nope")


def test_consensus_optimization_matches_its_closed_form_on_the_dirac_gan():
  """Dirac-GAN with the minimax loss: L_D(ψ) = log 2 + softplus(ψθ), L_G(θ) = −softplus(ψθ),
  so v = (∂L_G/∂θ, ∂L_D/∂ψ) = (−ψσ(ψθ), θσ(ψθ)) and ½‖v‖² = ½(θ² + ψ²)σ(ψθ)². One SGD step
  of size 1 moves (θ, ψ) by −(v + γ∇½‖v‖²) (Mescheder et al. 2017, eq. 10)."""
  from experiments.dirac import dirac_gan

  theta, psi, gamma = 0.7, -0.4, 0.5
  gan = dirac_gan("mm", UpdateOptions(simultaneous=True, consensus=gamma), (theta, psi), lr=1.0)
  state = gan.init(jax.random.key(0))
  new, metrics = jax.jit(gan.update)(state, jnp.zeros((4, 1)), jax.random.key(1))

  def field(t, p):
    s = jax.nn.sigmoid(p * t)
    return jnp.stack([-p * s, t * s])

  reg = lambda t, p: 0.5 * jnp.sum(field(t, p) ** 2)
  v = field(theta, psi)
  grad_reg = jnp.stack(jax.grad(reg, (0, 1))(theta, psi))
  expected = jnp.array([theta, psi]) - (v + gamma * grad_reg)
  np.testing.assert_allclose([new.g_params["theta"], new.d_params["psi"]], expected, rtol=1e-5)
  np.testing.assert_allclose(metrics["consensus"], reg(theta, psi), rtol=1e-5)
  # Without consensus the same step is plain simultaneous descent, −v.
  plain = dirac_gan("mm", UpdateOptions(simultaneous=True), (theta, psi), lr=1.0)
  new, _ = jax.jit(plain.update)(state, jnp.zeros((4, 1)), jax.random.key(1))
  np.testing.assert_allclose(
    [new.g_params["theta"], new.d_params["psi"]], jnp.array([theta, psi]) - v, rtol=1e-5
  )


def test_consensus_needs_simultaneous_updates():
  with pytest.raises(ValueError, match="simultaneous"):
    UpdateOptions(consensus=1.0)


def test_began_carries_k_through_the_update():
  """k_0 = 0; after a G step k_1 = clip(λ_k(γ E L(x) − E L(G(z))), 0, 1), measured on the
  update's own reconstruction errors (reported as began_M)."""
  g, d_enc = small_mlp()
  d = models.AutoencoderDiscriminator(
    d_enc.clone(features=8), models.MLPGenerator(SHAPE, 8, hidden=(32,))
  )
  gan = small_gan((g, d), loss="began")
  state = gan.init(jax.random.key(0))
  assert float(state.loss_state["k"]) == 0.0
  update = jax.jit(gan.update)
  ks = []
  for i in range(3):
    state, metrics = update(state, IMAGES, jax.random.key(i))
    ks.append(float(state.loss_state["k"]))
    assert 0.0 <= ks[-1] <= 1.0
  assert float(metrics["began_k"]) == pytest.approx(ks[-2])  # the k this step trained with
  assert ks != [0.0, 0.0, 0.0] or float(metrics["began_M"]) > 0
  with pytest.raises(ValueError, match="GAN.init"):
    update(state.replace(loss_state=None), IMAGES, jax.random.key(0))
