r"""GANs on 2-D toy distributions: a ring of 8 Gaussians, a 5×5 grid, a Swiss roll.

  python -m experiments.toy2d --loss=ns --data=ring
  python -m experiments.toy2d --loss=wgan_gp --data=grid --n_disc=5 --steps=20000

MLP G (z of 64 dims → 3×128 ReLU → 2, linear output) and D (2 → 3×128 LeakyReLU → 1),
(the ``toy_mlp`` architecture), trained by the library's one loop (jaxgan.run.driver) on 100,000
points drawn once from the distribution. Writes ``samples_<step>.png`` (generated points over
the data, with a density estimate of the generated ones), ``metrics.jsonl`` (losses and, at
every sample step, for mixtures the modes covered and the fraction of samples within 3σ of a
mode), ``config.json`` and checkpoints (``--resume`` works as for images). Every flag of
jaxgan.config.Config applies (``--data`` is ``--dataset``); the defaults differ (below).
"""

from __future__ import annotations

import functools
import os
import sys

import numpy as np
from absl import app, flags, logging

from experiments import flags as config_flags
from jaxgan.config import TOY_DATASETS
from jaxgan.data import toys
from jaxgan.run.checkpoint import CorruptCheckpoint
from jaxgan.run.driver import Task, WorkdirError, train_run
from jaxgan.run.keys import run_keys

# Defaults of this script where they differ from an image run's. Metrics are logged at every
# sample step, where the coverage of the samples is measured.
TOY_DEFAULTS = dict(
  dataset="ring",
  arch="toy_mlp",
  steps=10000,
  batch_size=256,
  lr=1e-4,
  beta1=0.5,
  beta2=0.9,
  sample_every=2000,
)
config_flags.define_config_flags(**TOY_DEFAULTS)
flags.adopt_module_key_flags(config_flags)  # --help lists them as this command's
flags.DEFINE_alias("data", "dataset")
flags.DEFINE_float(
  "mode_std",
  None,
  "Spread of each mode (default: 0.02 for ring/grid, 0.05 for swissroll).",
  lower_bound=0.0,
)
flags.DEFINE_float("radius", 2.0, "Ring radius.", lower_bound=0.0)
flags.DEFINE_float("spacing", 2.0, "Grid spacing.", lower_bound=0.0)
FLAGS = flags.FLAGS
NUM_POINTS, NUM_SHOWN = 100_000, 2000


def make_toy():

  kwargs = {}
  if FLAGS.mode_std is not None:
    kwargs["std"] = FLAGS.mode_std
  if FLAGS.dataset == "ring":
    kwargs["radius"] = FLAGS.radius
  if FLAGS.dataset == "grid":
    kwargs["spacing"] = FLAGS.spacing
  return toys.TOYS.get(FLAGS.dataset)(**kwargs)


def density_plot(samples, data, path, title):
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  lim = float(np.abs(data).max()) * 1.3
  xs = np.linspace(-lim, lim, 120)
  gx, gy = np.meshgrid(xs, xs)
  bw = lim / 30  # Gaussian kernel density estimate of the generated points
  grid_pts = np.stack([gx.ravel(), gy.ravel()], 1)
  sub = samples[:1000]
  dens = np.exp(-((grid_pts[:, None, :] - sub[None]) ** 2).sum(-1) / (2 * bw * bw)).sum(1)
  fig, ax = plt.subplots(figsize=(5, 5))
  ax.contourf(gx, gy, dens.reshape(gx.shape), levels=12, cmap="Blues")
  ax.scatter(data[:, 0], data[:, 1], s=2, c="tab:orange", alpha=0.3, label="data")
  ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:blue", alpha=0.5, label="G(z)")
  ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=title)
  ax.legend(loc="upper right", markerscale=4)
  fig.tight_layout()
  fig.savefig(path, dpi=90)
  plt.close(fig)


def toy_task(cfg, toy):
  """The loop's task: points drawn once from ``toy`` (key fold_in(seed, 3)), the density plot
  of 2,000 fixed samples, and their mode coverage."""
  data = np.asarray(toy.sample(run_keys(cfg.seed).toy_data, NUM_POINTS))
  return Task(
    data,
    num_fixed=NUM_SHOWN,
    draw=functools.partial(_draw, data=data[:NUM_SHOWN]),
    evaluate=functools.partial(toys.mode_coverage, toy=toy),
  )


def _draw(samples, path, title, data):
  density_plot(np.asarray(samples), data, path, title)


def main(argv):
  if len(argv) > 1:
    print(f"error: unexpected arguments {argv[1:]}", file=sys.stderr)
    return 2
  logging.set_verbosity(logging.WARNING)
  defaults = dict(TOY_DEFAULTS, log_every=FLAGS.sample_every or TOY_DEFAULTS["steps"])
  defaults["workdir"] = f"runs/toy2d_{FLAGS.dataset}_{FLAGS.loss}_s{FLAGS.seed}"
  cfg = config_flags.config_from_flags(defaults)
  if cfg.dataset not in TOY_DATASETS:
    print(f"error: --data={cfg.dataset}: choose one of {'|'.join(TOY_DATASETS)}", file=sys.stderr)
    return 2

  try:
    code = train_run(cfg, toy_task(cfg, make_toy()))
  except (CorruptCheckpoint, WorkdirError) as e:
    print(f"error: {e}", file=sys.stderr)
    return getattr(e, "exit_code", 1)
  _print_last_record(cfg.workdir)
  return code


def _print_last_record(workdir):

  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    lines = f.read().splitlines()
  if lines:
    print(lines[-1])


if __name__ == "__main__":
  app.run(main, flags_parser=config_flags.parse_flags)
