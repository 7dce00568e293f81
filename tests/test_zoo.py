"""Every loss (with the controls it implies) × every architecture trains without NaN, and
spectral normalization does what it claims."""

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.backend import xla_options
from jaxgan.config import make_config
from jaxgan.core import losses
from jaxgan.core.build import build_gan
from jaxgan.core.gan import UpdateOptions
from jaxgan.nets import models
from jaxgan.run import train_steps

SHAPE = (16, 16, 1)  # small images keep the CPU time down; every architecture accepts them
Z_DIM = 8
# goodfellow_mlp is left out: its layers (dense, maxout, dropout) are those of mlp and
# pacgan_mlp, its shapes are checked in test_models, and it trains in goodfellow2014's
# reproduction (compiling its updates here would cost the suite more than it checks).
IMAGE_ARCHS = [
  a for a in models.ARCHS.names() if not models.ARCHS.get(a).points and a != "goodfellow_mlp"
]
# sndcgan and resnet compile for 10-20 s per update on the CPU, about half the module's time:
# their cases are long checks (`make test-long`); test_models traces both in the suite.
HEAVY = ("sndcgan", "resnet")


def cases(archs):
  return [pytest.param(a, marks=pytest.mark.long) if a in HEAVY else a for a in archs]


# Losses that differ only in their function of the logits (no implied control, no state).
# Compiling the update is what costs on the CPU (10-20 s for sndcgan and resnet), so these
# share one compiled update per architecture, the loss picked by lax.switch on an index.
PLAIN = tuple(
  n
  for n in losses.LOSSES.names()
  if not losses.LOSSES.get(n).implies and not losses.LOSSES.get(n).stateful
)


def gan_for(arch: str, loss: str):
  """The GAN the training loop builds for this loss and architecture (Adam 1e-3)."""
  return build_gan(make_config(loss=loss, arch=arch, z_dim=Z_DIM, lr=1e-3), SHAPE)


@functools.cache
def initial_state(arch: str, loss: str):
  return xla_options.jit_init(gan_for(arch, loss).init)(jax.random.key(0))


def switched_loss(index) -> losses.LossSpec:
  """PLAIN[index] as one loss: lax.switch over the PLAIN losses' functions."""
  branches = [lambda r, f, fn=losses.LOSSES.get(n): tuple(fn(r, f)[:2]) for n in PLAIN]
  return losses.LossSpec(lambda r, f: losses.Losses(*jax.lax.switch(index, branches, r, f)))


@functools.cache
def switched_step(arch: str):
  """One jitted train step for every PLAIN loss: ``step(state, data, key, loss_index)``."""
  gan = gan_for(arch, PLAIN[0])

  def step(state, data, key, index):
    switched = dataclasses.replace(gan, loss=switched_loss(index))
    return train_steps.make_train_step(switched, 8)(state, data, key)

  return jax.jit(step)


DATA = jax.random.randint(jax.random.key(1), (32, *SHAPE), 0, 256).astype(jnp.uint8)


def train_two_steps_and_check(step, state, label):
  for _ in range(2):
    state, metrics = step(state, DATA, jax.random.key(2))
  assert int(state.step) == 2, label
  for name, value in metrics.items():
    assert bool(jnp.isfinite(value)), (label, name, value)
  params = jax.tree.leaves((state.g_params, state.d_params))
  assert all(bool(jnp.isfinite(p).all()) for p in params), label
  return state


@pytest.mark.parametrize("arch", cases(IMAGE_ARCHS))
def test_plain_losses_train_on_every_architecture(arch):
  """mm, ns, lsgan, hinge, rsgan, ragan: two steps each, one compiled update."""
  state = initial_state(arch, PLAIN[0])
  for index, loss in enumerate(PLAIN):
    assert gan_for(arch, loss).options == UpdateOptions()
    step = functools.partial(switched_step(arch), index=index)
    train_two_steps_and_check(step, state, f"{arch} × {loss}")


# Weight clipping is one tree_map over D's parameters, whatever D is: wgan runs on a dense and
# a convolutional D (test_controls checks the clip itself). The gradient penalties
# differentiate through D's input gradient, which is where an architecture can break: wgan_gp
# does that on every architecture; dragan's penalty is the same double backward pass at other
# points (test_penalties checks those points), so it runs on the dense and convolutional Ds.
# BEGAN rebuilds D as an autoencoder of the architecture, so it runs on every one. (wgan and
# dragan on the other three cost about 70 s of the suite's CPU time for no path not taken.)
TWO_ARCHS = ("wgan", "dragan")
CONTROLLED = [
  pytest.param(arch, loss, marks=[pytest.mark.long] if arch in HEAVY else [])
  for arch in IMAGE_ARCHS
  for loss in losses.LOSSES.names()
  if loss not in PLAIN
  if loss not in TWO_ARCHS or arch in ("mlp", "dcgan")
]


