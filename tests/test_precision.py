"""Mixed precision: bfloat16 compute, float32 parameters, gradients and states."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import make_config
from jaxgan.core import optimizers, precision
from jaxgan.data import pixels
from jaxgan.run.driver import Run

from helpers import SHAPE, Z_DIM, fake_data, small_dcgan, small_gan, small_mlp


def bf16(nets):
  return tuple(precision.MixedPrecision(m, jnp.bfloat16) for m in nets)


def test_products_run_in_bfloat16_and_outputs_are_float32():
  g, d = small_dcgan()
  mg, md = bf16((g, d))
  z = jnp.ones((4, Z_DIM))
  variables = jax.jit(lambda k: mg.init(k, z, train=False))(jax.random.key(0))
  plain = jax.jit(lambda k: g.init(k, z, train=False))(jax.random.key(0))  # init untouched
  assert all(jax.tree.leaves(jax.tree.map(np.array_equal, variables, plain)))
  jaxpr = str(jax.make_jaxpr(lambda v: mg.apply(v, z, train=False))(variables))
  products = [l for l in jaxpr.splitlines() if "dot_general" in l or "conv_general" in l]
  assert products and all("bf16" in l for l in products)
  x = jnp.zeros((4, *SHAPE))
  x, mutated = jax.jit(
    lambda k: md.apply(md.init(k, x, train=False), x, train=True, mutable=["batch_stats"])
  )(jax.random.key(1))
  assert x.dtype == jnp.float32
  assert all(a.dtype == jnp.float32 for a in jax.tree.leaves(mutated))


def test_close_to_float32_and_gradients_are_float32():
  g, d = small_dcgan()
  x = pixels.to_unit_range(fake_data(8))
  variables = jax.jit(lambda k: d.init(k, x, train=False))(jax.random.key(0))

  def loss(params, model):
    logits, _ = model.apply({**variables, "params": params}, x, train=True, mutable=["batch_stats"])
    return jnp.mean(jax.nn.softplus(-logits))

  (md,) = bf16((d,))
  v32, g32 = jax.jit(jax.value_and_grad(lambda p: loss(p, d)))(variables["params"])
  v16, g16 = jax.jit(jax.value_and_grad(lambda p: loss(p, md)))(variables["params"])
  assert float(v16) != float(v32)  # bfloat16 did round something
  np.testing.assert_allclose(float(v16), float(v32), rtol=2e-2)
  for a, b in zip(jax.tree.leaves(g32), jax.tree.leaves(g16)):
    assert b.dtype == jnp.float32
    assert np.linalg.norm(b - a) <= 0.05 * np.linalg.norm(a) + 1e-6


def test_a_bfloat16_update_keeps_every_state_float32_and_tracks_float32():
  runs = []
  for nets in (small_mlp(), bf16(small_mlp())):  # batch norm: the loop test below
    gan = small_gan(nets, optimizers.adam(1e-3))
    state = gan.init(jax.random.key(0))
    new, metrics = jax.jit(gan.update)(
      state, pixels.to_unit_range(fake_data(16)), jax.random.key(1)
    )
    runs.append((state, new, metrics))
  (s32, n32, m32), (s16, n16, m16) = runs
  dtypes = lambda t: jax.tree.map(lambda a: a.dtype, t)
  assert dtypes(n16) == dtypes(n32) == dtypes(s32)
  for k in ("d_loss", "g_loss"):
    np.testing.assert_allclose(float(m16[k]), float(m32[k]), rtol=3e-2)
  # One Adam step moves each weight by about the learning rate, in the same direction.
  step32 = jax.tree.map(lambda a, b: b - a, s32.d_params, n32.d_params)
  step16 = jax.tree.map(lambda a, b: b - a, s16.d_params, n16.d_params)
  agree = [
    np.mean(np.sign(a) == np.sign(b))
    for a, b in zip(jax.tree.leaves(step32), jax.tree.leaves(step16))
  ]
  assert min(agree) > 0.8


def test_the_training_loop_builds_bfloat16_models_from_its_config():
  images = np.asarray(fake_data(64))
  run = Run(
    make_config(arch="dcgan", d_norm="batch", compute_dtype="bfloat16", batch_size=8),
    images.shape[1:],
  )
  assert isinstance(run.gan.generator, precision.MixedPrecision)
  assert isinstance(run.gan.discriminator, precision.MixedPrecision)
  state, metrics = run.run_steps(run.init(), jax.device_put(images), run.train_key, 2)
  assert np.isfinite(jax.device_get(metrics["d_loss"])).all()
  assert state.d_state["batch_stats"]  # batch norm's statistics, updated in the bf16 pass
  assert all(a.dtype != jnp.bfloat16 for a in jax.tree.leaves(state))


def test_unknown_compute_dtype_lists_the_choices():
  with pytest.raises(ValueError, match="bfloat16.*float32"):
    precision.with_compute_dtype(small_dcgan()[0], "float16")
