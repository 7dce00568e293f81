"""jaxgan.backend.conv_cpu: its transposed convolutions (sub-pixel, matrix product and
overlap-add) equal Flax's, values and gradients."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.backend import conv_cpu


@pytest.mark.parametrize(
  "kernel,stride,taps",
  [(4, 2, 2), (3, 2, 2), (5, 3, 2), (6, 2, 3), (4, 4, 1), (2, 3, 1), (5, 1, 5)],
)
def test_subpixel_plan_reads_ceil_k_over_s_inputs(kernel, stride, taps):
  """Each sub-pixel window reads ⌈k/s⌉ inputs per axis (DCGAN's 4×4 stride-2 layer: a 2×2
  convolution, not 3×3), and every kernel index is used exactly once."""
  _, _, plan = conv_cpu._subpixel_taps(kernel, stride)
  assert plan.shape == (stride, taps)
  assert sorted(plan[plan >= 0].tolist()) == list(range(kernel))


@pytest.mark.parametrize("impl", ["subpixel", "gemm"])
@pytest.mark.parametrize(
  "size,cin,cout,kernel,stride",
  [
    ((7, 7), 8, 5, 4, 2),  # the DCGAN/InfoGAN layers
    ((7, 7), 8, 16, 4, 2),  # wide (s²·C ≥ 64): kernel gradient as matrix products
    ((5, 6), 2, 3, 3, 2),  # odd kernel, non-square input
    ((4, 4), 2, 2, 5, 3),  # stride 3
    ((3, 5), 2, 3, 6, 2),  # even kernel, three taps per phase
    ((3, 3), 2, 2, 4, 4),  # kernel = stride: one tap per phase
    ((4, 3), 3, 2, 2, 3),  # kernel < stride: phases with no tap
  ],
)
def test_transposed_convolution_equals_flax(size, cin, cout, kernel, stride, impl):
  """conv_cpu.ConvTranspose in each of its CPU forms has nn.ConvTranspose's parameters and
  computes the same outputs and gradients."""
  import flax.linen as nn

  x = jax.random.normal(jax.random.key(0), (2, *size, cin))
  ref = nn.ConvTranspose(cout, (kernel, kernel), strides=(stride, stride), padding="SAME")
  ours = conv_cpu.ConvTranspose(cout, (kernel, kernel), (stride, stride), impl=impl)
  params = ref.init(jax.random.key(1), x)
  params = {"params": {**params["params"], "bias": jnp.arange(cout, dtype=jnp.float32)}}
  assert jax.tree.map(jnp.shape, ours.init(jax.random.key(1), x)) == jax.tree.map(jnp.shape, params)
  loss = lambda m: lambda p, x: jnp.sum(jnp.sin(m.apply(p, x)))

  @functools.partial(jax.jit, static_argnums=0)  # one program a form, not one an operation
  def outputs(m, p, x):
    # Reverse over reverse too, as a gradient penalty differentiates it: ∇_p ‖∇_x loss‖².
    grad_norm = lambda p: jnp.sum(jax.grad(loss(m), 1)(p, x) ** 2)
    return m.apply(p, x), jax.grad(loss(m), (0, 1))(p, x), jax.grad(grad_norm)(p)

  (y, g, gg), (y_ref, g_ref, gg_ref) = outputs(ours, params, x), outputs(ref, params, x)
  np.testing.assert_allclose(y, y_ref, atol=1e-5)
  for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(g_ref), strict=True):
    np.testing.assert_allclose(a, b, atol=1e-4)
  for a, b in zip(jax.tree.leaves(gg), jax.tree.leaves(gg_ref), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3)


def test_auto_takes_the_overlap_add_for_narrow_outputs_on_the_cpu():
  """On the CPU a generator's last layer (s²·features < 64) takes the matrix product and
  overlap-add, a wide layer the sub-pixel form (the measured choice, BENCHMARKS.md)."""
  assert jax.default_backend() == "cpu"
  assert conv_cpu._auto_impl((2, 2), 1) == "gemm"
  assert conv_cpu._auto_impl((2, 2), 3) == "gemm"
  assert conv_cpu._auto_impl((2, 2), 64) == "subpixel"
