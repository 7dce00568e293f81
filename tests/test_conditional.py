"""Class-conditional GANs (jaxgan.nets.conditional): each way's formula by hand, the labels
through the update, the feeds and the devices, every architecture × way × control traced, and
a sweep of conditional members (a conditional run, its pictures and its evaluation end to end:
tests/test_evaluation.py, whose tiny run is an AC-GAN)."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxgan.config import ConfigError, make_config
from jaxgan.core import gan as gan_lib
from jaxgan.core import losses
from jaxgan.core.build import build_gan
from jaxgan.data import pixels
from jaxgan.nets import conditional, models
from jaxgan.run import feed
from jaxgan.run.driver import Run

from conftest import CLASSIFIER_STEPS
from helpers import assert_trees_close, fake_data, run_module

K = 10
SHAPE = (8, 8, 1)


def conditional_gan(arch="mlp", way="acgan", shape=SHAPE, **overrides):
  cfg = make_config(arch=arch, conditional=way, dataset="fashion_mnist", **overrides)
  return build_gan(cfg, shape, 100, num_classes=K)


def tiny_acgan(**overrides):
  """An AC-GAN of mlp's kind with one hidden layer of 16 (compiles in a fraction of mlp's time)."""
  gan = conditional_gan("mlp", "acgan", **overrides)
  g = conditional.ConcatGenerator(models.MLPGenerator(SHAPE, gan.z_dim + K, hidden=(16,)), K)
  trunk = models.MLPDiscriminator(SHAPE, hidden=(16,), dropout=0.3, features=0)
  d = conditional.ACGANDiscriminator(trunk, K, spectral=False)
  return dataclasses.replace(gan, generator=g, discriminator=d)


def batch(n=8, seed=0):
  images = pixels.to_unit_range(fake_data(n, seed + 1)[:, :8, :8])
  return images, jax.random.randint(jax.random.key(seed), (n,), 0, K)


def test_conditional_batch_norm_scales_and_shifts_by_the_class():
  x = jax.random.normal(jax.random.key(0), (6, 3, 3, 4))
  y = jnp.array([0, 1, 2, 0, 1, 2])
  cbn = models.ConditionalBatchNorm(3)
  variables = cbn.init(jax.random.key(1), x, y, True)
  gamma = jax.random.uniform(jax.random.key(2), (3, 4), minval=0.5, maxval=2)
  beta = jax.random.normal(jax.random.key(3), (3, 4))
  params = {"scale": {"embedding": gamma}, "shift": {"embedding": beta}}
  out, _ = cbn.apply({**variables, "params": params}, x, y, True, mutable=["batch_stats"])
  mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
  by_hand = gamma[y][:, None, None] * (x - mean) / np.sqrt(var + 1e-5) + beta[y][:, None, None]
  np.testing.assert_allclose(out, by_hand, rtol=1e-4, atol=1e-5)


def test_projection_discriminator_is_psi_plus_the_class_projection():
  """D(x, y) = ψ(φ(x)) + ⟨V_y, φ(x)⟩ with φ the architecture's D up to its last layer."""
  trunk = models.MLPDiscriminator(SHAPE, hidden=(5,), dropout=0.0, features=0)
  d = conditional.ProjectionDiscriminator(trunk, K, spectral=False)
  x, y = batch(4)
  params = d.init(jax.random.key(0), x, False, labels=y)["params"]
  phi = trunk.apply({"params": params["net"]}, x, False)
  psi = phi @ params["psi"]["kernel"][:, 0] + params["psi"]["bias"][0]
  v = params["embed"]["kernel"]  # (K, features): row y is V_y
  by_hand = psi + jnp.sum(v[y] * phi, axis=1)
  np.testing.assert_allclose(d.apply({"params": params}, x, False, labels=y), by_hand, rtol=1e-5)