@pytest.mark.parametrize("arch,loss", CONTROLLED)
def test_losses_with_controls_train_on_every_architecture(arch, loss):
  """wgan (clip), wgan_gp (gp), dragan (its penalty), began (autoencoder D and k_t)."""
  gan = gan_for(arch, loss)
  assert gan.options != UpdateOptions() or gan.loss.stateful
  step = jax.jit(train_steps.make_train_step(gan, 8))
  state = train_two_steps_and_check(step, initial_state(arch, loss), f"{arch} × {loss}")
  if gan.loss.stateful:  # BEGAN's k stays in [0, 1]
    assert 0.0 <= float(state.loss_state["k"]) <= 1.0


def test_switched_loss_is_the_named_one():
  """The index picks PLAIN[index]: the switched loss equals the registered function."""
  real, fake = jnp.array([0.3, -2.0]), jnp.array([1.0, 0.5])
  branches = [lambda r, f, fn=losses.LOSSES.get(n): tuple(fn(r, f)[:2]) for n in PLAIN]
  for i, name in enumerate(PLAIN):
    got = jax.jit(lambda r, f, i: jax.lax.switch(i, branches, r, f))(real, fake, i)
    want = losses.LOSSES.get(name)(real, fake)
    np.testing.assert_allclose(got, tuple(want)[:2], rtol=1e-6)


def test_began_discriminator_is_an_autoencoder_of_the_architecture():
  d, state = gan_for("infogan", "began").discriminator, initial_state("infogan", "began")
  assert isinstance(d, models.AutoencoderDiscriminator)
  x = jax.random.uniform(jax.random.key(3), (4, *SHAPE), minval=-1, maxval=1)
  variables = {"params": state.d_params, **state.d_state}
  errors = d.apply(variables, x, train=False)
  bound = d.bind(variables)
  code = bound.encoder(x, train=False)
  recon = bound.decoder(code, train=False)
  assert errors.shape == (4,) and recon.shape == x.shape
  np.testing.assert_allclose(errors, jnp.abs(x - recon).mean(axis=(1, 2, 3)), rtol=1e-5)
  assert code.shape == (4, 64)


def test_spectral_norm_brings_top_singular_value_to_one():
  layer = models.NormedLayer(nn.Dense(16), norm="spectral")
  x = jax.random.normal(jax.random.key(0), (4, 32))
  variables = layer.init(jax.random.key(1), x, train=False)
  kernel = [
    v
    for p, v in jax.tree_util.tree_leaves_with_path(variables["params"])
    if "kernel" in jax.tree_util.keystr(p)
  ][0]
  assert float(jnp.linalg.svd(kernel, compute_uv=False)[0]) > 1.5  # far from 1 at init
  state = {"batch_stats": variables["batch_stats"]}
  for _ in range(30):  # power iterations, one per training-mode call
    _, state = layer.apply(
      {"params": variables["params"], **state}, x, train=True, mutable=["batch_stats"]
    )
  stats = jax.tree_util.tree_leaves_with_path(state["batch_stats"])
  sigma = [v for p, v in stats if "sigma" in jax.tree_util.keystr(p)][0]
  normalized = kernel / sigma
  np.testing.assert_allclose(jnp.linalg.svd(normalized, compute_uv=False)[0], 1.0, atol=1e-2)
  # The eval-mode output is that of the normalized weight.
  out = layer.apply({"params": variables["params"], **state}, x, train=False)
  bias = [
    v
    for p, v in jax.tree_util.tree_leaves_with_path(variables["params"])
    if "bias" in jax.tree_util.keystr(p)
  ][0]
  np.testing.assert_allclose(out, x @ normalized + bias, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("norm", ["batch", "layer", "spectral"])
def test_d_norm_is_switchable(norm):
  _, d = models.build("infogan", SHAPE, 8, d_norm=norm)
  v = d.init(jax.random.key(0), jnp.zeros((2, *SHAPE)), train=False)
  names = str(jax.tree_util.tree_structure(v))
  assert {"batch": "BatchNorm", "layer": "LayerNorm", "spectral": "SpectralNorm"}[norm] in names


def test_infogan_latents_are_uniform():
  gan = build_gan(make_config(arch="infogan"), SHAPE)
  assert gan.z_dim == 64 and gan.z_prior == "uniform"
  z = gan.latents(jax.random.key(0), 256)
  assert float(z.min()) >= -1 and float(z.max()) <= 1 and float(jnp.abs(z).mean()) > 0.45
