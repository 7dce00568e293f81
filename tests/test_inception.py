"""The FID Inception-v3 port's parts: the PyTorch-free weight reader, TF 1's bilinear resize and
batch normalization folded into a convolution. The whole network against torch-fidelity's, with
the same weights, is `python -m bench.inception_reference` (BENCHMARKS.md): it needs torch."""

import pickle
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import PIL.Image
import pytest

from jaxgan.eval import inception, torch_weights

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_a_torch_state_dict_reads_without_torch(fmt):
  got = torch_weights.load_state_dict(str(DATA / f"state_dict_{fmt}.pth"))
  want = np.load(DATA / "state_dict_values.npz")
  assert list(got) == list(want)  # the saved order
  for name in want:
    np.testing.assert_array_equal(got[name], want[name])
    assert got[name].dtype == want[name].dtype


def test_a_file_that_is_no_state_dict_is_refused(tmp_path):
  class Evil:
    def __reduce__(self):
      return (print, ("ran",))

  (tmp_path / "evil.pth").write_bytes(pickle.dumps({"w": Evil()}))
  (tmp_path / "text.pth").write_text("not weights")
  for name, message in (("evil.pth", "builtins.print"), ("text.pth", "not a PyTorch")):
    with pytest.raises(torch_weights.UnreadableWeights, match=message):
      torch_weights.load_state_dict(str(tmp_path / name))


def test_tf1_bilinear_reads_source_pixel_i_times_in_over_out():
  np.testing.assert_array_equal(inception.resize_matrix(3, 3), np.eye(3))
  up = inception.resize_matrix(2, 4)  # sources 0, 0.5, 1, 1.5 (the last clamped)
  np.testing.assert_allclose(up, [[1, 0], [0.5, 0.5], [0, 1], [0, 1]])
  down = inception.resize_matrix(4, 2)  # sources 0 and 2: no averaging (no antialiasing)
  np.testing.assert_allclose(down, [[1, 0, 0, 0], [0, 0, 1, 0]])
  grey = np.full((1, 5, 5, 1), 200, np.uint8)
  x = inception.preprocess(jnp.asarray(grey))
  assert x.shape == (1, 299, 299, 3)
  np.testing.assert_allclose(x, (200 - 128) / 128, rtol=1e-6)


def test_batch_norm_is_folded_into_its_convolution():
  """One BasicConv from a state dict against convolution, then BN (ε = 0.001), then ReLU."""
  rng = np.random.default_rng(0)
  state = {
    "conv.weight": rng.normal(size=(4, 3, 3, 3)).astype(np.float32),  # O, I, kh, kw
    "bn.weight": rng.uniform(0.5, 1.5, 4).astype(np.float32),
    "bn.bias": rng.normal(size=4).astype(np.float32),
    "bn.running_mean": rng.normal(size=4).astype(np.float32),
    "bn.running_var": rng.uniform(0.5, 1.5, 4).astype(np.float32),
  }
  scale = state["bn.weight"] / np.sqrt(state["bn.running_var"] + 1e-3)
  params = {
    "conv": {
      "kernel": state["conv.weight"].transpose(2, 3, 1, 0) * scale,
      "bias": state["bn.bias"] - state["bn.running_mean"] * scale,
    }
  }
  layer = inception.BasicConv(4, (3, 3), padding=(1, 1))
  x = rng.normal(size=(2, 6, 6, 3)).astype(np.float32)
  got = layer.apply({"params": params}, x)
  conv = jax.lax.conv_general_dilated(
    x, state["conv.weight"].transpose(2, 3, 1, 0), (1, 1), "SAME",
    dimension_numbers=("NHWC", "HWIO", "NHWC"), precision=jax.lax.Precision.HIGHEST,
  )  # fmt: skip
  bn = (conv - state["bn.running_mean"]) * scale + state["bn.bias"]
  np.testing.assert_allclose(got, np.maximum(bn, 0), rtol=1e-4, atol=1e-5)


