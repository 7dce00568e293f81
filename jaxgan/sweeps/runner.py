"""The sweep runner: members grouped into populations, trained chunk by chunk, scored, tabled.

``run_sweep(members, workdir)`` groups the members (:mod:`jaxgan.sweeps.population`), cuts each group
into chunks of ``chunk_size`` members (per platform, :func:`jaxgan.backend.platform.population_chunk_size`), and trains
each chunk with one compiled, vmapped, scanned program built once per group. A chunk is
checkpointed with orbax (``chunks/<first>-<last>_<digest>/checkpoints``, every ``ckpt_every``
steps and at the end), and every finished chunk appends its members' rows to
``results.jsonl``: a sweep that is killed and run again trains only the members without a
row, each unfinished chunk from its latest checkpoint, and ends with the results of an
uninterrupted sweep. Each member writes ``members/<i>/metrics.jsonl`` in a single run's
format, its metrics (:mod:`jaxgan.eval.quality`: FCD, KID, precision/recall, ...) at each
evaluation when the dataset has labelled train images, and a grid of its samples at each evaluation and at the end.

Many machines: ``shard=(k, n)`` trains every n-th member of each group, for independent jobs
writing into one workdir (:func:`merge` joins their rows); a multi-process JAX runtime
(``jax.distributed``) shards each chunk over every process's devices instead.
:mod:`jaxgan.sweeps.report` turns the rows into tables and figures.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import os
import time
from typing import Any

import jax
import numpy as np
from jax.experimental import multihost_utils

from jaxgan import config as config_lib
from jaxgan.backend import platform
from jaxgan.config import Config
from jaxgan.core.build import build_gan
from jaxgan.run import outputs, processes, records
from jaxgan.run.checkpoint import Checkpointer
from jaxgan.run.driver import Task
from jaxgan.run.keys import eval_labels, eval_latents
from jaxgan.run.periodic import (
  INTERRUPTED,
  Periodic,
  Records,
  drive,
  mean_metrics,
  sample_in_chunks,
)
from jaxgan.sweeps import population
from jaxgan.sweeps.spec import member_dir

RESULTS = "results.jsonl"


def read_results(workdir: str) -> dict[int, dict]:
  """The rows of finished members, by member index: ``results.jsonl`` and every shard's
  ``shards/<k>-of-<n>.jsonl``."""
  paths = [os.path.join(workdir, RESULTS)]
  shards = os.path.join(workdir, "shards")
  if os.path.isdir(shards):
    paths += [os.path.join(shards, f) for f in sorted(os.listdir(shards)) if f.endswith(".jsonl")]
  rows = {}
  for path in paths:  # a torn last row (a killed append) is dropped and its member redone
    rows.update({row["member"]: row for row in records.read(path, repair=processes.lead())})
  return rows


def share(members: list[Config], k: int, n: int) -> list[int]:
  """The members of shard ``k`` of ``n``: every n-th of the members taken group by group, so
  that every shard gets a like share of every group's work and of the whole (shards differ by
  one member at most; a group of one is not always shard 0's)."""
  by_group = [i for idx in population.group(members).values() for i in idx]
  return sorted(by_group[k::n])


class MissingResults(RuntimeError):
  pass


def merge(workdir: str, size: int) -> list[dict]:
  """All ``size`` members' rows from the shards' files, written to ``results.jsonl``."""
  rows = read_results(workdir)
  missing = [i for i in range(size) if i not in rows]
  if missing:
    listed = ", ".join(map(str, missing[:10])) + (", ..." if len(missing) > 10 else "")
    raise MissingResults(
      f"{len(missing)} of {size} members have no results in {workdir} yet ({listed}): "
      "run their shards (the same command with their --shard=K/N) first"
    )
  ordered = [rows[i] for i in range(size)]
  records.write(os.path.join(workdir, RESULTS), ordered)
  return ordered