def test_acgan_adds_the_class_cross_entropy_to_both_players():
  """L_D gains w·(CE(C(x), y) + CE(C(G(z, y')), y')), L_G gains w·CE(C(G(z, y')), y')."""
  x, y = batch(8)
  fake, y_fake = batch(8, seed=5)
  k_r, k_f, k_p = jax.random.split(jax.random.key(1), 3)
  keys = (k_r, k_f, k_p, jax.random.split(jax.random.key(2), 8))
  out = {}
  for w in (0.0, 2.0):
    gan = tiny_acgan(acgan_weight=w)
    state = gan.init(jax.random.key(0))
    out[w] = jax.jit(
      lambda: gan_lib.d_objective(
        gan, state.d_params, state.d_state, x, fake, None, keys, (y, y_fake)
      )
    )()
    g = jax.jit(
      lambda: gan_lib.g_objective(
        gan,
        state.g_params,
        state.g_state,
        state.d_params,
        state.d_state,
        gan.latents(jax.random.key(3), 8),
        x,
        None,
        jax.random.key(4),
        (y, y_fake),
      )  # fmt: skip
    )()
    out[w, "g"] = (g[0], g[1][2]["g_class"])
  # The class logits D gives in d_objective (the same dropout keys), and their CE by hand.
  class_logits = lambda v, k: np.asarray(
    gan_lib._apply_d(gan, state.d_params, state.d_state, v, k)[0][1], np.float64
  )
  ce = lambda z, labels: -np.mean((z - np.log(np.exp(z).sum(1, keepdims=True)))[range(8), labels])
  by_hand = ce(class_logits(x, k_r), np.asarray(y)) + ce(
    class_logits(fake, k_f), np.asarray(y_fake)
  )
  classes = float(out[2.0][1][4])
  assert classes == pytest.approx(by_hand, rel=1e-5)
  assert float(out[2.0][0]) - float(out[0.0][0]) == pytest.approx(2.0 * classes, rel=1e-5)
  g_class = float(out[2.0, "g"][1])
  assert 0 < g_class and g_class == pytest.approx(float(out[0.0, "g"][1]))
  assert float(out[2.0, "g"][0]) - float(out[0.0, "g"][0]) == pytest.approx(2 * g_class, rel=1e-5)


def test_generated_classes_are_drawn_per_example_apart_from_the_latents():
  key = jax.random.key(4)
  whole = gan_lib.sample_labels(key, 4000, K)
  np.testing.assert_array_equal(whole[8:16], gan_lib.sample_labels(key, 8, K, offset=8))
  counts = np.bincount(np.asarray(whole), minlength=K)
  assert counts.min() > 330 and counts.max() < 470  # uniform: 400 ± 5σ (σ ≈ 19)
  # a conditional GAN draws the same z as an unconditional one from the same key
  cond, plain = conditional_gan(), build_gan(make_config(arch="mlp"), SHAPE)
  np.testing.assert_array_equal(cond.latents(key, 5), plain.latents(key, 5))
  assert plain.fake_labels(key, 5) is None


def test_the_update_requires_labels_exactly_when_conditional():
  x, y = batch(8)
  cond, plain = conditional_gan("mlp", "concat"), build_gan(make_config(arch="mlp"), SHAPE)
  with pytest.raises(ValueError, match="needs the images' labels"):
    cond.update(cond.init(jax.random.key(0)), x, jax.random.key(1))
  with pytest.raises(ValueError, match="takes no labels"):
    plain.update(plain.init(jax.random.key(0)), x, jax.random.key(1), y)


@pytest.mark.parametrize(
  "settings,message",
  [
    (dict(dataset="ring"), "needs a labelled image dataset"),
    (dict(loss="began"), "autoencoder, which takes no class"),
    (dict(arch="mlp", conditional="projection"), "takes --conditional=concat or acgan"),
    (dict(arch="dcgan", conditional="acgan", pack=2), "--pack needs --conditional=concat"),
  ],
)
def test_impossible_conditional_settings_are_refused(settings, message):
  with pytest.raises(ConfigError, match=message):
    make_config(**{"conditional": "acgan", **settings})


# Every architecture that takes a class, each of its ways, and every loss (BEGAN's autoencoder D
# takes no class) and control on one MLP and one convolutional way: the update traces
# (jax.eval_shape: no compile) with the metrics it names.
ARCH_WAYS = [(a, w) for a in models.ARCHS.names() for w in models.ARCHS.get(a).conditionals]
LOSSES = [dict(loss=n) for n in losses.LOSSES.names() if not losses.LOSSES.get(n).needs_autoencoder]
CONTROLS = LOSSES + [
  dict(penalty="r1"), dict(penalty="r2"), dict(n_disc=2), dict(simultaneous=True, consensus=1.0),
  dict(unroll=1), dict(ema_decay=0.99, instance_noise=0.1), dict(compute_dtype="bfloat16"),
]  # fmt: skip


