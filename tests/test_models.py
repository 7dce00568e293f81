"""Shapes, output ranges and the exact classic MLP architecture."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import models, train


@pytest.mark.parametrize("arch", models.ARCHS.names())
@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_shapes_and_ranges(arch, shape):
  g, d = models.ARCHS.get(arch)(shape, z_dim=16)
  z = jax.random.normal(jax.random.key(0), (5, 16)) * 3
  g_vars = train.jit_init(lambda k: g.init(k, z, train=False))(jax.random.key(1))
  images, _ = jax.jit(lambda v: g.apply(v, z, train=True, mutable=["batch_stats"]))(g_vars)
  assert images.shape == (5, *shape)
  assert float(images.min()) >= -1.0 and float(images.max()) <= 1.0
  d_vars = train.jit_init(lambda k: d.init(k, images, train=False))(jax.random.key(2))
  logits, _ = jax.jit(lambda v: d.apply(v, images, train=True, rngs={"dropout": jax.random.key(3)},
                                        mutable=["batch_stats"]))(d_vars)
  assert logits.shape == (5,)
  assert logits.dtype == jnp.float32
  assert bool(jnp.isfinite(logits).all())


def _layer_shapes(params):
  return [tuple(p["kernel"].shape) for _, p in sorted(params.items(), key=lambda kv: int(kv[0].split("_")[-1]))]


def test_mlp_is_the_classic_pytorch_network():
  g, d = models.ARCHS.get("mlp")((28, 28, 1), z_dim=100)
  gp = g.init(jax.random.key(0), jnp.zeros((1, 100)))["params"]
  dp = d.init(jax.random.key(0), jnp.zeros((1, 28, 28, 1)))["params"]
  assert _layer_shapes(gp) == [(100, 256), (256, 512), (512, 1024), (1024, 784)]
  assert _layer_shapes(dp) == [(784, 1024), (1024, 512), (512, 256), (256, 1)]
  # PyTorch nn.Linear init: weights and biases ~ U(−1/√fan_in, 1/√fan_in).
  for params in (gp, dp):
    for layer in params.values():
      bound = 1 / math.sqrt(layer["kernel"].shape[0])
      for w in (layer["kernel"], layer["bias"]):
        assert float(jnp.abs(w).max()) <= bound
        if w.size >= 100:  # uniform over the whole range, not a narrower one
          assert float(jnp.abs(w).max()) > 0.9 * bound


def test_mlp_discriminator_dropout():
  _, d = models.ARCHS.get("mlp")((28, 28, 1))
  x = jax.random.normal(jax.random.key(0), (4, 28, 28, 1))
  v = d.init(jax.random.key(1), x)
  eval_a = d.apply(v, x, train=False)
  eval_b = d.apply(v, x, train=False)
  np.testing.assert_array_equal(eval_a, eval_b)
  train_a = d.apply(v, x, train=True, rngs={"dropout": jax.random.key(2)})
  train_b = d.apply(v, x, train=True, rngs={"dropout": jax.random.key(3)})
  assert not np.allclose(train_a, train_b)


def test_dcgan_batch_norm_state():
  g, _ = models.ARCHS.get("dcgan")((28, 28, 1), z_dim=8)
  z = jax.random.normal(jax.random.key(0), (6, 8))
  v = g.init(jax.random.key(1), z, train=False)
  assert "batch_stats" in v
  _, new = g.apply(v, z, train=True, mutable=["batch_stats"])
  changed = jax.tree.map(lambda a, b: bool((a != b).any()), v["batch_stats"], new["batch_stats"])
  assert all(jax.tree.leaves(changed))


def test_dcgan_rejects_odd_sizes():
  g, _ = models.ARCHS.get("dcgan")((30, 30, 1), z_dim=8)
  with pytest.raises(ValueError, match="divisible by 4"):
    g.init(jax.random.key(0), jnp.zeros((1, 8)))


@pytest.mark.parametrize("kernel,stride,taps", [(4, 2, 2), (3, 2, 2), (5, 3, 2), (6, 2, 3),
                                                 (4, 4, 1), (2, 3, 1), (5, 1, 5)])
def test_subpixel_plan_reads_ceil_k_over_s_inputs(kernel, stride, taps):
  """Each sub-pixel window reads ⌈k/s⌉ inputs per axis (DCGAN's 4×4 stride-2 layer: a 2×2
  convolution, not 3×3), and every kernel index is used exactly once."""
  _, _, plan = models._subpixel_taps(kernel, stride)
  assert plan.shape == (stride, taps)
  assert sorted(plan[plan >= 0].tolist()) == list(range(kernel))


@pytest.mark.parametrize("size,cin,cout,kernel,stride", [
    ((7, 7), 8, 5, 4, 2),    # the DCGAN/InfoGAN layers
    ((7, 7), 8, 16, 4, 2),   # wide (s²·C ≥ 64): kernel gradient as matrix products
    ((5, 6), 2, 3, 3, 2),    # odd kernel, non-square input
    ((4, 4), 2, 2, 5, 3),    # stride 3
    ((3, 5), 2, 3, 6, 2),    # even kernel, three taps per phase
    ((3, 3), 2, 2, 4, 4),    # kernel = stride: one tap per phase
    ((4, 3), 3, 2, 2, 3),    # kernel < stride: phases with no tap
])
def test_subpixel_transposed_convolution_equals_flax(size, cin, cout, kernel, stride):
  """models.ConvTranspose (sub-pixel form on the CPU) has nn.ConvTranspose's parameters and
  computes the same outputs and gradients."""
  import flax.linen as nn
  x = jax.random.normal(jax.random.key(0), (2, *size, cin))
  ref = nn.ConvTranspose(cout, (kernel, kernel), strides=(stride, stride), padding="SAME")
  ours = models.ConvTranspose(cout, (kernel, kernel), (stride, stride), impl="subpixel")
  params = ref.init(jax.random.key(1), x)
  params = {"params": {**params["params"], "bias": jnp.arange(cout, dtype=jnp.float32)}}
  assert jax.tree.map(jnp.shape, ours.init(jax.random.key(1), x)) == jax.tree.map(
      jnp.shape, params)
  np.testing.assert_allclose(ours.apply(params, x), ref.apply(params, x), atol=1e-5)
  loss = lambda m: lambda p, x: jnp.sum(jnp.sin(m.apply(p, x)))
  g_ours = jax.grad(loss(ours), (0, 1))(params, x)
  g_ref = jax.grad(loss(ref), (0, 1))(params, x)
  for a, b in zip(jax.tree.leaves(g_ours), jax.tree.leaves(g_ref)):
    np.testing.assert_allclose(a, b, atol=1e-4)
  # Reverse over reverse, as a gradient penalty differentiates it: ∇_params ‖∇_x loss‖².
  grad_norm = lambda m: lambda p: jnp.sum(jax.grad(loss(m), 1)(p, x) ** 2)
  for a, b in zip(jax.tree.leaves(jax.grad(grad_norm(ours))(params)),
                  jax.tree.leaves(jax.grad(grad_norm(ref))(params))):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3)

