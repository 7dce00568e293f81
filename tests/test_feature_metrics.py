"""KID, the classifier score, precision/recall, density/coverage, the toy mode metrics and the
Parzen window: each against hand-computed values, closed forms or known behaviour."""

import itertools

import numpy as np
import pytest

from jaxgan.data import toys
from jaxgan.eval import feature_metrics as fm
from jaxgan.eval import parzen


def gaussians(n, d=16, shift=0.0, seed=0):
  return np.random.default_rng(seed).normal(size=(n, d)) + shift


def mmd2_by_loops(x, y):
  d, m = x.shape[1], len(x)
  k = lambda a, b: (a @ b / d + 1) ** 3
  xx = sum(k(x[i], x[j]) for i, j in itertools.permutations(range(m), 2)) / (m * (m - 1))
  yy = sum(k(y[i], y[j]) for i, j in itertools.permutations(range(m), 2)) / (m * (m - 1))
  xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / m**2
  return xx + yy - 2 * xy


def test_kid_is_the_unbiased_mmd2_of_the_cubic_kernel():
  x, y = gaussians(12, d=3, seed=1), gaussians(12, d=3, shift=0.5, seed=2)
  mean, std = fm.kid(x, y, subsets=1, subset_size=12)  # one subset: the whole sets, permuted
  assert mean == pytest.approx(mmd2_by_loops(x, y), rel=1e-10) and std == 0.0


def test_kid_is_about_zero_for_one_distribution_and_positive_for_a_shifted_one():
  real = gaussians(2000, seed=0)
  same, _ = fm.kid(real, gaussians(2000, seed=1), subsets=20, subset_size=500)
  shifted, std = fm.kid(real, gaussians(2000, shift=0.3, seed=1), subsets=20, subset_size=500)
  assert abs(same) < 0.02 and shifted > 0.2 and shifted > 10 * std
  assert fm.kid(real, real[::-1], subsets=5, subset_size=100, seed=3) == fm.kid(
    real, real[::-1], subsets=5, subset_size=100, seed=3
  )


def test_classifier_score_of_hand_built_posteriors():
  one_hot = np.eye(10)[np.arange(1000) % 10]
  assert fm.classifier_score(one_hot) == pytest.approx((10.0, 0.0))  # every class, confident
  assert fm.classifier_score(np.full((1000, 10), 0.1)) == pytest.approx((1.0, 0.0))
  # two samples, p(y|x) = (1, 0) and (0.5, 0.5): p(y) = (0.75, 0.25);
  # KLs: log(1/0.75) and 0.5 log(0.5/0.75) + 0.5 log(0.5/0.25)
  kl = (np.log(4 / 3) + 0.5 * np.log(2 / 3) + 0.5 * np.log(2)) / 2
  assert fm.classifier_score(np.array([[1.0, 0.0], [0.5, 0.5]]), splits=1)[0] == pytest.approx(
    np.exp(kl)
  )


def test_nearest_neighbour_radii_skip_the_point_itself():
  x = np.array([[0.0], [1.0], [3.0], [7.0]])
  np.testing.assert_allclose(fm.nearest_neighbour_radii(x, 1), [1, 1, 2, 4])
  np.testing.assert_allclose(fm.nearest_neighbour_radii(x, 2), [3, 2, 3, 6])


def test_precision_and_recall_of_hand_built_sets():
  real = np.array([[0.0], [1.0], [3.0], [7.0]])  # k = 1 radii 1, 1, 2, 4: balls cover [-1, 11]
  fake = np.array([[0.5], [10.5], [20.0], [21.0]])  # radii 10, 10, 1, 1
  p, r = fm.precision_recall(real, fake, k=1)
  assert p == 0.5  # 0.5 and 10.5 lie in the real manifold; 20 and 21 do not
  assert r == 1.0  # every real point lies within 10 of 0.5


def test_a_mode_collapsed_set_keeps_precision_and_loses_recall():
  """Ten well separated clusters in 4-d (k-NN balls underestimate the support in high
  dimensions: precision of a healthy set falls to 0.78 in 16-d at this size)."""
  rng = np.random.default_rng(0)
  centres = rng.normal(size=(10, 4)) * 10
  real = centres[np.arange(2000) % 10] + rng.normal(size=(2000, 4))
  healthy = centres[np.arange(2000) % 10] + rng.normal(size=(2000, 4))
  collapsed = centres[0] + rng.normal(size=(2000, 4))
  p, r = fm.precision_recall(real, healthy)
  pc, rc = fm.precision_recall(real, collapsed)
  assert p > 0.9 and r > 0.9
  assert pc > 0.9 and rc < 0.15
  d, c = fm.density_coverage(real, healthy)
  dc, cc = fm.density_coverage(real, collapsed)
  assert 0.8 < d < 1.2 and c > 0.9 and cc < 0.15


