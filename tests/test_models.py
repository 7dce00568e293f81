"""Shapes, output ranges and the exact classic MLP architecture."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.backend import xla_options
from jaxgan.nets import models

IMAGE_ARCHS = [a for a in models.ARCHS.names() if not models.ARCHS.get(a).points]


HEAVY = ("sndcgan", "resnet")  # 6 s a shape: their colour case is a long check
SHAPE_CASES = [
  pytest.param(arch, shape, marks=[pytest.mark.long] if arch in HEAVY and shape[-1] == 3 else [])
  for shape in [(28, 28, 1), (32, 32, 3)]
  for arch in IMAGE_ARCHS
]


@pytest.mark.parametrize("arch,shape", SHAPE_CASES)
def test_shapes_and_ranges(arch, shape):
  g, d = models.build(arch, shape, z_dim=16)
  z = jax.random.normal(jax.random.key(0), (5, 16)) * 3
  g_vars = xla_options.jit_init(lambda k: g.init(k, z, train=False))(jax.random.key(1))
  images, _ = jax.jit(lambda v: g.apply(v, z, train=True, mutable=["batch_stats"]))(g_vars)
  assert images.shape == (5, *shape)
  assert float(images.min()) >= -1.0 and float(images.max()) <= 1.0
  d_vars = xla_options.jit_init(lambda k: d.init(k, images, train=False))(jax.random.key(2))
  logits, _ = jax.jit(
    lambda v: d.apply(
      v, images, train=True, rngs={"dropout": jax.random.key(3)}, mutable=["batch_stats"]
    )
  )(d_vars)
  assert logits.shape == (5,)
  assert logits.dtype == jnp.float32
  assert bool(jnp.isfinite(logits).all())


def _layer_shapes(params):
  return [
    tuple(p["kernel"].shape)
    for _, p in sorted(params.items(), key=lambda kv: int(kv[0].split("_")[-1]))
  ]


def test_mlp_is_the_classic_pytorch_network():
  g, d = models.build("mlp", (28, 28, 1), z_dim=100)
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
  _, d = models.build("mlp", (28, 28, 1))
  x = jax.random.normal(jax.random.key(0), (4, 28, 28, 1))
  v = d.init(jax.random.key(1), x)
  eval_a = d.apply(v, x, train=False)
  eval_b = d.apply(v, x, train=False)
  np.testing.assert_array_equal(eval_a, eval_b)
  train_a = d.apply(v, x, train=True, rngs={"dropout": jax.random.key(2)})
  train_b = d.apply(v, x, train=True, rngs={"dropout": jax.random.key(3)})
  assert not np.allclose(train_a, train_b)


def test_dcgan_batch_norm_state():
  g, _ = models.build("dcgan", (28, 28, 1), z_dim=8)
  z = jax.random.normal(jax.random.key(0), (6, 8))
  v = g.init(jax.random.key(1), z, train=False)
  assert "batch_stats" in v
  _, new = g.apply(v, z, train=True, mutable=["batch_stats"])
  changed = jax.tree.map(lambda a, b: bool((a != b).any()), v["batch_stats"], new["batch_stats"])
  assert all(jax.tree.leaves(changed))


def test_dcgan_rejects_odd_sizes():
  g, _ = models.build("dcgan", (30, 30, 1), z_dim=8)
  with pytest.raises(ValueError, match="divisible by 4"):
    g.init(jax.random.key(0), jnp.zeros((1, 8)))


def test_paper_mlps_are_the_papers_networks():
  """PacGAN's G (4×400, batch norm, no bias) and maxout D (3×200 of 5 pieces) for packs of 3;
  Goodfellow et al.'s maxout D (2×240 of 5) and sigmoid G (as tanh(a/2) on [−1, 1])."""
  g, d = models.build("pacgan_mlp", (2,), pack=3)
  g_vars = g.init(jax.random.key(0), jnp.zeros((4, 2)), train=False)
  d_vars = d.init(jax.random.key(1), jnp.zeros((4, 6)), train=False)
  g_dense = {k: v for k, v in g_vars["params"]["net"].items() if k.startswith("Dense")}
  assert _layer_shapes(g_dense) == [(2, 400), (400, 400), (400, 400), (400, 400), (400, 2)]
  assert "bias" not in g_dense["Dense_0"] and "bias" in g_dense["Dense_4"]
  assert _layer_shapes(d_vars["params"]) == [(6, 1000), (200, 1000), (200, 1000), (200, 1)]
  assert float(jnp.std(d_vars["params"]["Dense_1"]["kernel"])) == pytest.approx(0.02, rel=0.05)
  # A maxout unit is the largest of its 5 pieces.
  x = jax.random.normal(jax.random.key(2), (4, 6))
  h = models.PaperMLP((200,), 1, "maxout")
  v = h.init(jax.random.key(3), x)
  pieces = x @ v["params"]["Dense_0"]["kernel"] + v["params"]["Dense_0"]["bias"]
  hidden = pieces.reshape(4, 200, 5).max(-1)
  want = hidden @ v["params"]["Dense_1"]["kernel"] + v["params"]["Dense_1"]["bias"]
  np.testing.assert_allclose(h.apply(v, x), want[:, 0], rtol=1e-5)
  g, d = models.build("goodfellow_mlp", (28, 28, 1))
  d_vars = d.init(jax.random.key(4), jnp.zeros((2, 28, 28, 1)), train=False)
  assert _layer_shapes(d_vars["params"]) == [(784, 1200), (240, 1200), (240, 1)]
  assert float(jnp.abs(d_vars["params"]["Dense_0"]["kernel"]).max()) <= 0.005


def test_a_population_of_orthogonally_initialized_gans_initializes():
  """The vmapped init of ``unrolled_mlp`` (batched QR) never finished on XLA:CPU; the
  population's init maps over members instead. Run apart, so a regression fails, not hangs."""
  import subprocess
  import sys

  from conftest import REPO

  code = (
    "import jax; from jaxgan.sweeps import population; from jaxgan.config import make_config; "
    "from jaxgan.core.build import build_gan; "
    "gan = build_gan(make_config(arch='unrolled_mlp', dataset='ring', loss='mm'), (2,)); "
    "s = population.make_init(gan)(jax.random.split(jax.random.key(0), 4)); "
    "print(s.g_params['net']['Dense_0']['kernel'].shape)"
  )
  out = subprocess.run(
    [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
  )
  assert out.stdout.strip() == "(4, 256, 128)", out.stderr[-2000:]
