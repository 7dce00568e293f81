"""Mode collapse on 2-D Gaussian mixtures, measured as VEEGAN and PacGAN measure it.

:func:`train_trials` trains one configuration with several seeds at once (a population:
``jax.vmap`` of the one update, :mod:`jaxgan.sweeps.population`) on points drawn once from a toy
distribution, then draws a fixed set of latents through each trial's G (inference mode) and
scores the samples with :func:`jaxgan.data.toys.mode_coverage`. :func:`summary` gives the mean
and standard error over trials, as the papers' tables report them. Used by the ``pacgan2018``
and ``veegan2017`` reproductions.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np

from jaxgan.core.build import build_gan
from jaxgan.data import toys as toy_data
from jaxgan.run.keys import run_keys
from jaxgan.run.periodic import drive
from jaxgan.sweeps import population

NUM_POINTS = 100_000  # PacGAN's num_sample: the training set, drawn once
NUM_SAMPLES = 2_500  # PacGAN's num_log_figure_sample: the samples that are scored
METRICS = ("modes_covered", "high_quality_fraction", "mode_kl")


def train_trials(cfg, toy, seeds, steps: int, chunk: int = 500):
  """Trains ``cfg`` once per seed in ``seeds`` (one compiled population) for ``steps``
  updates on ``NUM_POINTS`` points of ``toy`` (drawn with ``cfg.seed``'s data key). Returns
  (per-trial metric dicts, samples (trials, NUM_SAMPLES, 2)); a trial that diverged is
  reported with ``diverged_step`` and scored as it was when frozen."""
  data = toy.sample(run_keys(cfg.seed).toy_data, NUM_POINTS)
  gan = build_gan(cfg, (2,))
  cfgs = [dataclasses.replace(cfg, seed=s) for s in seeds]
  members, keys = population.init_members(gan, cfgs)
  run = population.make_population_run(gan, cfg.batch_size, len(seeds))
  now = {"members": members}

  def advance(n: int) -> None:
    now["members"], _ = run(now["members"], data, keys, n)

  drive(0, steps, math.gcd(chunk, steps), advance, [])  # one compiled length; nothing periodic
  members = now["members"]
  z = gan.latents(jax.random.key(2333), NUM_SAMPLES)
  sample = jax.jit(jax.vmap(gan.sample, in_axes=(0, 0, None)))
  samples = np.asarray(sample(members.state.g_params, members.state.g_state, z))
  diverged = np.asarray(members.diverged_step)
  results = [
    toy_data.mode_coverage(s, toy) | {"diverged_step": int(d) if d >= 0 else None}
    for s, d in zip(samples, diverged)
  ]
  return results, samples


def summary(results: list[dict]) -> dict[str, tuple[float, float]]:
  """{metric: (mean, standard error)} over trials (the papers' "mean ± standard error");
  a trial whose samples are all of low quality has no reverse KL and is left out of it."""
  out = {}
  for name in METRICS:
    values = np.array([r[name] for r in results if r[name] is not None], float)
    se = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    out[name] = (float(values.mean()) if len(values) else float("nan"), float(se))
  return out


def toys():
  """PacGAN's 2-D data (fjxmlzn/PacGAN): 8 Gaussians of std 0.01 on the unit circle; 25 of
  std 0.05 on a grid of spacing 2 over [−4, 4]²."""
  return {"ring": toy_data.ring(8, 1.0, 0.01), "grid": toy_data.grid(5, 2.0, 0.05)}


def plot_samples(samples: dict, labels: dict, path: str) -> None:
  """``samples[(data, key)]`` (n, 2) in a grid: a row per toy of :func:`toys`, a column per
  key of ``labels`` (titled by its value), the modes marked."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, axes = plt.subplots(2, len(labels), figsize=(3 * len(labels), 6), squeeze=False)
  for row, (data, toy) in enumerate(toys().items()):
    lim = 1.5 if data == "ring" else 6.0
    for col, (key, label) in enumerate(labels.items()):
      ax = axes[row, col]
      ax.scatter(*samples[data, key].T, s=1, c="black", alpha=0.3)
      ax.scatter(*toy.modes.T, s=12, c="tab:orange", marker="x")
      ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xticks=[], yticks=[])
      ax.set_title(f"{data}: {label}", fontsize=9)
  fig.suptitle(f"{NUM_SAMPLES:,} samples of the first trial (orange: the modes)", fontsize=10)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