def test_density_and_coverage_of_hand_built_sets():
  real = np.array([[0.0], [1.0], [3.0], [7.0]])  # k = 1 radii 1, 1, 2, 4
  fake = np.array([[0.5], [2.5], [100.0]])
  d, c = fm.density_coverage(real, fake, k=1)
  # 0.5 lies in the balls of 0 and 1; 2.5 only in that of 3 (|2.5 − 1| = 1.5 > 1); 100 in none
  assert d == pytest.approx((2 + 1 + 0) / (1 * 3))
  assert c == pytest.approx(3 / 4)  # the balls of 0, 1 and 3 hold a fake sample; 7's does not


def test_toy_mode_metrics_of_hand_built_samples():
  toy = toys.ring()
  one = toys.mode_coverage(np.repeat(toy.modes[:1], 100, axis=0), toy)
  assert one["modes_covered"] == 1 and one["mode_kl"] == pytest.approx(np.log(8))
  even = toys.mode_coverage(np.repeat(toy.modes, 10, axis=0), toy)
  assert even["modes_covered"] == 8 and even["mode_kl"] == pytest.approx(0.0, abs=1e-12)
  half_off = np.concatenate([toy.modes[:4], toy.modes[:4] + 1.0])  # 1.0 ≫ 3σ = 0.06
  m = toys.mode_coverage(half_off, toy)
  assert m["high_quality_fraction"] == 0.5 and m["modes_covered"] == 4
  assert m["mode_kl"] == pytest.approx(np.log(2))  # uniform over 4 of 8 modes
  assert toys.mode_coverage(toy.modes + 1.0, toy)["mode_kl"] is None


def test_parzen_window_of_one_point_is_a_gaussian_density():
  x = np.array([[0.3, -0.4], [1.0, 2.0]])
  sigma = 0.7
  want = -(x**2).sum(1) / (2 * sigma**2) - np.log(2 * np.pi * sigma**2)
  np.testing.assert_allclose(parzen.log_likelihoods(x, np.zeros((1, 2)), sigma), want, rtol=1e-5)


def test_parzen_score_of_gaussian_samples_matches_the_closed_form():
  """Samples g ~ N(0, s²I), many of them: the window is N(0, (s² + σ²)I), and the mean
  log-likelihood of x ~ N(0, τ²I) is −(d/2) log(2π(s² + σ²)) − d τ² / (2(s² + σ²))."""
  rng = np.random.default_rng(0)
  s, tau, d = 1.0, 1.0, 2
  samples = rng.normal(size=(20000, d)) * s
  val, test = rng.normal(size=(500, d)) * tau, rng.normal(size=(2000, d)) * tau
  out = parzen.parzen_score(samples, val, test, sigmas=[0.05, 0.3])
  v = s**2 + out["parzen_sigma"] ** 2
  want = -0.5 * d * np.log(2 * np.pi * v) - d * tau**2 / (2 * v)
  assert out["parzen_ll"] == pytest.approx(want, abs=3 * out["parzen_se"] + 0.01)
  assert out["n_test"] == 2000 and out["parzen_se"] > 0


def test_class_accuracy_of_hand_built_logits():
  logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 1.0], [5.0, 0.0, 0.0]])
  assert fm.class_accuracy(logits, np.array([0, 1, 2, 2])) == 0.75
  with pytest.raises(ValueError, match="expected"):
    fm.class_accuracy(logits, np.array([0, 1]))


def test_confusion_of_hand_built_readings():
  """Asked for 0, 0, 1, 1, 2 (nothing asked of class 3); read 0, 1, 1, 1, 0."""
  matrix = fm.confusion(np.array([0, 1, 1, 1, 0]), np.array([0, 0, 1, 1, 2]), 4)
  expected = np.zeros((4, 4))
  expected[0, :2] = 0.5
  expected[1, 1] = expected[2, 0] = 1.0
  np.testing.assert_array_equal(matrix, expected)


def test_intra_class_fd_of_hand_built_classes():
  """1-D features. Class 0: samples {0, 2} (mean 1, variance 2) against reference {1, 3}
  (mean 2, variance 2): FD = (1 − 2)² + 2 + 2 − 2·√(2·2) = 1. Class 1: the same sets, FD 0.
  The mean over the classes: 0.5."""
  feats = np.array([[0.0], [2.0], [5.0], [7.0]])
  ref = np.array([[1.0], [3.0], [5.0], [7.0]])
  labels = np.array([0, 0, 1, 1])
  assert fm.intra_class_fd(feats, labels, ref, labels) == pytest.approx(0.5)
  # One class only: the plain Fréchet distance.
  x, y = gaussians(300, 4), gaussians(300, 4, shift=1.0, seed=1)
  one = np.zeros(300, int)
  plain = fm.frechet_distance(*fm.gaussian_stats(x), *fm.gaussian_stats(y))
  assert fm.intra_class_fd(x, one, y, one) == pytest.approx(plain)
  with pytest.raises(ValueError, match=r"not of \[1\]"):
    fm.intra_class_fd(feats[:3], labels[:3], ref, labels)