def trace(gan, n_disc=1):
  state = jax.eval_shape(gan.init, jax.random.key(0))
  lead = (n_disc, 8) if n_disc > 1 else (8,)
  x = jax.ShapeDtypeStruct((*lead, *gan.image_shape), jnp.float32)
  y = jax.ShapeDtypeStruct(lead, jnp.int32)
  return jax.eval_shape(gan.update, state, x, jax.random.key(1), y)[1]


@pytest.mark.parametrize("arch,way", ARCH_WAYS)
def test_every_architecture_traces_each_of_its_ways(arch, way):
  metrics = trace(conditional_gan(arch, way, shape=(16, 16, 1), z_dim=8))
  assert ("d_class" in metrics) == (way == "acgan") == ("g_class" in metrics)


@pytest.mark.parametrize("arch,way", [("mlp", "acgan"), ("dcgan", "projection")])
def test_every_control_traces_with_a_conditional_gan(arch, way):
  for control in CONTROLS:
    gan = conditional_gan(arch, way, shape=(16, 16, 1), z_dim=8, **control)
    assert "d_loss" in trace(gan, control.get("n_disc", 1)), control


def test_packing_takes_each_samples_class_with_concat():
  assert "d_loss" in trace(conditional_gan("mlp", "concat", shape=(16, 16, 1), pack=2))


def test_sharded_conditional_update_equals_one_device():
  """The classes of generated examples are per-example draws: 8 devices equal one (SGD)."""
  if jax.device_count() < 8:
    pytest.skip("needs 8 (fake CPU) devices; conftest sets XLA_FLAGS")
  gan = tiny_acgan(optimizer="sgd", lr=0.5)
  x, y = batch(16)
  state = gan.init(jax.random.key(0))
  expected, _ = jax.jit(gan.update)(state, x, jax.random.key(7), y)
  mesh = Mesh(np.array(jax.devices()[:8]), ("batch",))
  put = lambda a, spec: jax.device_put(a, NamedSharding(mesh, spec))
  got, _ = jax.jit(gan.update)(
    put(state, P()), put(x, P("batch")), jax.random.key(7), put(y, P("batch"))
  )
  assert_trees_close(got, expected, atol=1e-5)


def test_the_host_sends_the_labels_of_the_images_it_sends():
  images, labels = np.asarray(fake_data(64)), np.arange(64, dtype=np.int32) % K
  run = Run(make_config(batch_size=4, conditional="concat"), images.shape[1:], num_classes=K)
  host = feed.HostFeed(run, (images, labels))
  try:
    got_images, got_labels = host._batches(5, 3)
  finally:
    host.close()
  index = np.asarray(host._indices(5, 3))
  np.testing.assert_array_equal(got_images, images[index])
  np.testing.assert_array_equal(got_labels, labels[index])


CLASSIFIER = f"--classifier_steps={CLASSIFIER_STEPS}"  # one cached training a session


@pytest.mark.long
def test_a_sweep_trains_conditional_members_in_their_own_group(fashion_env, tmp_path):
  workdir = tmp_path / "sweep"
  run_module(
    "experiments.sweep",
    ["--grid=conditional:none,acgan", "--seeds=2", "--dataset=fashion_mnist", "--split=test",
     "--steps=20", "--eval_samples=200", "--progress=false", f"--workdir={workdir}", CLASSIFIER],
    fashion_env,
  )  # fmt: skip
  rows = [json.loads(line) for line in open(workdir / "results.jsonl")]
  assert sorted(r["config"]["conditional"] for r in rows) == ["acgan", "acgan", "none", "none"]
  for r in rows:
    (record,) = [json.loads(line) for line in open(workdir / r["config"]["workdir"] / "eval.jsonl")]
    assert ("intra_class_fd" in record) == (r["config"]["conditional"] == "acgan")
    assert ("g_class" in r["final"]) == (r["config"]["conditional"] == "acgan")
