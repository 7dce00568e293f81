"""The GAN value and its steps, each alone: d_step moves D only, g_step moves G only, and the
update is exactly their composition (Algorithm 1)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import make_config
from jaxgan.core import gan as gan_lib
from jaxgan.core import losses, optimizers, precision
from jaxgan.core.build import build_gan
from jaxgan.core.gan import StepKeys, UpdateOptions, d_step, g_step, update_keys
from jaxgan.data import pixels
from jaxgan.nets import models

from helpers import SHAPE, assert_trees_close, fake_data, small_gan, small_mlp

IMAGES = pixels.to_unit_range(fake_data(8))


def same(a, b) -> bool:
  return all(bool(jnp.array_equal(x, y)) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


@pytest.fixture(scope="module")
def gan_and_state():
  gan = small_gan(small_mlp())
  return gan, gan.init(jax.random.key(0))


def test_d_step_moves_d_only_and_lowers_its_loss(gan_and_state):
  gan, state = gan_and_state
  keys = StepKeys(jax.random.key(1), jax.random.key(2))
  new, metrics = jax.jit(lambda s: d_step(gan, s, IMAGES, keys))(state)
  assert same(new.g_params, state.g_params) and same(new.g_opt_state, state.g_opt_state)
  assert not same(new.d_params, state.d_params) and int(new.step) == 0
  again, after = jax.jit(lambda s: d_step(gan, s, IMAGES, keys))(new)
  assert float(after["d_loss"]) < float(metrics["d_loss"])  # same batch and z: D improved
  assert set(metrics) == {"d_loss", "d_real", "d_fake"}


def test_d_step_loss_is_the_registered_loss_of_ds_logits(gan_and_state):
  """d_loss = ns(D(x), D(G(z))).d with z drawn as the step draws it (D has no dropout)."""
  gan, state = gan_and_state
  keys = StepKeys(jax.random.key(1), jax.random.key(2))
  _, metrics = d_step(gan, state, IMAGES, keys)
  z = gan.latents(jax.random.split(keys.latents)[0], IMAGES.shape[0])
  d = lambda x: gan.discriminator.apply({"params": state.d_params}, x, train=False)
  want = losses.non_saturating(d(IMAGES), d(gan.sample(state.g_params, {}, z))).d
  np.testing.assert_allclose(metrics["d_loss"], want, rtol=1e-5)


def test_g_step_moves_g_only_against_the_given_opponent(gan_and_state):
  gan, state = gan_and_state
  keys = StepKeys(jax.random.key(3), jax.random.key(4))
  new, metrics = g_step(gan, state, IMAGES, keys)
  assert same(new.d_params, state.d_params) and same(new.d_opt_state, state.d_opt_state)
  assert not same(new.g_params, state.g_params) and set(metrics) == {"g_loss"}
  other = state.replace(d_params=jax.tree.map(lambda p: -p, state.d_params))
  against_other, _ = g_step(gan, state, IMAGES, keys, opponent=other)
  assert not same(against_other.g_params, new.g_params)


@pytest.mark.parametrize(
  "options",
  [UpdateOptions(), UpdateOptions(simultaneous=True)],
  ids=["alternating", "simultaneous"],
)
def test_update_is_d_step_then_g_step(gan_and_state, options):
  gan, state = gan_and_state
  gan = dataclasses.replace(gan, options=options)
  key = jax.random.key(5)
  new, metrics = gan.update(state, IMAGES, key)
  keys = update_keys(gan, key)
  after_d, d_metrics = d_step(gan, state, IMAGES, keys.d)
  opponent = state if options.simultaneous else after_d
  by_hand, g_metrics = g_step(gan, after_d, IMAGES, keys.g, opponent)
  assert_trees_close(new, by_hand.replace(step=state.step + 1), rtol=0, atol=0)
  assert jax.tree.map(float, metrics) == jax.tree.map(float, {**d_metrics, **g_metrics})


def test_build_gan_follows_the_config():
  cfg = make_config(
    arch="dcgan",
    loss="wgan_gp",
    n_disc=2,
    lr=1e-3,
    g_lr=5e-4,
    beta2=0.9,
    compute_dtype="bfloat16",
    ema_decay=0.99,
  )
  gan = build_gan(cfg, SHAPE)
  assert gan.options == UpdateOptions(penalty="gp", penalty_weight=10.0, n_disc=2, ema_decay=0.99)
  assert gan.loss is losses.LOSSES.get("wgan_gp") and gan.z_dim == 100
  assert isinstance(gan.generator, precision.MixedPrecision)
  state = gan.init(jax.random.key(0))
  assert state.g_ema is not None and state.loss_state is None
  assert float(state.g_opt_state.hyperparams["learning_rate"]) == pytest.approx(5e-4)
  assert float(state.d_opt_state.hyperparams["learning_rate"]) == pytest.approx(1e-3)
  assert float(state.d_opt_state.hyperparams["b2"]) == pytest.approx(0.9)


def test_an_autoencoder_d_for_began_and_the_prior_of_the_architecture():
  gan = build_gan(make_config(arch="infogan", loss="began"), SHAPE)
  assert gan.loss.needs_autoencoder and gan.z_prior == "uniform" and gan.z_dim == 64
  assert isinstance(gan.discriminator, models.AutoencoderDiscriminator)
  assert float(gan.init(jax.random.key(0)).loss_state["k"]) == 0.0


def test_unknown_prior_is_refused():
  with pytest.raises(ValueError, match="normal, uniform"):
    gan_lib.sample_latents(jax.random.key(0), 2, 3, prior="cauchy")


def test_optimizers_keep_hyperparameters_in_their_state():
  state = optimizers.adam(0.1, b1=0.3).init({"w": jnp.zeros(2)})
  assert float(state.hyperparams["b1"]) == pytest.approx(0.3)
  assert float(optimizers.sgd(0.2).init({"w": jnp.zeros(2)}).hyperparams["learning_rate"]) == (
    pytest.approx(0.2)
  )