def run_sweep(
  members: list[Config],
  workdir: str,
  task_for,
  chunk_size: int | None = None,
  scorer_for=None,
  progress: bool = True,
  shard: tuple[int, int] = (0, 1),
  interrupted=lambda: False,
) -> list[dict]:
  """Trains the members of ``shard`` (k, n) without a row yet; returns its rows, by member.

  ``task_for(cfg) -> Task`` loads a member's data (called once per group); ``scorer_for(cfg)``
  returns an FCD scorer or None (no score). Rows go to ``results.jsonl``, or with n > 1 to
  ``shards/<k>-of-<n>.jsonl`` (:func:`merge` joins them). In a multi-process JAX runtime
  (``jax.distributed``) every process calls this alike: each chunk is sharded over the devices
  of all processes, and process 0 writes the logs and rows. Once ``interrupted()`` is true (on
  any process), the chunk in training checkpoints the step it is at and the sweep returns the
  rows done so far."""
  stop = lambda: processes.any_process(bool(interrupted()))
  mine = share(members, *shard)
  done = _agreed(read_results(workdir), len(members))
  chunk_size = _chunk_size(chunk_size)
  groups = list(population.group(members).values())
  todo = [[i for i in idx if i in mine and i not in done] for idx in groups]
  bar = outputs.ProgressBar(sum(map(len, todo)), progress and processes.lead(), unit="member")
  results = os.path.join(
    workdir, RESULTS if shard[1] == 1 else f"shards/{shard[0]}-of-{shard[1]}.jsonl"
  )
  t0, gan_steps = time.perf_counter(), 0
  with contextlib.closing(Writing()) as writing:
    for group, indices in zip(groups, todo):
      if not indices:
        continue
      cfgs = [members[i] for i in indices]
      task = task_for(cfgs[0])
      samples = cfgs[0].eval_samples  # a run field: the group's first member's
      scorer = scorer_for(cfgs[0]) if scorer_for and samples and processes.lead() else None
      scoring = Scoring(samples if _all_know(scorer is not None) else 0, scorer)
      # Built for the whole group, so that a resumed sweep compiles the program it started with.
      trainer = GroupTrainer(population.group_config([members[i] for i in group]), task)
      for start in range(0, len(indices), chunk_size):
        chunk = indices[start : start + chunk_size]
        ckpt = Checkpointer(os.path.join(workdir, "chunks", _chunk_name(chunk), "checkpoints"))
        with writing.after(ckpt):
          rows = trainer.train([members[i] for i in chunk], chunk, scoring, ckpt, stop)
        if rows is None:  # interrupted: the chunk checkpointed where it stopped
          bar.close()
          return [done[i] for i in mine if i in done]
        if processes.lead():
          records.append(results, rows)
        done.update({r["member"]: r for r in rows})
        gan_steps += len(chunk) * trainer.total
        # GAN-steps/s over the whole sweep so far, scoring included
        bar.update(len(chunk), gan_steps_per_s=f"{gan_steps / (time.perf_counter() - t0):.0f}")
  bar.close()
  return [done[i] for i in mine if i in done]


class Writing:
  """The checkpointer of the chunk before, whose last save orbax writes in the background
  while the next chunk trains: ``with writing.after(ckpt): train`` closes (waits for) the one
  before once the training is done, then keeps ``ckpt`` open; on an error, both are closed."""

  def __init__(self):
    self.open: Checkpointer | None = None

  @contextlib.contextmanager
  def after(self, ckpt: Checkpointer):
    try:
      yield
    except BaseException:
      ckpt.close()
      raise
    finally:
      self.close()
    self.open = ckpt

  def close(self) -> None:
    if self.open is not None:
      self.open, ckpt = None, self.open
      ckpt.close()


def _chunk_name(chunk: list[int]) -> str:
  """A chunk's folder: its first and last member and a digest of all of them (a chunk of 256
  members would not fit in a file name)."""
  digest = hashlib.sha1(",".join(map(str, chunk)).encode()).hexdigest()[:8]
  return f"{chunk[0]}-{chunk[-1]}_{digest}"


