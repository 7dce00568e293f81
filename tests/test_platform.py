"""jaxgan.backend.platform: each platform choice computes what its alternative computes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.backend import platform


def _body(carry, x):
  carry = jnp.tanh(carry @ x["w"]) + x["b"]
  return carry, carry.sum()


def _xs():
  k1, k2 = jax.random.split(jax.random.key(0))
  return {"w": jax.random.normal(k1, (3, 4, 4)), "b": jax.random.normal(k2, (3, 4))}


@pytest.mark.exact
def test_scan_unrolled_is_lax_scan_without_a_loop():
  carry = jnp.ones((2, 4))
  want_carry, ys = jax.lax.scan(_body, carry, _xs())
  got_carry, last = jax.jit(lambda c, xs: platform.scan_unrolled(_body, c, xs))(carry, _xs())
  np.testing.assert_allclose(got_carry, want_carry, rtol=1e-6)
  np.testing.assert_allclose(last, ys[-1], rtol=1e-6)
  hlo = jax.jit(lambda c, xs: platform.scan_unrolled(_body, c, xs)).lower(carry, _xs())
  assert " while(" not in hlo.compile().as_text()


def test_map_members_stacks_what_each_member_computes_alone():
  keys = jax.random.split(jax.random.key(1), 3)
  init = lambda k: {"w": jax.nn.initializers.orthogonal()(k, (4, 4))}  # noqa: E731
  got = jax.jit(lambda ks: platform.map_members(init, ks))(keys)
  for i, k in enumerate(keys):
    np.testing.assert_allclose(got["w"][i], init(k)["w"], rtol=1e-6, atol=1e-7)


def test_an_unknown_platform_gets_the_accelerator_choices():
  for name in ("gpu", "tpu", "a-future-chip"):
    assert platform.steps_per_call("dcgan", name) == platform.steps_per_call("mlp", name) > 1
    assert platform.population_chunk_size(name) > 1
    assert platform.classifier_steps_per_call(name) > 1
    assert platform.scan_unroll("dcgan", name) == platform.scan_unroll("mlp", name) == 1
  assert platform.population_chunk_size("cpu") == 1
  assert platform.steps_per_call("mlp", "cpu") > platform.steps_per_call("dcgan", "cpu") > 1
  assert platform.scan_unroll("dcgan", "cpu") is True and platform.scan_unroll("mlp", "cpu") == 1
