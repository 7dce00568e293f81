"""The update function: it learns, scan equals single steps, vmap equals one-by-one."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from jaxgan.backend import xla_options
from jaxgan.core import losses, optimizers
from jaxgan.core.gan import sample_latents
from jaxgan.data import pixels
from jaxgan.run import train_steps

from helpers import Z_DIM, assert_trees_close, fake_data, setup, small_dcgan, small_gan, small_mlp


def d_loss_on(state, nets, images, z):
  g, d = nets
  fake = g.apply({"params": state.g_params, **state.g_state}, z, train=False)
  logits = lambda x: d.apply({"params": state.d_params, **state.d_state}, x, train=False)
  return float(losses.non_saturating(logits(images), logits(fake)).d)


@pytest.mark.parametrize("make_nets", [small_mlp, small_dcgan])
def test_update_lowers_discriminator_loss(make_nets):
  nets = make_nets()
  state, update = setup(nets, tx=optimizers.adam(1e-3))
  images = pixels.to_unit_range(fake_data(32))
  z = sample_latents(jax.random.key(5), 32, Z_DIM)
  before = d_loss_on(state, nets, images, z)
  new_state, metrics = jax.jit(update)(state, images, jax.random.key(0))
  after = d_loss_on(new_state, nets, images, z)
  assert after < before
  assert int(new_state.step) == 1
  assert set(metrics) == {"d_loss", "g_loss", "d_real", "d_fake"}
  assert 0 < float(metrics["d_real"]) < 1 and 0 < float(metrics["d_fake"]) < 1


def test_update_changes_both_networks_and_batch_stats():
  nets = small_dcgan()
  state, update = setup(nets)
  new, _ = jax.jit(update)(state, pixels.to_unit_range(fake_data(16)), jax.random.key(0))
  for old_tree, new_tree in [
    (state.g_params, new.g_params),
    (state.d_params, new.d_params),
    (state.g_state, new.g_state),
    (state.d_state, new.d_state),
  ]:
    assert any(
      bool((a != b).any()) for a, b in zip(jax.tree.leaves(old_tree), jax.tree.leaves(new_tree))
    )


@pytest.mark.parametrize("unroll", [1, True])  # a loop; no loop (conv nets on the CPU)
def test_scan_equals_single_steps(unroll):
  gan = small_gan(small_mlp(dropout=0.3))
  state = gan.init(jax.random.key(0))
  data = jax.device_put(fake_data(128))
  key = jax.random.key(3)
  step = train_steps.make_train_step(gan, 16)
  run = train_steps.make_multi_step(step, donate=False, unroll=unroll)
  scanned, m_scan = run(state, data, key, 5)
  single = state
  m_single = []
  for _ in range(5):
    single, m = run(single, data, key, 1)
    m_single.append(m)
  assert int(scanned.step) == int(single.step) == 5
  assert_trees_close(scanned, single)
  np.testing.assert_allclose(
    m_scan["d_loss"], jnp.concatenate([m["d_loss"] for m in m_single]), rtol=1e-5
  )


def test_multi_step_draws_the_dropout_masks_a_plain_jit_draws():
  """make_multi_step lowers its dropout draws unrolled on the CPU (xla_options.threefry_unrolled):
  the training must come out as under a plain jax.jit of the same step."""
  gan = small_gan(small_mlp(dropout=0.3))
  state = gan.init(jax.random.key(0))
  data = jax.device_put(fake_data(128))
  step = train_steps.make_train_step(gan, 64)  # masks of 64 × 64: drawn unrolled
  ours, m_ours = train_steps.make_multi_step(step, donate=False)(state, data, jax.random.key(3), 1)
  plain, m_plain = jax.jit(step)(state, data, jax.random.key(3))
  assert_trees_close(ours, plain, rtol=1e-6)
  np.testing.assert_allclose(m_ours["d_loss"][0], m_plain["d_loss"], rtol=1e-6)


def test_vmapped_population_equals_members_trained_alone():
  """Two GANs with different learning rates (held in their optimizer states) trained at once."""
  nets = small_mlp(dropout=0.3)
  gan = small_gan(nets, optimizers.adam(1.0))  # the update reads lr from the states
  members = [
    small_gan(nets, optimizers.adam(lr)).init(jax.random.key(i))
    for i, lr in enumerate([1e-3, 3e-4])
  ]
  data = jax.device_put(fake_data(128))
  keys = jax.random.split(jax.random.key(9), 2)
  step = train_steps.make_train_step(gan, 16)

  def two_steps(state, key):
    for _ in range(2):
      state, _ = step(state, data, key)
    return state

  population = jax.tree.map(lambda *xs: jnp.stack(xs), *members)
  together = jax.jit(jax.vmap(two_steps))(population, keys)
  alone_fn = jax.jit(two_steps)
  alone = [alone_fn(m, k) for m, k in zip(members, keys)]
  for i, member in enumerate(alone):
    assert_trees_close(jax.tree.map(lambda x: x[i], together), member)
  lrs = together.g_opt_state.hyperparams["learning_rate"]
  np.testing.assert_allclose(lrs, [1e-3, 3e-4])
  # Different learning rates really gave different trajectories.
  swapped = members[0].replace(
    g_opt_state=members[1].g_opt_state, d_opt_state=members[1].d_opt_state
  )
  assert not np.allclose(
    alone[0].g_params["Dense_0"]["kernel"], alone_fn(swapped, keys[0]).g_params["Dense_0"]["kernel"]
  )


def test_latents_of_shards_match_the_whole_batch():
  key = jax.random.key(0)
  whole = sample_latents(key, 8, 4)
  halves = jnp.concatenate([sample_latents(key, 4, 4, 0), sample_latents(key, 4, 4, 4)])
  np.testing.assert_array_equal(whole, halves)


def test_jit_init_gives_the_state_init_state_gives():
  """``jit_init`` (unoptimized backend on the CPU) draws the same initial state as the
  optimized ``jax.jit`` to float32 rounding, and the same bits on every call."""
  init = small_gan(small_dcgan()).init
  once = xla_options.jit_init(init)(jax.random.key(3))
  assert_trees_close(once, jax.jit(init)(jax.random.key(3)), rtol=1e-6, atol=1e-7)
  again = xla_options.jit_init(init)(jax.random.key(3))
  for a, b in zip(jax.tree.leaves(once), jax.tree.leaves(again)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  other = xla_options.jit_init(init)(jax.random.key(4))
  flat = lambda state: np.asarray(ravel_pytree(state.d_params)[0])
  assert not np.allclose(flat(once), flat(other))  # the key matters
