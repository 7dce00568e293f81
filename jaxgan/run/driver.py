"""The one training loop: data on the device, many steps per dispatch, outputs on the side.

``train_run(cfg)`` builds the :class:`~jaxgan.core.gan.GAN` a :class:`~jaxgan.config.Config`
describes, puts the dataset on the accelerator (uint8 images, or float points for the 2-D
toys), and runs ``steps_per_call`` updates per dispatch (one ``lax.scan``) until ``steps`` are
done. A dispatch ends early only where the state is needed (every ``sample_every``,
``eval_every`` and ``ckpt_every`` steps); the ``log_every`` records are computed from the
per-step metrics, read one dispatch behind the device. Sample pictures are drawn on a
background thread, checkpoints are snapshot on the device and written asynchronously once the
records before them are read, and the loss plot is drawn once, at
the end (or at an interrupt). A
:class:`Task` says what the run trains on and how its samples are drawn and scored; image
datasets and the 2-D toys (``experiments.toy2d``) both run through this loop.
"""

from __future__ import annotations

import dataclasses
import errno
import math
import os
import shutil
import signal
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxgan import config as config_lib
from jaxgan.backend import platform as platform_lib
from jaxgan.backend import xla_options
from jaxgan.config import Config
from jaxgan.core.build import build_gan
from jaxgan.core.gan import GANState
from jaxgan.data import datasets as data_lib
from jaxgan.eval import quality, scoring
from jaxgan.run import feed as feed_lib
from jaxgan.run import outputs, processes, records, train_steps
from jaxgan.run.checkpoint import Checkpointer
from jaxgan.run.interrupts import Interrupts
from jaxgan.run.keys import class_rows, eval_labels, eval_latents, run_keys
from jaxgan.run.lock import WorkdirInUse, WorkdirLock
from jaxgan.run.periodic import (
  INTERRUPTED,
  STOP,
  Periodic,
  Records,
  drive,
  mean_metrics,
  sample_in_chunks,
)

EXIT_DIVERGED = 3
INTERRUPTED_FILE = "interrupted.json"  # the metrics since the last record, at an interrupt


class WorkdirError(RuntimeError):
  """The workdir cannot take this run (exit 1): in use, unwritable, or holding another run."""

  exit_code = 1


class RunRefused(WorkdirError):
  """The settings cannot make a run here (exit 2): no steps, or a resume that would go back."""

  exit_code = 2


@dataclasses.dataclass(frozen=True)
class Task:
  """What a run trains on and how it shows its samples.

  data: uint8 images (N, H, W, C) or float points (N, D).
  labels: the images' int32 classes (N,), for a class-conditional run; else None.
  num_fixed: how many fixed latent vectors the sample pictures show (a conditional run: 10
    per class, one row each).
  draw: ``draw(samples, path, title)`` writes a picture of G's samples (default: a grid of
    10 rows, or one row per class).
  evaluate: ``evaluate(samples) -> {name: value}``, logged with the metrics at sample steps.
  score: ``score(samples, labels) -> {name: value}`` of ``eval_samples`` samples (and the
    classes they were generated for, or None), logged every ``eval_every`` steps (image
    tasks: every metric of :mod:`jaxgan.eval.quality`).
  """

  data: np.ndarray
  labels: np.ndarray | None = None
  num_fixed: int = 100
  draw: Callable[[np.ndarray, str, str], None] | None = None
  evaluate: Callable[[np.ndarray], dict] | None = None
  score: Callable[[np.ndarray, np.ndarray | None], dict] | None = None

  @property
  def num_classes(self) -> int:
    return 0 if self.labels is None else int(self.labels.max()) + 1

  @property
  def rows(self) -> int:
    return self.num_classes or 10

  def train_data(self):
    """What the feeds hold: the images, or (images, labels)."""
    return self.data if self.labels is None else (self.data, self.labels)


