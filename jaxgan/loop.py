"""The one training loop: data on the device, many steps per dispatch, outputs on the side.

``train(config)`` builds the models, loss and optimizers named in a :class:`TrainConfig`, puts
the dataset on the accelerator as uint8, and runs ``steps_per_call`` updates per dispatch (one
``lax.scan``) until ``steps`` are done. Host work happens only at event boundaries (every
``log_every``, ``sample_every`` and ``ckpt_every`` steps): reading metrics, writing sample
grids, plots and checkpoints. The math lives in :mod:`jaxgan.train`; this module only drives it.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan import data as data_lib
from jaxgan import losses, metrics, models, precision, train
from jaxgan.checkpoint import Checkpointer, CorruptCheckpoint

EXIT_DIVERGED = 3


class WorkdirError(RuntimeError):
  pass


@dataclasses.dataclass
class TrainConfig:
  loss: str = "ns"
  arch: str = "mlp"
  dataset: str = "mnist"
  split: str = "train"
  batch_size: int = 64
  lr: float = 2e-4
  beta1: float = 0.5
  beta2: float = 0.999
  z_dim: Optional[int] = None        # None: the architecture's own (100; infogan 64)
  steps: Optional[int] = None        # total updates; None: epochs × (examples // batch_size)
  epochs: float = 100.0
  seed: int = 0
  workdir: str = "runs/default"
  sample_every: int = 1000
  ckpt_every: int = 5000
  log_every: int = 100
  steps_per_call: Optional[int] = None  # None: the measured best for this platform and arch
  g_lr: Optional[float] = None       # None: lr
  d_lr: Optional[float] = None
  penalty: Optional[str] = None      # None: the loss's default (wgan_gp: gp); "none": off
  penalty_weight: Optional[float] = None  # λ or γ; None: the loss's default, else 10
  n_disc: int = 1
  clip: Optional[float] = None       # None: the loss's default (wgan: 0.01); 0: off
  ema_decay: float = 0.0             # 0: no EMA of G; samples use the EMA when kept
  instance_noise: float = 0.0
  simultaneous: bool = False
  consensus: float = 0.0             # γ of consensus optimization (needs simultaneous)
  d_norm: Optional[str] = None       # None: the architecture's own
  compute_dtype: str = "float32"     # "bfloat16": mixed precision (jaxgan.precision)
  resume: bool = False
  data_dir: Optional[str] = None
  progress: bool = True

  # Fields that may differ between a run and its resumption.
  RESUMABLE_CHANGES = ("steps", "epochs", "resume", "sample_every", "ckpt_every", "log_every",
                       "steps_per_call", "progress", "data_dir", "workdir")


def default_steps_per_call(arch: str, platform: str) -> int:
  """Steps fused per dispatch, chosen from measurements (BENCHMARKS.md).

  On GPUs and TPUs dispatch dominates at these sizes, so long scans win. On the CPU, XLA
  leaves the gradient convolutions inside a while loop (scan) in a non-canonical layout
  that its slow generic emitter runs (dcgan: 0.9 steps/s in a scan against 6.3 jitted,
  BENCHMARKS.md), so conv nets take one step per dispatch there.
  """
  if platform == "cpu":
    return 1 if arch != "mlp" else 100
  return 500


def update_options(cfg: TrainConfig) -> train.UpdateOptions:
  """The update's options: the flags, else what the loss implies (losses.LOSS_DEFAULTS)."""
  implied = losses.LOSS_DEFAULTS.get(cfg.loss, {})
  penalty = cfg.penalty if cfg.penalty is not None else implied.get("penalty")
  weight = cfg.penalty_weight if cfg.penalty_weight is not None else implied.get(
      "penalty_weight", 10.0)
  clip = cfg.clip if cfg.clip is not None else implied.get("clip")
  return train.UpdateOptions(
      penalty=None if penalty in (None, "none") else penalty,
      penalty_weight=weight if penalty not in (None, "none") else 0.0,
      n_disc=cfg.n_disc, clip=clip or None, simultaneous=cfg.simultaneous,
      ema_decay=cfg.ema_decay or None, instance_noise=cfg.instance_noise,
      consensus=cfg.consensus)


AUTOENCODER_CODE = 64  # BEGAN's code size, as in Lucic et al. 2018


