import jax
import numpy as np
import pytest

from jaxgan.data import toys


def test_ring_modes_are_distinct_and_evenly_spaced():
  centres = toys.ring_centres(8, 2.0)
  gaps = np.linalg.norm(centres - np.roll(centres, 1, axis=0), axis=1)
  np.testing.assert_allclose(gaps, 2 * 2.0 * np.sin(np.pi / 8), rtol=1e-6)  # none coincide
  np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 2.0, rtol=1e-6)


def test_grid_has_25_centred_modes():
  toy = toys.grid()
  assert toy.modes.shape == (25, 2)
  np.testing.assert_allclose(toy.modes.mean(axis=0), 0, atol=1e-6)
  assert len({tuple(m) for m in toy.modes.tolist()}) == 25


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_real_samples_cover_every_mode(name):
  toy = toys.TOYS.get(name)()
  samples = np.asarray(toy.sample(jax.random.key(0), 5000))
  cov = toys.mode_coverage(samples, toy)
  assert cov["modes_covered"] == cov["num_modes"]
  assert cov["high_quality_fraction"] > 0.98


def test_collapsed_samples_cover_one_mode():
  toy = toys.ring()
  samples = np.repeat(toy.modes[:1], 1000, axis=0)
  assert toys.mode_coverage(samples, toy)["modes_covered"] == 1


def test_swiss_roll_parameters():
  toy = toys.swiss_roll(scale=0.5, std=0.0)
  pts = np.asarray(toy.sample(jax.random.key(0), 1000))
  r = np.linalg.norm(pts, axis=1) / 0.5
  assert r.min() >= 1.5 * np.pi - 1e-4 and r.max() <= 4.5 * np.pi + 1e-4


def test_toy2d_command_writes_plots_and_coverage(tmp_path):
  import json
  import subprocess
  import sys

  from conftest import REPO

  proc = subprocess.run(
    [
      sys.executable,
      "-m",
      "experiments.toy2d",
      "--loss=wgan_gp",
      "--data=grid",
      "--steps=40",
      "--sample_every=20",
      f"--workdir={tmp_path}",
    ],
    cwd=REPO,
    capture_output=True,
    text=True,
    timeout=300,
    env={**__import__("os").environ, "XLA_FLAGS": ""},
  )
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert (tmp_path / "samples_0000020.png").exists() and (tmp_path / "samples_0000040.png").exists()
  rows = [json.loads(l) for l in open(tmp_path / "metrics.jsonl")]
  assert [r["step"] for r in rows] == [20, 40]
  assert rows[-1]["num_modes"] == 25 and 0 <= rows[-1]["modes_covered"] <= 25
  assert "penalty" in rows[-1]  # wgan_gp brought its gradient penalty


@pytest.mark.parametrize("name", ["ring", "grid", "swissroll"])
def test_locate_plus_noise_has_the_law_of_sample(name):
  """locate(U) + σN, U uniform, against sample: the same mode frequencies and moments."""
  toy = toys.TOYS.get(name)()
  n = 40_000
  k_u, k_n, k_s = jax.random.split(jax.random.key(3), 3)
  built = toy.locate(jax.random.uniform(k_u, (n,))) + toy.std * jax.random.normal(k_n, (n, 2))
  drawn = toy.sample(k_s, n)
  built, drawn = np.asarray(built), np.asarray(drawn)
  np.testing.assert_allclose(built.mean(0), drawn.mean(0), atol=0.05)
  scale = np.cov(drawn.T).max()  # sampling error of a covariance ≈ scale / √n ≈ 0.5%
  np.testing.assert_allclose(np.cov(built.T), np.cov(drawn.T), atol=0.03 * scale)
  if len(toy.modes):
    nearest = lambda x: np.linalg.norm(x[:, None] - toy.modes[None], axis=2).argmin(1)
    freq = lambda x: np.bincount(nearest(x), minlength=len(toy.modes)) / n
    np.testing.assert_allclose(freq(built), 1 / len(toy.modes), atol=0.01)
    np.testing.assert_allclose(freq(drawn), 1 / len(toy.modes), atol=0.01)