def labelled_images(cfg: Config) -> tuple[np.ndarray, np.ndarray]:
  """A conditional run's images and labels; :class:`RunRefused` for a dataset without."""
  try:
    images, labels = data_lib.load_labeled(
      cfg.dataset, cfg.split, cfg.data_dir, cfg.image_size, cfg.channels
    )
  except ValueError as e:
    raise RunRefused(f"--conditional={cfg.conditional} needs class labels: {e}") from None
  if len(labels) and labels.min() < 0:
    raise RunRefused(f"--conditional={cfg.conditional}: some images of {cfg.dataset} have no class")
  return images, labels


def image_task(cfg: Config, score: bool = True) -> Task:
  """The task of an image dataset: its uint8 images (and their labels, for a conditional
  run), 10×10 sample grids (one row per class, conditional) and, with ``--eval_every`` (and
  ``score``), every metric of :mod:`jaxgan.eval.quality`."""
  labels = None
  if cfg.conditional != "none":
    images, labels = labelled_images(cfg)
  else:
    images = data_lib.load_images(
      cfg.dataset, cfg.split, cfg.data_dir, cfg.image_size, cfg.channels
    )
  num_fixed = 10 * (int(labels.max()) + 1) if labels is not None else 100
  if not (score and cfg.eval_every and cfg.eval_samples):
    return Task(images, labels, num_fixed)
  return Task(images, labels, num_fixed, score=_image_metrics(cfg))


def _image_metrics(cfg: Config):
  """The metrics of a dataset's classifier, numbers only; None (said why) without one."""
  try:
    scorer = scoring.for_config(cfg)
  except (data_lib.DatasetUnavailable, ValueError) as e:
    processes.say(f"note: --eval_every scores nothing ({str(e).splitlines()[0]})")
    return None
  return lambda images, labels: {
    k: v
    for k, v in scorer.metrics(images, labels=labels).items()
    if isinstance(v, int | float) and k != "n_real"
  }


