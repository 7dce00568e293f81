"""The mode-collapse trainer of the 2-D reproductions: trials trained as one population and
scored by PacGAN's metrics; their summary is the mean ± standard error over trials."""

import math

import numpy as np
import pytest

from experiments import mode_collapse
from jaxgan.config import make_config
from jaxgan.data import toys


def test_summary_is_the_mean_and_standard_error_over_trials():
  trials = [
    {"modes_covered": 8, "high_quality_fraction": 0.9, "mode_kl": 0.1},
    {"modes_covered": 6, "high_quality_fraction": 0.5, "mode_kl": None},  # no good sample
    {"modes_covered": 7, "high_quality_fraction": 0.7, "mode_kl": 0.3},
  ]
  out = mode_collapse.summary(trials)
  assert out["modes_covered"] == pytest.approx((7.0, 1.0 / math.sqrt(3)))
  assert out["high_quality_fraction"] == pytest.approx((0.7, 0.2 / math.sqrt(3)))
  assert out["mode_kl"] == pytest.approx((0.2, np.std([0.1, 0.3], ddof=1) / math.sqrt(2)))


def test_trials_train_as_one_population_and_are_scored_apart():
  cfg = make_config(arch="toy_mlp", dataset="ring", loss="ns", batch_size=8, pack=2, z_dim=4)
  toy = toys.ring(8, 1.0, 0.01)
  results, samples = mode_collapse.train_trials(cfg, toy, seeds=[0, 1], steps=4, chunk=2)
  assert samples.shape == (2, mode_collapse.NUM_SAMPLES, 2)
  assert not np.array_equal(samples[0], samples[1])  # each trial its own seed
  for r, s in zip(results, samples):
    assert r == toys.mode_coverage(s, toy) | {"diverged_step": None}
