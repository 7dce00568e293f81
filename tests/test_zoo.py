"""Every loss (with the controls it implies) × every architecture trains without NaN, and
spectral normalization does what it claims."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import flax.linen as nn

from jaxgan import losses, models, train
from jaxgan.loop import TrainConfig, update_options

SHAPE = (16, 16, 1)  # small images keep the CPU time down; every architecture accepts them


@functools.lru_cache(maxsize=None)
def initial_state(arch: str):
  """One initial state per architecture, shared by the losses (init does not depend on them)."""
  g, d = models.ARCHS.get(arch)(SHAPE, 8)
  tx = train.adam(1e-3)
  return train.init_state(jax.random.key(0), g, d, tx, tx, SHAPE, 8)


@pytest.mark.parametrize("loss", losses.LOSSES.names())
@pytest.mark.parametrize("arch", models.ARCHS.names())
def test_every_loss_and_architecture_trains(arch, loss):
  z_dim = 8
  g, d = models.ARCHS.get(arch)(SHAPE, z_dim)
  options = update_options(TrainConfig(loss=loss, arch=arch))
  tx = train.adam(1e-3)
  state = initial_state(arch)
  update = train.make_update(g, d, losses.LOSSES.get(loss), tx, tx, z_dim, options=options)
  step = jax.jit(train.make_train_step(update, 8, options.n_disc))
  data = jax.random.randint(jax.random.key(1), (32, *SHAPE), 0, 256).astype(jnp.uint8)
  for i in range(2):
    state, metrics = step(state, data, jax.random.key(2))
  assert int(state.step) == 2
  for name, value in metrics.items():
    assert bool(jnp.isfinite(value)), (name, value)
  assert all(bool(jnp.isfinite(p).all()) for p in jax.tree.leaves((state.g_params, state.d_params)))


def test_spectral_norm_brings_top_singular_value_to_one():
  layer = models.NormedLayer(nn.Dense(16), norm="spectral")
  x = jax.random.normal(jax.random.key(0), (4, 32))
  variables = layer.init(jax.random.key(1), x, train=False)
  kernel = [v for p, v in jax.tree_util.tree_leaves_with_path(variables["params"])
            if "kernel" in jax.tree_util.keystr(p)][0]
  assert float(jnp.linalg.svd(kernel, compute_uv=False)[0]) > 1.5  # far from 1 at init
  state = {"batch_stats": variables["batch_stats"]}
  for _ in range(30):  # power iterations, one per training-mode call
    _, state = layer.apply({"params": variables["params"], **state}, x, train=True,
                           mutable=["batch_stats"])
  stats = jax.tree_util.tree_leaves_with_path(state["batch_stats"])
  sigma = [v for p, v in stats if "sigma" in jax.tree_util.keystr(p)][0]
  normalized = kernel / sigma
  np.testing.assert_allclose(jnp.linalg.svd(normalized, compute_uv=False)[0], 1.0, atol=1e-2)
  # The eval-mode output is that of the normalized weight.
  out = layer.apply({"params": variables["params"], **state}, x, train=False)
  bias = [v for p, v in jax.tree_util.tree_leaves_with_path(variables["params"])
          if "bias" in jax.tree_util.keystr(p)][0]
  np.testing.assert_allclose(out, x @ normalized + bias, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("norm", ["batch", "layer", "spectral"])
def test_d_norm_is_switchable(norm):
  _, d = models.ARCHS.get("infogan")(SHAPE, 8, d_norm=norm)
  v = d.init(jax.random.key(0), jnp.zeros((2, *SHAPE)), train=False)
  names = str(jax.tree_util.tree_structure(v))
  assert {"batch": "BatchNorm", "layer": "LayerNorm", "spectral": "SpectralNorm"}[norm] in names


def test_infogan_latents_are_uniform():
  g, _ = models.ARCHS.get("infogan")(SHAPE)
  assert models.default_z_dim("infogan") == 64 and train.latent_prior(g) == "uniform"
  z = train.sample_latents(jax.random.key(0), 256, 64, prior="uniform")
  assert float(z.min()) >= -1 and float(z.max()) <= 1 and float(jnp.abs(z).mean()) > 0.45