class Run:
  """The pieces of one configured run, built once: the GAN, its keys, its compiled steps.
  With ``devices`` > 1 each batch is split over that many devices (a ``data`` mesh; in a
  multi-process runtime, every process's), the state and the data replicated on them."""

  def __init__(
    self, cfg: Config, image_shape, total_steps: int | None = None, devices: int = 1,
    num_classes: int = 0,
  ):  # fmt: skip
    self.cfg = cfg
    self.gan = build_gan(cfg, image_shape, total_steps, num_classes=num_classes)
    self.keys = run_keys(cfg.seed)
    self.init_key, self.sample_key, self.train_key = self.keys[:3]
    self.cfg = cfg
    self.mesh = Mesh(np.array(jax.devices()[:devices]), ("data",)) if devices > 1 else None
    self.unroll = platform_lib.scan_unroll(cfg.arch)
    self.run_steps = train_steps.make_multi_step(
      train_steps.make_train_step(self.gan, cfg.batch_size, self.mesh), unroll=self.unroll
    )
    self.sample = train_steps.make_sampler(self.gan)
    self.copy = jax.jit(lambda tree: jax.tree.map(jnp.copy, tree))  # new buffers, on device

  def init(self) -> GANState:
    """The initial state, on the run's devices (made there: one compiled init)."""
    if self.mesh is None:
      return jax.device_put(xla_options.jit_init(self.gan.init)(self.init_key))
    replicated = NamedSharding(self.mesh, PartitionSpec())
    return xla_options.jit_init(self.gan.init, out_shardings=replicated)(self.init_key)

  def place(self, tree):
    """``tree`` on the run's devices: replicated on its mesh, or on the default device."""
    if self.mesh is None:
      return jax.device_put(tree)
    return jax.device_put(tree, NamedSharding(self.mesh, PartitionSpec()))

  def fixed_latents(self, num: int) -> tuple[jax.Array, jax.Array | None]:
    """The latent vectors of the run's sample pictures, the same at every step, and their
    classes (a conditional G: one row of num/K per class, the same latents in each)."""
    if self.gan.num_classes:
      return self.place(class_rows(self.gan, self.sample_key, num // self.gan.num_classes))
    return self.place(self.gan.latents(self.sample_key, num)), None


def _is_finite(record: dict) -> bool:
  return all(math.isfinite(v) for k, v in record.items() if isinstance(v, float))


def _check_workdir(cfg: Config, ckpt: Checkpointer) -> None:
  config_path = os.path.join(cfg.workdir, "config.json")
  latest = ckpt.latest_step()
  if latest is not None and not cfg.resume:
    raise WorkdirError(
      f"{cfg.workdir} holds checkpoints of an earlier run (steps {ckpt.steps()}); pass "
      "--resume to continue it, or choose another --workdir. Nothing was overwritten."
    )
  if not cfg.resume or latest is None:
    return
  if not os.path.exists(config_path):
    raise RunRefused(
      f"cannot resume {cfg.workdir}: its config.json is missing, so the settings of its "
      "checkpoints are unknown. Put it back, or start afresh in another --workdir."
    )
  try:
    saved = config_lib.load(config_path)
  except (config_lib.ConfigError, ValueError) as e:
    raise WorkdirError(f"cannot resume {cfg.workdir}: its config.json is unreadable ({e})") from e
  changed = config_lib.differences(saved, cfg)
  if changed:
    detail = ", ".join(f"--{k}: {a!r} -> {b!r}" for k, (a, b) in changed.items())
    raise WorkdirError(f"cannot resume {cfg.workdir} with different settings ({detail}).")


def devices_for(cfg: Config) -> int:
  """The number of devices a run's batch is split over: ``--devices``, or with 0 all of them
  when the batch divides by their number (else 1). In a multi-process runtime, all devices of
  all processes. Raises :class:`RunRefused` for a number that is not there or does not divide
  the batch, or for fewer than all devices of a multi-process runtime."""
  available = jax.device_count()
  if jax.process_count() > 1 and cfg.devices not in (0, available):
    raise RunRefused(
      f"--devices={cfg.devices}: a run over {jax.process_count()} processes uses all their "
      f"{available} devices (--devices=0)"
    )
  if cfg.devices == 0:
    if jax.process_count() > 1 and cfg.batch_size % available:
      raise RunRefused(
        f"--batch_size={cfg.batch_size} does not divide over the {available} devices of "
        f"{jax.process_count()} processes"
      )
    return available if cfg.batch_size % available == 0 else 1
  if cfg.devices > available:
    plural = "" if available == 1 else "s"
    raise RunRefused(f"--devices={cfg.devices}: only {available} device{plural} visible")
  if cfg.batch_size % cfg.devices:
    raise RunRefused(
      f"--devices={cfg.devices} does not divide --batch_size={cfg.batch_size}: each device "
      "takes an equal share of the batch"
    )
  return cfg.devices


def _check_length(cfg: Config, total: int, num_examples: int, latest: int | None) -> None:
  """A run of no steps, or a resume to fewer steps than its checkpoints hold, is refused."""
  if total < 1:
    raise RunRefused(
      f"the run has 0 steps (--epochs={cfg.epochs} of {num_examples} examples at "
      f"--batch_size={cfg.batch_size}); set --steps or more --epochs"
    )
  if cfg.resume and latest is not None and latest > total:
    raise RunRefused(
      f"cannot resume {cfg.workdir} to {total} steps: its latest checkpoint is step {latest}; "
      f"set --steps to at least {latest}"
    )


def _open_workdir(cfg: Config) -> WorkdirLock:
  """Creates ``cfg.workdir`` and takes its lock; raises :class:`WorkdirError` when it cannot
  (in use by another process, read-only, not a folder)."""
  try:
    os.makedirs(cfg.workdir, exist_ok=True)
    lock = WorkdirLock(cfg.workdir)
    lock.acquire()
  except WorkdirInUse as e:
    raise WorkdirError(str(e)) from None
  except OSError as e:
    raise WorkdirError(f"cannot write to --workdir={cfg.workdir}: {e.strerror or e}") from None
  return lock


def train_run(cfg: Config, task: Task | None = None) -> int:
  """Trains as configured (on ``task``, default the config's image dataset); returns the
  process exit code (0, EXIT_DIVERGED, or 128 + the signal that interrupted it). Holds the
  workdir's lock throughout; SIGTERM and SIGINT stop it with a checkpoint
  (:mod:`jaxgan.run.interrupts`)."""
  cfg = dataclasses.replace(cfg, devices=devices_for(cfg))  # config.json: the number used
  if cfg.data_placement == "host" and jax.process_count() > 1:
    raise RunRefused("--data_placement=host runs in one process (its batches are gathered there)")
  lock = _open_workdir(cfg) if processes.lead() else None  # process 0 writes the workdir
  processes.barrier("workdir")  # the others read it once it is there
  try:
    with Interrupts() as interrupts:
      return _train_locked(cfg, task, interrupts)
  except Exception as e:
    disk = None if isinstance(e, WorkdirError) else _disk_error(e)
    if disk is None:
      raise
    raise WorkdirError(_disk_message(cfg.workdir, disk)) from None
  finally:
    if lock is not None:
      lock.release()


DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO)


def _disk_error(e: BaseException) -> OSError | None:
  """The full-disk (or read-only, or failing) disk error behind ``e``, if one is; orbax
  raises its write errors wrapped."""
  seen = set()
  while e is not None and id(e) not in seen:
    seen.add(id(e))
    if isinstance(e, OSError) and e.errno in DISK_ERRNOS:
      return e
    e = e.__cause__ or e.__context__
  return None


def _disk_message(workdir: str, e: OSError) -> str:
  try:
    free = f"{shutil.disk_usage(workdir).free / 2**20:.1f} MiB free there"
  except OSError:
    free = "free space unknown"
  latest = Checkpointer.latest_in(os.path.join(workdir, "checkpoints"))
  kept = f"the checkpoint of step {latest} is intact" if latest is not None else "no checkpoint"
  return (
    f"cannot write to {e.filename or workdir}: {e.strerror} ({free}); training stopped, "
    f"{kept}. Free space (or choose another --workdir) and run the same command with --resume."
  )


def _train_locked(cfg: Config, task: Task | None, interrupts: Interrupts) -> int:
  ckpt = Checkpointer(os.path.join(cfg.workdir, "checkpoints"))
  writer = outputs.BackgroundWriter()  # sample pictures and plots, off the loop's thread
  loop = None
  try:
    _check_workdir(cfg, ckpt)
    loop = _Loop(cfg, task or image_task(cfg), ckpt, writer, interrupts)
    return loop.run()
  finally:
    try:
      writer.close()  # its pictures may still write to the log's TensorBoard events
    finally:
      if loop is not None:
        loop.log.close()
      ckpt.close()


def _submit_plots(writer: outputs.BackgroundWriter, history: list[dict], workdir: str, title: str):
  """The loss curves so far and, with ``--eval_every``, the metrics over the steps, drawn in
  the background (each replacing its pending predecessor)."""
  losses, metrics = os.path.join(workdir, "losses.png"), os.path.join(workdir, "eval_metrics.png")
  writer.submit(lambda: outputs.plot_losses(list(history), losses, title=title), key="plot")
  scored = [k for k in quality.METRICS if any(k in r for r in history)]
  if scored:
    writer.submit(lambda: outputs.plot_series(list(history), scored, metrics), key="eval_plot")


def _saved_pending(workdir: str, step: int) -> list:
  """The metrics an interrupt at ``step`` saved (of the steps since the record before it),
  so the next record averages what an uninterrupted run's would; [] when there are none."""
  saved = records.read(os.path.join(workdir, INTERRUPTED_FILE), repair=False)
  if not saved or saved[-1].get("step") != step:
    return []
  return [{k: np.asarray(v, np.float32) for k, v in saved[-1]["pending"].items()}]


def _keep_pending(workdir: str, step: int, host: list) -> None:
  """Saves the metrics since the last record beside the checkpoint of an interrupt at
  ``step`` (for :func:`_saved_pending`), or removes an earlier interrupt's."""
  path = os.path.join(workdir, INTERRUPTED_FILE)
  if host:
    pending = {k: np.concatenate([c[k] for c in host]).tolist() for k in host[0]}
    records.write(path, [{"step": step, "pending": pending}])
  elif os.path.exists(path):
    os.remove(path)  # an earlier interrupt's: not of this step


class _Pictures:
  """What a run shows of its generator while it trains: the fixed samples' grid (and the
  task's scores of them), the loss plots, and the evaluation's scores. Pictures are drawn on
  the ``writer``'s thread, by process 0 alone."""

  def __init__(self, cfg, task: Task, run_: Run, writer, log, history: list):
    self.cfg, self.task, self.run_, self.writer, self.log = cfg, task, run_, writer, log
    self.history = history  # the run's records, appended by the loop
    self.fixed_z, self.fixed_labels = run_.fixed_latents(task.num_fixed)

  def samples(self, state, tag: str, step: int) -> dict:
    """Draws the fixed samples (from G's EMA when kept), writes their picture in the
    background, and returns the task's scores of them (read now, only if it has any)."""
    (samples,) = sample_in_chunks(
      self.run_.sample, state, self.fixed_z, len(self.fixed_z), self.fixed_labels
    )
    path = os.path.join(self.cfg.workdir, f"samples_{tag}.png")
    title = f"{self.cfg.dataset} {self.cfg.arch} loss={self.cfg.loss}, step {step}"
    if processes.lead():
      self.writer.submit(lambda: self._draw(processes.to_host(samples), path, title, step))
    return self.task.evaluate(processes.to_host(samples)) if self.task.evaluate else {}

  def _draw(self, samples: np.ndarray, path: str, title: str, step: int) -> None:
    if self.task.draw is None:
      outputs.save_image_grid(samples, path, rows=self.task.rows)
    else:
      self.task.draw(samples, path, title)
    if samples.ndim == 4:  # images (not 2-D points): also to TensorBoard
      self.log.image("samples", samples, step, rows=self.task.rows)

  def plot(self) -> None:
    if not processes.lead():
      return
    cfg = self.cfg
    _submit_plots(
      self.writer, self.history, cfg.workdir, f"{cfg.dataset} {cfg.arch} loss={cfg.loss}"
    )

  def scores(self, state) -> dict:
    """The task's scores of ``eval_samples`` samples (G's EMA when kept), drawn from the same
    latents at every evaluation."""
    gan, num = self.run_.gan, self.cfg.eval_samples
    z, labels = self.run_.place((eval_latents(gan, num), eval_labels(gan, num)))
    chunks = sample_in_chunks(self.run_.sample, state, z, labels=labels)  # on every process
    if not processes.lead():
      return {}
    return self.task.score(np.concatenate(processes.to_host(chunks)), processes.to_host(labels))


class _Loop:
  """One run of the loop: its state, its log and its outputs. Its methods are the callbacks
  of :func:`jaxgan.run.periodic.drive` (advance, log, sample, save, stop) and share one run's
  mutable state (GAN state, log, pending records, timing), hence one class; the pictures
  are :class:`_Pictures`', the interrupted metrics :func:`_keep_pending`'s."""

  def __init__(self, cfg, task: Task, ckpt: Checkpointer, writer, interrupts: Interrupts):
    self.cfg, self.task, self.ckpt, self.writer = cfg, task, ckpt, writer
    self.interrupts = interrupts
    data = task.data
    self.total = config_lib.total_steps(cfg, len(data))
    _check_length(cfg, self.total, len(data), ckpt.latest_step())
    platform = platform_lib.current()
    self.per_call = cfg.steps_per_call or platform_lib.steps_per_call(cfg.arch, platform)
    self.run_ = Run(cfg, data.shape[1:], self.total, cfg.devices, task.num_classes)
    self.state = self.run_.init()
    self.feed = feed_lib.make(self.run_, task.train_data(), cfg.data_placement)
    log = outputs.MetricsLog if processes.lead() else outputs.ReadOnlyLog
    self.log = log(
      os.path.join(cfg.workdir, "metrics.jsonl"), os.path.join(cfg.workdir, "tensorboard")
    )
    self.wall_offset = self._restore_or_start()
    if processes.lead():
      self._save_config(platform, data)
    self.history = self.log.read()  # the records so far, kept in memory for the loss plot
    self.pictures = _Pictures(cfg, task, self.run_, writer, self.log, self.history)

  def _save_config(self, platform: str, data) -> None:
    """config.json: the settings and the facts of this run (what was chosen for it)."""
    config_lib.save(
      self.cfg,
      os.path.join(self.cfg.workdir, "config.json"),
      total_steps=self.total,
      platform=platform,
      steps_per_call_used=self.per_call,
      num_examples=len(data),
      image_shape=list(data.shape[1:]),
      num_classes=self.run_.gan.num_classes,
      data_placement_used=self.feed.placement,
      update_options=dataclasses.asdict(self.run_.gan.options),
    )

  def _restore_or_start(self) -> float:
    """Restores the latest checkpoint when resuming; returns the wall time already spent."""
    if self.cfg.resume and self.ckpt.latest_step() is not None:
      self.state = self.ckpt.restore(self.state)
      start = int(self.state.step)
      self.log.truncate_after(start)
      self.resumed_pending = _saved_pending(self.cfg.workdir, start)
      previous = self.log.read()
      processes.say(f"resumed from step {start} in {self.cfg.workdir}")
      return previous[-1]["wall_time"] if previous else 0.0
    self.log.clear()  # a fresh run (no checkpoint yet): start a fresh log
    self.resumed_pending = []
    return 0.0

  def log_now(self, step: int, host: list, now: float, sample_now=False, eval_now=False) -> bool:
    """Logs the mean of ``host`` (the host metrics since the last record), done at ``now``,
    with the samples' scores at a sample step and the evaluation at an evaluation step (the
    state is then at ``step``); returns False when they are not finite (the run diverged)."""
    host, self.resumed_pending = self.resumed_pending + host, []
    record = {"step": step}
    record.update(mean_metrics(host))
    record["steps_per_sec"] = (step - self.steps_at_log) / max(now - self.t_log, 1e-9)
    record["wall_time"] = self.wall_offset + now - self.t_start
    self.t_log, self.steps_at_log = now, step
    finite = _is_finite(record)
    if finite and sample_now and self.task.evaluate:
      record.update(self.pictures.samples(self.state, f"{step:07d}", step))
    if finite and eval_now:
      record.update(self.pictures.scores(self.state))
    self.log.write(record if finite else {**record, "diverged": True})
    self.history.append(record)
    return finite

  def run(self) -> int:
    """Drives the run to its total steps: log (with the samples' scores and the evaluation
    where due), samples and plots, checkpoint, in that order at each boundary; a log that
    finds non-finite metrics stops it before its checkpoint."""
    cfg, step = self.cfg, int(self.state.step)
    self.next_step = step
    self.bar = outputs.ProgressBar(self.total, cfg.progress and processes.lead(), initial=step)
    self.t_log, self.steps_at_log = time.perf_counter(), step
    self.t_start = self.t_log
    scored = cfg.eval_every if self.task.score else 0
    # A record at each checkpoint too, so that a resumed run's records are an uninterrupted one's.
    self.log_due = Periodic(cfg.log_every, cfg.ckpt_every, scored, at_end=True)
    self.records = Records(self.log_due, self.log_step, step, self.total, processes.to_host)
    actions = [  # each needs the state at its step: a dispatch ends there
      (Periodic(scored), lambda step: None),  # scored in the record of its step
      (Periodic(cfg.sample_every), self.sample_step),
      (Periodic(cfg.ckpt_every, at_end=True), self.save),
    ]
    # A sample grid needs no record first; an evaluation and a task's own evaluation of the
    # samples (in the record of their step) do. A checkpoint waits for its records in its
    # commit, while the next dispatch runs.
    evaluated = cfg.sample_every if self.task.evaluate else 0
    sync_on = Periodic(scored, evaluated, at_end=True)
    try:
      step, why = drive(
        step, self.total, self.per_call, self.advance, actions, self.interrupted, self.records,
        sync_on=sync_on,
      )  # fmt: skip
    finally:
      self.feed.close()
    self.bar.close()
    if why == INTERRUPTED:
      return self.stop_interrupted(step)
    return self.finish(step, why == STOP)

  def interrupted(self) -> bool:
    """A signal came to any process: every process stops at the same step."""
    return processes.any_process(bool(self.interrupts))

  def advance(self, n: int) -> dict:
    """``n`` updates in one dispatch; returns their metrics, still on the device. A failed
    background checkpoint stops the run here (it raises)."""
    self.ckpt.check()
    self.state, chunk = self.feed.advance(self.state, self.next_step, n)
    self.next_step += n
    self.bar.update(n)
    return chunk

  def log_step(self, step: int, host: list, now: float):
    cfg = self.cfg
    sample_now = bool(cfg.sample_every and step % cfg.sample_every == 0)
    eval_now = bool(cfg.eval_every and step % cfg.eval_every == 0 and self.task.score)
    # drive writes every record before a checkpoint, so none is saved after divergence.
    if not self.log_now(step, host, now, sample_now, eval_now):
      return STOP
    last = self.history[-1]
    shown = {"d_loss": f"{last['d_loss']:.3f}", "g_loss": f"{last['g_loss']:.3f}"}
    self.bar.update(0, **shown, sps=f"{last['steps_per_sec']:.0f}")
    return None

  def save(self, step: int) -> Callable[[], None]:
    """The checkpoint of ``step``: the state copied on the device now (the next dispatch
    takes the state's buffers), written by the returned commit once the records up to
    ``step`` are known finite, after the log they are in is on disk."""
    snapshot = self.run_.copy(self.state)

    def commit() -> None:
      self.log.sync()
      self.ckpt.save(snapshot, step)

    return commit

  def sample_step(self, step: int) -> None:
    if not (self.log_due.due(step, self.total) and self.task.evaluate):  # else drawn while logging
      self.pictures.samples(self.state, f"{step:07d}", step)

  def stop_interrupted(self, step: int) -> int:
    """After a signal: the metrics since the last record checked and kept beside a
    checkpoint of ``step``; what to run next said; the signal's exit code returned."""
    host = self.resumed_pending + self.records.leftover()
    if host and not _is_finite(mean_metrics(host)):  # diverged: no checkpoint of it
      self.log_now(step, self.records.leftover(), time.perf_counter())
      return self.finish(step, diverged=True)
    if processes.lead():
      _keep_pending(self.cfg.workdir, step, host)
    if self.ckpt.latest_step() != step:
      self.save(step)()
    self.pictures.plot()
    processes.say(
      f"interrupted at step {step} of {self.total} (checkpoint written); run the same command "
      "with --resume to continue"
    )
    # A process that another one's signal stopped exits as if it had been sent SIGTERM.
    return self.interrupts.exit_code if self.interrupts else 128 + signal.SIGTERM

  def finish(self, step: int, diverged: bool) -> int:
    self.pictures.plot()
    if diverged:
      processes.say(
        f"DIVERGED: non-finite metrics by step {step} (see {self.log.path}); no checkpoint "
        "was written after the last finite one."
      )
      return EXIT_DIVERGED
    self.pictures.samples(self.state, "final", step)
    loop = time.perf_counter() - self.t_start
    processes.say(
      f"done: {self.total} steps in {self.cfg.workdir} (the loop: {loop:.1f} s, "
      f"{self.records.waited:.1f} s of it waiting for the device)"
    )
    return 0