class GroupTrainer:
  """A group's compiled program, built once and reused by each of its chunks."""

  def __init__(self, cfg: Config, task: Task):
    self.cfg, self.task = cfg, task
    self.total = config_lib.total_steps(cfg, len(task.data))
    self.gan = build_gan(cfg, task.data.shape[1:], self.total, num_classes=task.num_classes)
    self.data = jax.device_put(task.train_data())
    self.per_call = cfg.steps_per_call or platform.steps_per_call(cfg.arch)
    self.steps_for = {}  # chunk size -> compiled program (the last chunk may be smaller)
    self.init = population.make_init(self.gan)
    self.sample = jax.jit(jax.vmap(self.gan.sample, in_axes=(0, 0, None, None)))

  def train(self, cfgs, indices: list[int], scoring: Scoring, ckpt: Checkpointer, stop=None):
    """Trains one chunk to the end, from its latest checkpoint in ``ckpt`` if it has one;
    returns its members' result rows (on process 0; other processes return none), or None
    when ``stop()`` ended it early (with a checkpoint of the step it stopped at).
    Checkpoints every ``ckpt_every`` steps and at the end."""
    t0, size = time.perf_counter(), len(cfgs)
    cfgs = _padded(cfgs)  # a multi-process chunk fills every device; the copies are dropped
    members, keys = population.init_members(self.gan, cfgs, self.init)
    members, keys, data = population.shard(members, keys, self.data)
    step = ckpt.latest_step() or 0
    if step:
      members = ckpt.restore(members)
      processes.say(f"members {indices[0]}-{indices[-1]}: resumed from step {step}")
    logs = [self._open_log(c, step) for c in cfgs[:size]] if processes.lead() else []
    evals = [self._open_log(c, step, "eval.jsonl") for c in cfgs[:size]] if processes.lead() else []
    stopped = [any(r.get("diverged") for r in log.read()) for log in logs]
    now = {"members": members}  # what the actions read and write

    def advance(n: int) -> dict:
      ckpt.check()  # a failed background checkpoint stops the chunk here
      now["members"], chunk_metrics = self.run_steps(len(cfgs))(now["members"], data, keys, n)
      return chunk_metrics

    log = lambda step, host, _: self._log(logs, stopped, host, step)
    evaluate = lambda step: self._evaluate(cfgs[:size], evals, step, now["members"], scoring)
    logged = Periodic(self.cfg.log_every, at_end=True)
    self.writer = outputs.BackgroundWriter()  # the members' sample grids, off the loop's thread
    try:
      # A stop request is served at a log boundary (at most log_every steps on), so that the
      # logs and rows of a continued sweep are those of an uninterrupted one.
      step, why = drive(
        step,
        self.total,
        self.per_call,
        advance,
        [
          (Periodic(self.cfg.eval_every, at_end=True), evaluate),
          (Periodic(self.cfg.ckpt_every, at_end=True), lambda s: _save(ckpt, now, logs + evals, s)),
        ],
        stop or (lambda: False),
        Records(logged, log, step, self.total, to_host=processes.to_host),
        stop_on=logged,
      )
    finally:
      self.writer.close()
    for log_ in logs + evals:
      log_.close()
    if why == INTERRUPTED:
      if ckpt.latest_step() != step:
        ckpt.save(now["members"], step)
      return None
    wall = (time.perf_counter() - t0) / size
    diverged = processes.to_host(now["members"].diverged_step)
    return [
      self._row(i, c, int(diverged[j]), logs[j], evals[j], wall)
      for j, (i, c) in enumerate(zip(indices, cfgs[:size]))
      if processes.lead()
    ]

  def _evaluate(self, cfgs, evals, step: int, members, scoring: Scoring) -> None:
    """Each member's metrics at ``step`` into its eval.jsonl (``fcd`` or ``fid``: None once it diverged;
    KID, precision, recall, ... beside it) and a 10×10
    grid of its samples (``samples_<step>.png``); at the end, the grid even without scores."""
    if not (scoring.samples or step == self.total):
      return
    num = max(scoring.samples, 100)
    images, alive = self._samples(members, num), processes.to_host(members.alive)
    labels = eval_labels(self.gan, scoring.samples)  # a conditional G's classes, else None
    name = config_lib.distance_name(cfgs[0].features)
    for j, (cfg, log) in enumerate(zip(cfgs, evals)):
      ok = bool(alive[j]) and np.isfinite(images[j]).all()
      self.writer.submit(functools.partial(_draw, images[j, :100], cfg.workdir, step, log))
      if scoring.scorer is not None and scoring.samples:
        log.write(
          {
            "step": step,
            **(
              _scores(scoring.scorer, images[j, : scoring.samples], name, labels)
              if ok
              else {name: None}
            ),
          }
        )

  def run_steps(self, size: int):
    if size not in self.steps_for:
      unroll = platform.scan_unroll(self.cfg.arch)
      self.steps_for[size] = population.make_population_run(
        self.gan, self.cfg.batch_size, size, unroll=unroll
      )
    return self.steps_for[size]

  def _open_log(self, cfg: Config, step: int, name: str = "metrics.jsonl") -> outputs.MetricsLog:
    """A member's log, without records past ``step`` (where its chunk resumes; 0: fresh)."""
    os.makedirs(cfg.workdir, exist_ok=True)
    config_lib.save(
      cfg, os.path.join(cfg.workdir, "config.json"), total_steps=self.total,
      num_classes=self.gan.num_classes,
    )  # fmt: skip
    log = outputs.MetricsLog(
      os.path.join(cfg.workdir, name), os.path.join(cfg.workdir, "tensorboard")
    )
    if os.path.exists(log.path):
      log.truncate_after(step)
    else:
      log.clear()
    return log

  def _log(self, logs, stopped, host: list, step: int) -> None:
    """One record per member not yet stopped (metrics averaged over the interval); the
    record of the interval in which a member diverged (its metrics were not finite, as the
    population step decides) says so, and is its last."""
    for j, log in enumerate(logs):
      if stopped[j]:
        continue
      finite = all(np.isfinite(c[k][:, j]).all() for c in host for k in c)
      record = {"step": step, **mean_metrics(host, member=j)}
      if not finite:
        record["diverged"] = stopped[j] = True
      log.write(record)

  def _samples(self, members, num: int) -> np.ndarray:
    """``num`` samples of every member (from G's EMA when kept), all from the same latents."""
    z, labels = eval_latents(self.gan, num), eval_labels(self.gan, num)
    return np.concatenate(
      processes.to_host(sample_in_chunks(self.sample, members.state, z, labels=labels)), axis=1
    )

  def _row(self, index, cfg, diverged_step: int, log, evals, wall) -> dict:
    """A member's result: final metrics, final FCD, and its best FCD over the evaluations and
    the step of it (Lucic et al. keep the best score over checkpoints)."""
    records = log.read()
    last = records[-1] if records else {}
    name = config_lib.distance_name(cfg.features)
    scores = [r for r in evals.read() if r.get(name) is not None]
    final = scores[-1] if scores and scores[-1]["step"] == self.total else None
    best = min(scores, key=lambda r: r[name]) if scores else None
    return {
      "member": index,
      "config": {**config_lib.to_dict(cfg), "workdir": member_dir(cfg.workdir)},
      "final": {k: v for k, v in last.items() if k not in ("step", "diverged")},
      name: final and final[name],
      f"best_{name}": best and best[name],
      "best_step": best and best["step"],
      "diverged": diverged_step >= 0,
      "diverged_step": diverged_step if diverged_step >= 0 else None,
      "steps": self.total,
      "wall_s": wall,
    }