def build_models(cfg: TrainConfig, image_shape, z_dim: int, axis_name=None):
  """(G, D) for a config: its architecture and D norm; an autoencoder D when the loss needs
  one (BEGAN); both computing in ``cfg.compute_dtype`` (parameters float32 in any case)."""
  loss_fn = losses.LOSSES.get(cfg.loss)
  code = AUTOENCODER_CODE if getattr(loss_fn, "autoencoder_discriminator", False) else None
  g, d = models.build(cfg.arch, image_shape, z_dim, axis_name, cfg.d_norm, code)
  return (precision.with_compute_dtype(g, cfg.compute_dtype),
          precision.with_compute_dtype(d, cfg.compute_dtype))


def _is_finite(record: dict) -> bool:
  return all(math.isfinite(v) for k, v in record.items() if isinstance(v, float))


class Run:
  """The pieces of one configured run, built once."""

  def __init__(self, cfg: TrainConfig, images: np.ndarray):
    self.cfg = cfg
    self.image_shape = images.shape[1:]
    self.z_dim = cfg.z_dim or models.default_z_dim(cfg.arch)
    self.loss_fn = losses.LOSSES.get(cfg.loss)
    self.generator, self.discriminator = build_models(cfg, self.image_shape, self.z_dim)
    self.options = update_options(cfg)
    self.g_tx = train.adam(cfg.g_lr or cfg.lr, cfg.beta1, cfg.beta2)
    self.d_tx = train.adam(cfg.d_lr or cfg.lr, cfg.beta1, cfg.beta2)
    root = jax.random.key(cfg.seed)
    self.init_key, self.sample_key, self.train_key = (jax.random.fold_in(root, i) for i in range(3))
    update = train.make_update(self.generator, self.discriminator, self.loss_fn,
                               self.g_tx, self.d_tx, self.z_dim, options=self.options)
    self.run_steps = train.make_multi_step(
        train.make_train_step(update, cfg.batch_size, self.options.n_disc))
    self.sample = train.make_sampler(self.generator)
    self.fixed_z = train.sample_latents(self.sample_key, 100, self.z_dim,
                                        prior=train.latent_prior(self.generator))

  def init(self) -> train.GANState:
    init = lambda key: train.init_state(key, self.generator, self.discriminator, self.g_tx,
                                        self.d_tx, self.image_shape, self.z_dim,
                                        ema=self.options.ema_decay is not None,
                                        loss_fn=self.loss_fn)
    return train.jit_init(init)(self.init_key)  # one compiled init, not hundreds of eager ops


def _check_workdir(cfg: TrainConfig, ckpt: Checkpointer) -> None:
  config_path = os.path.join(cfg.workdir, "config.json")
  if ckpt.latest_step() is not None and not cfg.resume:
    raise WorkdirError(
        f"{cfg.workdir} holds checkpoints of an earlier run (steps {ckpt.steps()}); pass "
        "--resume to continue it, or choose another --workdir. Nothing was overwritten.")
  if cfg.resume and os.path.exists(config_path):
    with open(config_path) as f:
      saved = json.load(f)
    current = dataclasses.asdict(cfg)
    default = dataclasses.asdict(TrainConfig())  # for fields newer than the saved config
    changed = {k: (saved.get(k, default[k]), v) for k, v in current.items()
               if k not in TrainConfig.RESUMABLE_CHANGES and saved.get(k, default[k]) != v}
    if changed:
      detail = ", ".join(f"--{k}: {a!r} -> {b!r}" for k, (a, b) in changed.items())
      raise WorkdirError(f"cannot resume {cfg.workdir} with different settings ({detail}).")


def train_run(cfg: TrainConfig) -> int:
  """Trains as configured; returns the process exit code (0, or EXIT_DIVERGED)."""
  os.makedirs(cfg.workdir, exist_ok=True)
  ckpt = Checkpointer(os.path.join(cfg.workdir, "checkpoints"))
  writer = metrics.BackgroundWriter()  # sample grids and plots, off the loop's thread
  try:
    return _train(cfg, ckpt, writer)
  finally:
    try:
      writer.close()
    finally:
      ckpt.close()


