"""jaxgan's per-platform XLA options: they reach the compiler, and the user's XLA_FLAGS win."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.backend import xla_options

pytestmark = pytest.mark.skipif(jax.default_backend() != "cpu", reason="CPU options")


def _conv(x, w):
  return jax.lax.conv_general_dilated(
    x, w, (2, 2), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC")
  )


def _in_ynnpack(options) -> bool:
  x, w = jnp.ones((64, 14, 14, 64)), jnp.ones((4, 4, 64, 128))  # the DCGAN D's conv2
  hlo = jax.jit(_conv, compiler_options=options).lower(x, w).compile().as_text()
  return '"kind":"__ynn_fusion"' in hlo


def test_training_options_keep_convolutions_out_of_ynnpack():
  """The premise (XLA:CPU's default puts a convolution in YNNPACK) and the fix. If the first
  assertion fails after a jax upgrade, the default changed: re-measure before keeping the
  option (python -m bench.conv_ops --step_rounds=10)."""
  assert _in_ynnpack(None), "XLA:CPU no longer sends convolutions to YNNPACK by default"
  assert not _in_ynnpack(xla_options.for_training())


def test_options_the_user_set_in_xla_flags_are_left_alone(monkeypatch):
  monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_experimental_ynn_fusion_type=-individual_dot")
  assert xla_options.for_training() is None
  assert xla_options.for_run_once() == {"xla_backend_optimization_level": 0}
  monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
  assert set(xla_options.for_training()) == {"xla_cpu_experimental_ynn_fusion_type"}


def _bernoulli_mask(key):
  return jax.random.bernoulli(key, 0.7, (64, 1024))  # a dropout mask of the MLP's D


def _loops(fn, *args) -> int:
  """While loops in ``fn``'s compiled HLO; traced afresh (jax caches lowerings per function)."""
  return jax.jit(lambda *a: fn(*a)).lower(*args).compile().as_text().count(" while(")


def test_unrolled_threefry_draws_the_same_bits_without_loops():
  """The premise (jax 0.10 lowers threefry on the CPU as a rolled loop) and the fix: large
  draws lose their loop and keep their bits; jax's table is restored on exit. If the premise
  fails after a jax upgrade, jax unrolls by itself and the context can go."""
  key = jax.random.key(5)
  assert _loops(_bernoulli_mask, key) > 0, "jax no longer lowers threefry as a loop on the CPU"
  rolled = jax.jit(lambda k: _bernoulli_mask(k))(key)
  with xla_options.threefry_unrolled() as changed:
    assert changed
    with xla_options.threefry_unrolled() as nested:
      assert not nested  # the outer context is in charge
    assert _loops(_bernoulli_mask, key) == 0
    unrolled = jax.jit(lambda k: _bernoulli_mask(k))(key)
    small = jax.jit(lambda k: jax.random.bits(k, (8,)))(key)  # below the threshold: rolled
    assert _loops(lambda k: jax.random.bits(k, (8,)), key) > 0
  assert bool(jnp.array_equal(rolled, unrolled)) and 0.6 < float(rolled.mean()) < 0.8
  assert bool(jnp.array_equal(small, jax.random.bits(key, (8,))))
  assert _loops(_bernoulli_mask, key) > 0  # restored


def test_without_jaxs_private_table_it_warns_and_draws_the_same_bits(monkeypatch):
  """A jax whose private lowering table has moved: the public lowering, and a warning."""
  key = jax.random.key(0)
  want = np.asarray(jax.jit(_bernoulli_mask)(key))
  monkeypatch.setattr(xla_options, "_cpu_threefry_lowering", lambda: None)
  monkeypatch.setattr(xla_options, "_warned_missing_table", False)
  with pytest.warns(RuntimeWarning, match="public lowering"):
    with xla_options.threefry_unrolled() as changed:
      got = np.asarray(jax.jit(_bernoulli_mask)(jax.random.key(0)))
  assert changed is False
  np.testing.assert_array_equal(got, want)