@dataclasses.dataclass(frozen=True)
class Scoring:
  """How a sweep scores its members: ``samples`` per member and evaluation (0: none), and the
  ``scorer``, a :class:`jaxgan.eval.quality.FrechetClassifierDistance` (only process 0 holds one;
  None: no labelled train images)."""

  samples: int = 0
  scorer: Any = None


def _save(ckpt: Checkpointer, now: dict, logs: list, step: int) -> None:
  """A chunk's checkpoint, once its members' logs are on the disk."""
  for log in logs:
    log.sync()
  ckpt.save(now["members"], step)


def _draw(images: np.ndarray, workdir: str, step: int, log: outputs.MetricsLog) -> None:
  """A member's 10×10 grid of samples: ``samples_<step>.png`` and a TensorBoard image."""
  outputs.save_image_grid(images, os.path.join(workdir, f"samples_{step}.png"), 10)
  log.image("samples", images, step, rows=10)


def _scores(scorer, images: np.ndarray, name: str, labels=None) -> dict:
  """Every metric of ``scorer.metrics`` (with the class metrics of a conditional G's samples
  of ``labels``), numbers only, the Fréchet distance as ``name``."""
  if labels is None:
    metrics_ = scorer.metrics(images)
  else:
    metrics_ = scorer.metrics(images, labels=np.asarray(labels))
  numbers = {k: v for k, v in metrics_.items() if isinstance(v, int | float) and k != "fd"}
  return {name: metrics_["fd"], **numbers}


# A multi-process runtime (jax.distributed): every process runs every chunk, sharded over all
# processes' devices; process 0 alone writes logs, rows and pictures.


def _all_know(flag: bool) -> bool:
  """Process 0's ``flag``, on every process."""
  if jax.process_count() == 1:
    return flag

  return bool(multihost_utils.broadcast_one_to_all(np.array(flag)))


def _agreed(done: dict[int, dict], size: int) -> dict[int, dict]:
  """The finished members as process 0 sees them, so that every process trains the same
  chunks (processes read the workdir at slightly different times)."""
  if jax.process_count() == 1:
    return done

  mask = multihost_utils.broadcast_one_to_all(np.array([i in done for i in range(size)]))
  return {i: done.get(i, {"member": i}) for i in np.flatnonzero(mask).tolist()}


def _chunk_size(requested: int | None) -> int:
  """``requested`` or the platform's default, rounded up to fill every device of a
  multi-process runtime."""
  size = requested or platform.population_chunk_size()
  if jax.process_count() == 1:
    return size
  return -(-size // jax.device_count()) * jax.device_count()


def _padded(cfgs: list[Config]) -> list[Config]:
  if jax.process_count() == 1:
    return cfgs
  return cfgs + cfgs[-1:] * (-len(cfgs) % jax.device_count())
