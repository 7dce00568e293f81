"""Sample quality: the Fréchet distance by its formula, and the classifier score on real data."""

import numpy as np
import pytest
import scipy.linalg

from jaxgan.eval import feature_metrics as fm
from jaxgan.eval import quality

from conftest import CLASSIFIER_STEPS

# One worker runs this module, so the classifier fixture below is trained once.
pytestmark = pytest.mark.xdist_group("quality")


def test_frechet_distance_of_one_dimensional_gaussians():
  # N(1, 4) and N(-2, 1): (μ₁ − μ₂)² + (σ₁ − σ₂)² = 9 + (2 − 1)² = 10.
  assert fm.frechet_distance([1.0], [[4.0]], [-2.0], [[1.0]]) == pytest.approx(10.0)


def test_frechet_distance_of_diagonal_gaussians():
  mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
  v1, v2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
  expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)  # 5 + 5
  assert fm.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected)
  assert expected == pytest.approx(10.0)


def test_frechet_distance_matches_the_general_matrix_square_root():
  rng = np.random.default_rng(0)
  a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
  s1, s2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)  # Σ₁Σ₂ not symmetric
  mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
  reference = (
    np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2) - 2 * np.trace(scipy.linalg.sqrtm(s1 @ s2)).real
  )
  got = fm.frechet_distance(mu1, s1, mu2, s2)
  assert got == pytest.approx(reference, rel=1e-9)
  assert fm.frechet_distance(mu2, s2, mu1, s1) == pytest.approx(got, rel=1e-9)
  assert fm.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)


@pytest.fixture(scope="module")
def fashion(shared_data):
  """Fashion-MNIST read straight from its IDX files, for classifiers of a few steps."""
  from jaxgan.data.datasets import read_idx

  read = lambda name: read_idx(shared_data / "fashion-mnist" / f"{name}-ubyte.gz")
  return (
    read("train-images-idx3")[:10000, ..., None],
    read("train-labels-idx1")[:10000],
    read("t10k-images-idx3")[..., None],
    read("t10k-labels-idx1"),
  )


def session_classifier(fashion_env):
  """The feature classifier of every test's Fashion-MNIST evaluations (the sweep's, the
  runs'): trained once a session on the train split, cached in the session's jaxgan cache."""
  return quality.FrechetClassifierDistance.for_dataset(
    "fashion_mnist",
    data_dir=fashion_env["TFDS_DATA_DIR"],
    steps=CLASSIFIER_STEPS,
    cache=fashion_env["JAXGAN_CACHE"],
  )


@pytest.fixture(scope="module")
def scorer(fashion_env):
  return session_classifier(fashion_env)


def test_classifier_score_separates_real_images_from_noise_and_scrambles(scorer):
  fcd = scorer
  assert fcd.test_accuracy > 0.75  # 10 classes: chance is 0.1
  real = fcd.train_split_fcd(5000)
  rng = np.random.default_rng(0)
  noise = fcd(rng.uniform(-1, 1, (5000, 28, 28, 1)).astype(np.float32))
  train = fcd._train_images[:5000]
  scrambled = fcd(train.reshape(5000, -1)[:, rng.permutation(784)].reshape(train.shape))
  some = fcd._train_images[:10000]
  predicted = quality.classifier_outputs(fcd.params, some, 10)[1].argmax(-1)
  one_class = fcd(some[predicted == 0])  # a mode-collapsed "generator"
  assert real < 0.05 * min(noise, scrambled, one_class)
  with pytest.raises(ValueError, match="shape"):
    fcd(np.zeros((10, 32, 32, 3), np.float32))


def test_cached_classifier_is_reused_and_a_corrupt_one_replaced(
  scorer, fashion, fashion_env, capsys, tmp_path
):
  fcd = scorer
  from jaxgan.eval import feature_metrics

  def no_radii(*a):
    raise AssertionError("the reference k-NN radii were computed again, not read")

  with pytest.MonkeyPatch.context() as mp:  # the reference statistics come from the cache
    mp.setattr(feature_metrics, "nearest_neighbour_radii", no_radii)
    again = session_classifier(fashion_env)
    assert "training" not in capsys.readouterr().err
    assert again.test_accuracy == fcd.test_accuracy
    np.testing.assert_array_equal(again.reference_features, fcd.reference_features)
    np.testing.assert_array_equal(again._radii(3), fcd._radii(3))
  assert again.metrics(fcd._train_images[:500]) == fcd.metrics(fcd._train_images[:500])
  # Damaged caches, on a classifier of a few steps (what is retrained does not matter here):
  # 64 bytes of the classifier overwritten, then the reference statistics truncated.
  small = tuple(a[:1000] for a in fashion)
  path = tmp_path / "small.msgpack"
  first = quality.FrechetClassifierDistance(*small, steps=5, cache_path=str(path))
  reference = tmp_path / "small-reference-reference-images.npz"
  assert reference.exists()
  good = path.read_bytes()
  with open(path, "r+b") as f:
    f.seek(len(good) // 2)
    f.write(bytes(64))
  capsys.readouterr()
  fresh = quality.FrechetClassifierDistance(*small, steps=5, cache_path=str(path))
  err = capsys.readouterr().err
  assert "ignoring the cached classifier" in err and "checksum" in err and "training" in err
  assert fresh.test_accuracy == first.test_accuracy  # same seed, same platform: same classifier
  assert path.read_bytes() == good
  with open(reference, "r+b") as f:
    f.truncate(reference.stat().st_size - 100)
  again = quality.FrechetClassifierDistance(*small, steps=5, cache_path=str(path))
  err = capsys.readouterr().err
  assert "ignoring the cached reference statistics" in err and "truncated" in err
  assert "training" not in err
  np.testing.assert_array_equal(again.reference_features, first.reference_features)
