"""PacGAN's packing (Lin et al. 2018): D judges m samples concatenated on the last axis, real
with real and generated with generated; every architecture takes it, penalties included."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import ConfigError, make_config
from jaxgan.core import gan as gan_lib
from jaxgan.core import losses
from jaxgan.core.build import build_gan
from jaxgan.core.gan import StepKeys, UpdateOptions
from jaxgan.nets import models, packing

from helpers import small_gan


def test_pack_concatenates_consecutive_examples_on_the_last_axis():
  points = jnp.arange(12.0).reshape(6, 2)  # six 2-D points
  np.testing.assert_array_equal(packing.pack(points, 3), [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
  images = jax.random.normal(jax.random.key(0), (4, 5, 5, 3))
  packed = packing.pack(images, 2)
  assert packed.shape == (2, 5, 5, 6) == (2, *packing.packed_shape((5, 5, 3), 2))
  np.testing.assert_array_equal(
    packed[1, 2, 4], jnp.concatenate([images[2, 2, 4], images[3, 2, 4]])
  )
  assert packing.pack(images, 1) is images
  with pytest.raises(ValueError, match="cannot be packed 3 at a time"):
    packing.pack(images, 3)


def toy_gan(pack: int, penalty=None):
  g = models.MLPGenerator((2,), 4, hidden=(16,), tanh_output=False)
  d = models.MLPDiscriminator((2 * pack,), hidden=(16,), dropout=0.0)
  options = UpdateOptions(pack=pack, penalty=penalty, penalty_weight=10.0 if penalty else 0.0)
  return small_gan((g, d), options=options, shape=(2,), z_dim=4)


def test_d_loss_is_the_loss_over_packs_of_real_and_of_generated_samples():
  gan = toy_gan(pack=2)
  state = gan.init(jax.random.key(0))
  assert state.d_params["Dense_0"]["kernel"].shape == (4, 16)  # D reads 2 points of 2 values
  real = jax.random.normal(jax.random.key(1), (8, 2))
  keys = StepKeys(jax.random.key(2), jax.random.key(3))
  _, metrics = jax.jit(lambda s: gan_lib.d_step(gan, s, real, keys))(state)
  z = gan.latents(jax.random.split(keys.latents)[0], 8)
  fake = gan.sample(state.g_params, {}, z)
  d = lambda x: gan.discriminator.apply({"params": state.d_params}, x, train=False)
  pairs = lambda x: jnp.concatenate([x[0::2], x[1::2]], axis=1)  # (x0,x1), (x2,x3), ...
  want = losses.non_saturating(d(pairs(real)), d(pairs(fake))).d
  np.testing.assert_allclose(metrics["d_loss"], want, rtol=1e-5)
  unpacked = losses.non_saturating(d(real.reshape(4, 4)), d(fake[::-1].reshape(4, 4))).d
  assert abs(float(unpacked) - float(want)) > 1e-4  # which samples share a pack matters


def test_a_gradient_penalty_acts_on_whole_packs():
  """WGAN-GP's ‖∇D‖ is of D's input, the pack: for D linear in its input, w, the norm is ‖w‖
  over all m·2 weights, so the penalty is (‖w‖ − 1)² exactly."""
  gan = toy_gan(pack=2, penalty="gp")
  gan = gan.__class__(**{**gan.__dict__, "discriminator": LinearD()})
  state = gan.init(jax.random.key(0))
  w = state.d_params["Dense_0"]["kernel"]
  assert w.shape == (4, 1)
  keys = StepKeys(*jax.random.split(jax.random.key(1)))
  _, metrics = jax.jit(lambda s: gan_lib.d_step(gan, s, jnp.ones((6, 2)), keys))(state)
  np.testing.assert_allclose(metrics["penalty"], (jnp.linalg.norm(w) - 1.0) ** 2, rtol=1e-4)


class LinearD(models.nn.Module):
  @models.nn.compact
  def __call__(self, x, train=True):
    return models.nn.Dense(1)(x)[:, 0]


@pytest.mark.parametrize("arch", models.ARCHS.names())
def test_every_architecture_trains_packed(arch):
  """The update of every architecture, packed by 2 with a gradient penalty (and BEGAN's
  autoencoder D for one), traced to its output shapes (nothing compiled)."""
  spec = models.ARCHS.get(arch)
  shape = (2,) if spec.points else (16, 16, 1)
  loss, penalty = ("began", "none") if arch == "dcgan" else ("wgan", "gp")
  cfg = make_config(arch=arch, loss=loss, penalty=penalty, pack=2, batch_size=4, dataset="ring")
  gan = build_gan(cfg, shape)
  state = jax.eval_shape(gan.init, jax.random.key(0))
  new, metrics = jax.eval_shape(gan.update, state, jnp.zeros((4, *shape)), jax.random.key(1))
  assert jax.tree.map(lambda a: a.shape, new.d_params) == jax.tree.map(
    lambda a: a.shape, state.d_params
  )
  assert metrics["d_loss"].shape == ()


def test_pack_must_divide_the_batch():
  with pytest.raises(ConfigError, match="--pack=3 must divide --batch_size=10"):
    make_config(pack=3, batch_size=10)
  gan = toy_gan(pack=3)
  state = gan.init(jax.random.key(0))
  with pytest.raises(ValueError, match="pack=3 must divide the"):
    gan.update(state, jnp.zeros((10, 2)), jax.random.key(1))
