"""What a run writes besides checkpoints: metrics.jsonl, sample grids and loss plots."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import PIL.Image
from tensorboardX import SummaryWriter
from tqdm import tqdm

from jaxgan.run import records

TENSORBOARD_FLUSH_SECS = 10  # how stale TensorBoard's view of a running job may be


class MetricsLog:
  """Appends one JSON record per line to ``path`` (the source of truth), and with
  ``tensorboard_dir`` also writes each record's numbers, and the sample grids given to
  :meth:`image`, as TensorBoard events there (tensorboardX: neither TensorFlow nor PyTorch).
  After :meth:`truncate_after` (a resumed run) or :meth:`clear` (a fresh one), TensorBoard is
  told to drop the events logged past that step by the interrupted run (``purge_step``).

  The events are not flushed per record (tensorboardX's flush fsyncs, and a live view needs no
  more than its own thread's flush every :data:`TENSORBOARD_FLUSH_SECS`); :meth:`close`
  flushes the rest."""

  def __init__(self, path: str, tensorboard_dir: str | None = None):
    self.path, self.tensorboard_dir = path, tensorboard_dir
    self._writer, self._purge_step = None, None

  def write(self, record: dict) -> None:
    records.append(self.path, [record], durable=False)  # strict JSON: non-finite as null
    if self.tensorboard_dir:
      writer, step = self._tensorboard(), int(record.get("step", 0))
      for key, value in record.items():
        if key != "step" and _is_number(value):
          writer.add_scalar(key, value, step)

  def image(self, tag: str, images: np.ndarray, step: int, rows: int | None = None) -> None:
    """A grid of ``images`` (N, H, W, C) in [-1, 1] as a TensorBoard image (no-op without
    TensorBoard)."""
    if self.tensorboard_dir:
      grid = image_grid(images, rows)
      self._tensorboard().add_image(tag, grid, step, dataformats="HW" if grid.ndim == 2 else "HWC")

  def _tensorboard(self):
    if self._writer is None:
      self._writer = SummaryWriter(
        self.tensorboard_dir, purge_step=self._purge_step, flush_secs=TENSORBOARD_FLUSH_SECS
      )
    return self._writer

  def sync(self) -> None:
    """Flushes the records written so far to the disk (before a checkpoint, so that a machine
    crash never leaves a checkpoint newer than its log)."""
    records.sync(self.path)

  def close(self) -> None:
    self.sync()
    if self._writer is not None:
      self._writer.close()
      self._writer = None

  def read(self) -> list[dict]:
    return records.read(self.path)  # a torn last line dropped (and the file repaired)

  def clear(self) -> None:
    """Starts the log afresh (a run without a checkpoint to resume)."""
    if os.path.exists(self.path):
      os.remove(self.path)
    self._purge_step = 0

  def truncate_after(self, step: int) -> None:
    """Drops records past ``step`` (logged after the checkpoint a run resumes from)."""
    records.write(self.path, [r for r in self.read() if r.get("step", 0) <= step])
    self._purge_step = step + 1


class ReadOnlyLog(MetricsLog):
  """The log as a process that writes nothing sees it (not process 0 of a multi-process run,
  :mod:`jaxgan.run.processes`): it reads the file, and writes, syncs and clears nothing."""

  def write(self, record: dict) -> None:
    pass

  def image(self, tag: str, images: np.ndarray, step: int, rows: int | None = None) -> None:
    pass

  def sync(self) -> None:
    pass

  def close(self) -> None:
    pass

  def clear(self) -> None:
    pass

  def truncate_after(self, step: int) -> None:
    pass


def _is_number(value) -> bool:
  return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def image_grid(images: np.ndarray, rows: int | None = None) -> np.ndarray:
  """Tiles images (N, H, W, C) in [-1, 1] into one uint8 image, ``rows`` × ceil(N/rows)."""
  images = np.asarray(images, np.float32)
  n, h, w, c = images.shape
  rows = rows or int(math.ceil(math.sqrt(n)))
  cols = int(math.ceil(n / rows))
  pad = 1
  grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), -1.0, np.float32)
  for i in range(n):
    r, q = divmod(i, cols)
    grid[
      pad + r * (h + pad) : pad + r * (h + pad) + h, pad + q * (w + pad) : pad + q * (w + pad) + w
    ] = images[i]
  grid = np.clip(np.round((grid + 1.0) * 127.5), 0, 255).astype(np.uint8)
  return grid[..., 0] if c == 1 else grid


def save_image_grid(images: np.ndarray, path: str, rows: int | None = None, scale: int = 2) -> None:

  img = PIL.Image.fromarray(image_grid(images, rows))
  if scale > 1:
    img = img.resize((img.width * scale, img.height * scale), PIL.Image.NEAREST)
  img.save(path)


def plot_losses(records: Iterable[dict], path: str, title: str = "") -> None:
  """Plots d_loss and g_loss (left) and mean D(x), D(G(z)) (right) against the step."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  records = [r for r in records if "d_loss" in r]
  steps = [r["step"] for r in records]
  fig, (ax_l, ax_d) = plt.subplots(1, 2, figsize=(10, 3.6))
  ax_l.plot(steps, [r["d_loss"] for r in records], label="D loss")
  ax_l.plot(steps, [r["g_loss"] for r in records], label="G loss")
  ax_l.set(xlabel="step", ylabel="loss")
  ax_l.legend()
  ax_d.plot(steps, [r["d_real"] for r in records], label="mean D(x)")
  ax_d.plot(steps, [r["d_fake"] for r in records], label="mean D(G(z))")
  ax_d.set(xlabel="step", ylim=(0, 1))
  ax_d.legend()
  if title:
    fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


class ProgressBar:
  """A tqdm bar on stderr counting ``unit`` up to ``total``, or nothing where ``enabled`` is
  false (or there is nothing to count)."""

  def __init__(self, total: int, enabled: bool, initial: int = 0, unit: str = "step"):
    self._bar = None
    if enabled and total:
      self._bar = tqdm(total=total, initial=initial, unit=unit, dynamic_ncols=True, file=sys.stderr)

  def update(self, n: int, **shown) -> None:
    """Counts ``n`` more; ``shown`` replaces the figures written after the bar."""
    if self._bar is not None:
      if shown:
        self._bar.set_postfix(**shown)
      self._bar.update(n)

  def close(self) -> None:
    if self._bar is not None:
      self._bar.close()


class BackgroundWriter:
  """Runs a run's file writing (sample grids, loss plots) on one background thread, in
  submission order, so the training loop never waits for PNG encoding or matplotlib.

  A loss plot costs a fraction of a second of host time: noise beside 1,000 CPU steps, but
  as long as 1,000 steps on an accelerator, where the device would idle meanwhile (figures in
  BENCHMARKS.md, "Whole runs"). :meth:`close` waits for everything and re-raises the first error; a failed job is
  also raised at the next :meth:`submit`.
  """

  def __init__(self):
    self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jaxgan-writer")
    self._pending: list[Future] = []
    self._latest: dict[str, Future] = {}

  def submit(self, fn: Callable[[], None], key: str | None = None) -> None:
    """Queues ``fn()``. With a ``key``, skipped while an earlier job of that key is still
    queued (not yet started): that one draws the newest data when it runs, so a slow plot
    never piles up behind a fast loop."""
    self._raise_failures()
    if key is not None:
      queued = self._latest.get(key)
      if queued is not None and not queued.running() and not queued.done():
        return
    future = self._pool.submit(fn)
    self._pending.append(future)
    if key is not None:
      self._latest[key] = future

  def close(self) -> None:
    """Waits for every queued job; re-raises the first failure."""
    self._pool.shutdown(wait=True)
    self._raise_failures()

  def _raise_failures(self) -> None:
    done = [f for f in self._pending if f.done()]
    self._pending = [f for f in self._pending if not f.done()]
    for f in done:
      f.result()  # raises the job's exception, if any


def plot_series(records: list[dict], keys: Iterable[str], path: str, cols: int = 4) -> None:
  """One panel per key of ``records`` against their ``step`` (records without it skipped)."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  keys = list(keys)
  rows = math.ceil(len(keys) / cols)
  fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.5 * rows), squeeze=False)
  for ax, k in zip(axes.flat, keys):
    points = [(r["step"], r[k]) for r in records if r.get(k) is not None]
    if points:
      ax.plot(*zip(*points), marker="o")
    ax.set(title=k, xlabel="step")
  for ax in list(axes.flat)[len(keys) :]:
    ax.axis("off")
  fig.tight_layout()
  fig.savefig(path, dpi=90)
  plt.close(fig)