def test_the_state_dict_maps_onto_every_parameter_of_the_network():
  template = jax.eval_shape(
    lambda: inception.InceptionV3().init(jax.random.key(0), jnp.zeros((1, 299, 299, 3)))
  )["params"]
  state = {}
  for path, leaf in jax.tree_util.tree_flatten_with_path(template)[0]:
    names = [p.key for p in path]
    prefix = ".".join(names[:-2])
    if names[0] == "fc":
      state["fc.weight"] = np.zeros(leaf.shape[::-1], np.float32)
    elif names[-1] == "kernel":
      kh, kw, i, o = leaf.shape
      state[f"{prefix}.conv.weight"] = np.zeros((o, i, kh, kw), np.float32)
      for stat in ("weight", "bias", "running_mean", "running_var"):
        state[f"{prefix}.bn.{stat}"] = np.ones(o, np.float32)
  assert len(state) == 94 * 5 + 1  # the FID network's 94 conv+BN blocks and its classifier
  params = inception.params_from_state_dict(state)
  assert jax.tree.structure(params) == jax.tree.structure(template)
  state["Mixed_7c.branch_pool.conv.weight"] = np.zeros((192, 2048, 3, 3), np.float32)
  with pytest.raises(torch_weights.UnreadableWeights, match="Mixed_7c.branch_pool"):
    inception.params_from_state_dict(state)


def _random_params(seed=0):
  """He-normal kernels and small biases in the network's own shapes (no weight file)."""
  template = jax.eval_shape(
    lambda: inception.InceptionV3().init(jax.random.key(0), jnp.zeros((1, 299, 299, 3)))
  )["params"]
  leaves, tree = jax.tree.flatten(template)
  rng = np.random.default_rng(seed)
  made = []
  for leaf in leaves:
    fan_in = int(np.prod(leaf.shape[:-1])) if len(leaf.shape) > 1 else 1
    std = np.sqrt(2.0 / fan_in) if len(leaf.shape) > 1 else 0.01
    made.append(jnp.asarray(rng.normal(0.0, std, leaf.shape), jnp.float32))
  return jax.tree.unflatten(tree, made)


def test_an_unlabelled_folder_is_scored_in_inception_features(tmp_path, monkeypatch):
  """Random weights (the real file is not here): every metric comes out finite, the folder
  scores near zero against itself and far from noise, and its reference features are cached."""
  from jaxgan.data import datasets
  from jaxgan.eval import inception_scorer

  root = tmp_path / "stripes"
  root.mkdir()
  ramp = np.linspace(0, 255, 16).astype(np.uint8)[None, :, None] * np.ones((16, 1, 3), np.uint8)
  for i in range(10):  # the Inception Score takes 10 splits
    PIL.Image.fromarray(np.roll(ramp, i, axis=1)).save(root / f"{i}.png")
  weights = tmp_path / "weights.pth"
  weights.write_bytes(b"a stand-in: the parameters come from _random_params")
  monkeypatch.setattr(inception_scorer, "_params", lambda path: _random_params())
  monkeypatch.setattr(inception, "SIZE", 75)  # the smallest input the network takes: 16× cheaper
  monkeypatch.setenv("JAXGAN_CACHE", str(tmp_path / "cache"))
  data_dir = str(tmp_path / "tfds")
  scorer = inception_scorer.InceptionDistance.for_dataset(f"folder:{root}", data_dir, str(weights))
  assert scorer.reference_features.shape == (10, 2048)
  assert scorer.reference_name == f"folder:{root} train split"
  real = datasets.load_images(f"folder:{root}", "train", data_dir)
  noise = np.random.default_rng(0).integers(0, 256, (10, 16, 16, 3), dtype=np.uint8)
  small = dict(kid_subsets=2, kid_subset_size=3)
  on_real, on_noise = scorer.metrics(real, **small), scorer.metrics(noise, **small)
  assert abs(on_real["fd"]) < 1e-3 * on_noise["fd"]
  assert all(np.isfinite(v) for v in on_noise.values() if isinstance(v, float)), on_noise
  assert on_real["feature_space"].startswith("Inception-v3 pool3")
  assert len(list((tmp_path / "cache" / "inception").glob("folder-stripes-train-*.npz"))) == 1
