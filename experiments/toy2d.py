r"""GANs on 2-D toy distributions: a ring of 8 Gaussians, a 5×5 grid, a Swiss roll.

  python -m experiments.toy2d --loss=ns --data=ring
  python -m experiments.toy2d --loss=wgan_gp --data=grid --n_disc=5 --steps=20000

MLP G (z of 64 dims → 3×128 ReLU → 2, linear output) and D (2 → 3×128 LeakyReLU → 1),
trained by the library's update on 100,000 points drawn once from the distribution. Writes
``samples_<step>.png`` (generated points over the data, with a density estimate of the
generated ones), ``metrics.jsonl`` (losses and, for mixtures, modes covered and the fraction
of samples within 3σ of a mode) and ``config.json``. The loss and training-control flags are
those of every experiment (experiments/flags.py); --arch, --split, --z_dim and the
checkpoint flags do not apply here.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys

import jax
import numpy as np
from absl import app, flags, logging

from experiments import flags as train_flags

flags.DEFINE_enum("data", "ring", ["ring", "grid", "swissroll"], "2-D distribution.")
flags.DEFINE_float("mode_std", None, "Spread of each mode (default: 0.02 for ring/grid, "
                   "0.05 for swissroll).", lower_bound=0.0)
flags.DEFINE_float("radius", 2.0, "Ring radius.", lower_bound=0.0)
flags.DEFINE_float("spacing", 2.0, "Grid spacing.", lower_bound=0.0)
FLAGS = flags.FLAGS
TOY_DEFAULTS = dict(steps=10000, batch_size=256, lr=1e-4, beta1=0.5, beta2=0.9, sample_every=2000)


def make_toy():
  from jaxgan import toy_data
  kwargs = {}
  if FLAGS.mode_std is not None:
    kwargs["std"] = FLAGS.mode_std
  if FLAGS.data == "ring":
    kwargs["radius"] = FLAGS.radius
  if FLAGS.data == "grid":
    kwargs["spacing"] = FLAGS.spacing
  return toy_data.TOYS.get(FLAGS.data)(**kwargs)


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


def main(argv):
  if len(argv) > 1:
    print(f"error: unexpected arguments {argv[1:]}", file=sys.stderr)
    return 2
  logging.set_verbosity(logging.WARNING)
  from jaxgan import losses, models, precision, toy_data, train
  from jaxgan.loop import update_options

  overrides = {k: v for k, v in TOY_DEFAULTS.items() if not FLAGS[k].present}
  cfg = train_flags.config_from_flags(dataset=FLAGS.data, arch="mlp", **overrides)
  if not FLAGS.workdir:
    cfg = dataclasses.replace(cfg, workdir=f"runs/toy2d_{FLAGS.data}_{cfg.loss}_s{cfg.seed}")
  steps = cfg.steps or TOY_DEFAULTS["steps"]
  os.makedirs(cfg.workdir, exist_ok=True)
  toy = make_toy()
  root = jax.random.key(cfg.seed)
  data = toy.sample(jax.random.fold_in(root, 3), 100_000)
  z_dim = cfg.z_dim or 64
  g = models.MLPGenerator((2,), z_dim, hidden=(128, 128, 128), tanh_output=False)
  d = models.MLPDiscriminator((2,), hidden=(128, 128, 128), dropout=0.0)
  loss_fn = losses.LOSSES.get(cfg.loss)
  if getattr(loss_fn, "autoencoder_discriminator", False):  # BEGAN: D is an autoencoder
    d = models.AutoencoderDiscriminator(
        d.clone(features=8), models.MLPGenerator((2,), 8, hidden=(128, 128, 128),
                                                 tanh_output=False))
  g, d = (precision.with_compute_dtype(m, cfg.compute_dtype) for m in (g, d))
  options = update_options(cfg)
  g_tx = train.adam(cfg.g_lr or cfg.lr, cfg.beta1, cfg.beta2)
  d_tx = train.adam(cfg.d_lr or cfg.lr, cfg.beta1, cfg.beta2)
  state = train.jit_init(lambda k: train.init_state(k, g, d, g_tx, d_tx, (2,), z_dim,
                                             loss_fn=loss_fn))(jax.random.fold_in(root, 0))
  update = train.make_update(g, d, loss_fn, g_tx, d_tx, z_dim,
                             options=options)
  run = train.make_multi_step(train.make_train_step(update, cfg.batch_size, options.n_disc))
  sample = train.make_sampler(g)
  z_eval = train.sample_latents(jax.random.fold_in(root, 1), 2000, z_dim)
  with open(os.path.join(cfg.workdir, "config.json"), "w") as f:
    json.dump({**dataclasses.asdict(cfg), "data": FLAGS.data, "steps": steps,
               "update_options": dataclasses.asdict(options)}, f, indent=2)
  log_path = os.path.join(cfg.workdir, "metrics.jsonl")
  open(log_path, "w").close()
  data_np = np.asarray(data[:2000])
  chunk = min(cfg.sample_every or steps, steps)
  step, record = 0, {}
  while step < steps:
    n = min(chunk, steps - step)
    state, metrics = run(state, data, jax.random.fold_in(root, 2), n)
    step += n
    samples = np.asarray(sample(state.g_params, state.g_state, z_eval))
    record = {"step": step, **{k: float(np.mean(v)) for k, v in jax.device_get(metrics).items()},
              **toy_data.mode_coverage(samples, toy)}
    with open(log_path, "a") as f:
      f.write(json.dumps(record) + "\n")
    if not np.isfinite(samples).all() or not np.isfinite(record["d_loss"]):
      print(f"DIVERGED by step {step}", file=sys.stderr)
      return 3
    cov = (f", modes covered {record['modes_covered']}/{record['num_modes']}"
           if "modes_covered" in record else "")
    title = f"{FLAGS.data}, loss={cfg.loss}, step {step}{cov}"
    density_plot(samples, data_np, os.path.join(cfg.workdir, f"samples_{step:07d}.png"), title)
    print(f"step {step}: d_loss {record['d_loss']:.3f} g_loss {record['g_loss']:.3f}{cov}",
          file=sys.stderr)
  print(json.dumps(record))
  return 0


if __name__ == "__main__":
  app.run(main, flags_parser=train_flags.parse_flags)