def _train(cfg: TrainConfig, ckpt: Checkpointer, writer: metrics.BackgroundWriter) -> int:
  _check_workdir(cfg, ckpt)
  images = data_lib.load_images(cfg.dataset, cfg.split, cfg.data_dir)
  total = cfg.steps if cfg.steps is not None else int(
      round(cfg.epochs * (len(images) // cfg.batch_size)))
  platform = jax.default_backend()
  per_call = cfg.steps_per_call or default_steps_per_call(cfg.arch, platform)

  run = Run(cfg, images)
  state = run.init()
  log = metrics.MetricsLog(os.path.join(cfg.workdir, "metrics.jsonl"))
  wall_offset = 0.0
  if cfg.resume and ckpt.latest_step() is not None:
    state = ckpt.restore(state)
    start = int(state.step)
    log.truncate_after(start)
    previous = log.read()
    wall_offset = previous[-1]["wall_time"] if previous else 0.0
    print(f"resumed from step {start} in {cfg.workdir}", file=sys.stderr)
  elif os.path.exists(log.path):
    os.remove(log.path)  # a fresh run (no checkpoint yet): start a fresh log
  with open(os.path.join(cfg.workdir, "config.json"), "w") as f:
    json.dump({**dataclasses.asdict(cfg), "total_steps": total, "platform": platform,
               "steps_per_call_used": per_call, "num_examples": len(images),
               "z_dim_used": run.z_dim, "update_options": dataclasses.asdict(run.options)},
              f, indent=2)

  device_data = jax.device_put(images)
  step = int(state.step)
  events = [cfg.log_every, cfg.sample_every, cfg.ckpt_every]

  def next_boundary(s: int) -> int:
    return min([total] + [(s // e + 1) * e for e in events if e > 0])

  history = log.read()  # the records so far, kept in memory for the loss plot

  def write_samples(tag: str) -> None:
    g_params = state.g_params if state.g_ema is None else state.g_ema
    imgs = run.sample(g_params, state.g_state, run.fixed_z)  # dispatched now, read there
    path = os.path.join(cfg.workdir, f"samples_{tag}.png")
    writer.submit(lambda: metrics.save_image_grid(jax.device_get(imgs), path, rows=10))

  def write_plot() -> None:
    writer.submit(lambda: metrics.plot_losses(
        list(history), os.path.join(cfg.workdir, "losses.png"),
        title=f"{cfg.dataset} {cfg.arch} loss={cfg.loss}"), key="plot")

  bar = None
  if cfg.progress:
    from tqdm import tqdm
    bar = tqdm(total=total, initial=step, unit="step", dynamic_ncols=True, file=sys.stderr)
  pending: list = []           # device metrics since the last log, read only at log time
  t_log, steps_at_log = time.perf_counter(), step
  t_start = t_log
  diverged = False
  while step < total:
    n = min(per_call, next_boundary(step) - step)
    state, chunk = run.run_steps(state, device_data, run.train_key, n)
    pending.append(chunk)
    step += n
    if bar is not None:
      bar.update(n)
    is_end = step == total
    ckpt_now = bool(cfg.ckpt_every and step % cfg.ckpt_every == 0) or is_end
    # Metrics are checked for NaN before every checkpoint, so none is saved after divergence.
    if (cfg.log_every and step % cfg.log_every == 0) or ckpt_now:
      host = jax.device_get(pending)
      pending = []
      now = time.perf_counter()
      record = {"step": step}
      record.update({k: float(np.mean(np.concatenate([c[k] for c in host]))) for k in host[0]})
      record["steps_per_sec"] = (step - steps_at_log) / max(now - t_log, 1e-9)
      record["wall_time"] = wall_offset + now - t_start
      t_log, steps_at_log = now, step
      if not _is_finite(record):
        record["diverged"] = True
        log.write(record)
        history.append(record)
        diverged = True
        break
      log.write(record)
      history.append(record)
      if bar is not None:
        bar.set_postfix(d_loss=f"{record['d_loss']:.3f}", g_loss=f"{record['g_loss']:.3f}",
                        sps=f"{record['steps_per_sec']:.0f}")
    if cfg.sample_every and step % cfg.sample_every == 0:
      write_samples(f"{step:07d}")
      write_plot()
    if ckpt_now:
      ckpt.save(state, step)
  if bar is not None:
    bar.close()
  write_plot()
  if diverged:
    print(f"DIVERGED: non-finite metrics by step {step} (see {log.path}); no checkpoint was "
          "written after the last finite one.", file=sys.stderr)
    return EXIT_DIVERGED
  write_samples("final")
  print(f"done: {total} steps in {cfg.workdir}", file=sys.stderr)
  return 0
