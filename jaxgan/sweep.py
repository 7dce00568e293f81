"""The sweep runner: members grouped into populations, trained chunk by chunk, scored, tabled.

``run_sweep(members, workdir)`` groups the members (:mod:`jaxgan.population`), cuts each group
into chunks of ``chunk_size`` members (per platform, :func:`default_chunk_size`), and trains
each chunk with one compiled, vmapped, scanned program built once per group. A chunk is
checkpointed with orbax (``chunks/<first>-<last>_<digest>/checkpoints``, every ``ckpt_every`` steps and at
the end), and every finished chunk appends its members' rows to ``results.jsonl``: a sweep
that is killed and run again trains only the members without a row, each unfinished chunk from
its latest checkpoint, and ends with the results of an uninterrupted sweep. Each member also writes ``members/<i>/metrics.jsonl``
in a single run's format, and its final FCD (:mod:`jaxgan.quality`) when the dataset has
labelled train images. :mod:`jaxgan.sweep_report` turns the rows into tables and figures.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import time

import jax
import numpy as np

from jaxgan import config as config_lib
from jaxgan import metrics, population, train
from jaxgan.checkpoint import Checkpointer
from jaxgan.config import Config
from jaxgan.gan import build_gan
from jaxgan.loop import Task, default_steps_per_call

RESULTS = "results.jsonl"


def default_chunk_size(platform: str) -> int:
  """Members trained at once. On the CPU a vmapped population runs slower per GAN than one
  GAN alone (BENCHMARKS.md: 8 members 0.88×, 64 0.71× of a single MLP GAN's steps/s), so
  members train one at a time there, sharing the group's compiled program. Accelerators run
  many small GANs at once; 64 is a first choice, not yet measured (no GPU so far)."""
  return 1 if platform == "cpu" else 64


def read_results(workdir: str) -> dict[int, dict]:
  """The rows of finished members, by member index."""
  path = os.path.join(workdir, RESULTS)
  if not os.path.exists(path):
    return {}
  with open(path) as f:
    return {row["member"]: row for row in map(json.loads, filter(str.strip, f))}


def run_sweep(
  members: list[Config],
  workdir: str,
  task_for,
  chunk_size: int | None = None,
  scorer_for=None,
  eval_samples: int = 5000,
  progress: bool = True,
) -> list[dict]:
  """Trains every member without a row in ``results.jsonl``; returns all rows, by member.

  ``task_for(cfg) -> Task`` loads a member's data (called once per group); ``scorer_for(cfg)``
  returns an FCD scorer or None (no score)."""
  done = read_results(workdir)
  chunk_size = chunk_size or default_chunk_size(jax.default_backend())
  todo = {k: [i for i in idx if i not in done] for k, idx in population.group(members).items()}
  total = sum(len(v) for v in todo.values())
  bar = _progress(total, progress)
  t0, gan_steps = time.perf_counter(), 0
  for indices in filter(None, todo.values()):
    cfgs = [members[i] for i in indices]
    task = task_for(cfgs[0])
    scorer = scorer_for(cfgs[0]) if scorer_for else None
    trainer = _GroupTrainer(cfgs[0], task)
    for start in range(0, len(indices), chunk_size):
      chunk = indices[start : start + chunk_size]
      ckpt = Checkpointer(os.path.join(workdir, "chunks", _chunk_name(chunk), "checkpoints"))
      try:
        rows = trainer.train([members[i] for i in chunk], chunk, scorer, eval_samples, ckpt)
      finally:
        ckpt.close()
      _append_rows(workdir, rows)
      done.update({r["member"]: r for r in rows})
      gan_steps += len(chunk) * trainer.total
      if bar is not None:  # GAN-steps/s over the whole sweep so far, scoring included
        bar.set_postfix(gan_steps_per_s=f"{gan_steps / (time.perf_counter() - t0):.0f}")
        bar.update(len(chunk))
  if bar is not None:
    bar.close()
  return [done[i] for i in range(len(members))]


def _chunk_name(chunk: list[int]) -> str:
  """A chunk's folder: its first and last member and a digest of all of them (a chunk of 256
  members would not fit in a file name)."""
  digest = hashlib.sha1(",".join(map(str, chunk)).encode()).hexdigest()[:8]
  return f"{chunk[0]}-{chunk[-1]}_{digest}"


def _progress(total: int, enabled: bool):
  if not enabled or not total:
    return None
  from tqdm import tqdm

  return tqdm(total=total, unit="member", dynamic_ncols=True, file=sys.stderr)


def _append_rows(workdir: str, rows: list[dict]) -> None:
  with open(os.path.join(workdir, RESULTS), "a") as f:
    f.writelines(json.dumps(r) + "\n" for r in rows)


class _GroupTrainer:
  """A group's compiled program, built once and reused by each of its chunks."""

  def __init__(self, cfg: Config, task: Task):
    self.cfg, self.task = cfg, task
    self.gan = build_gan(cfg, task.data.shape[1:])
    self.data = jax.device_put(task.data)
    self.total = (
      cfg.steps
      if cfg.steps is not None
      else int(round(cfg.epochs * (len(task.data) // cfg.batch_size)))
    )
    self.per_call = cfg.steps_per_call or default_steps_per_call(cfg.arch, jax.default_backend())
    self.steps_for = {}  # chunk size -> compiled program (the last chunk may be smaller)
    self.init = population.make_init(self.gan)
    self.sample = jax.jit(jax.vmap(self.gan.sample, in_axes=(0, 0, None)))

  def train(
    self, cfgs: list[Config], indices: list[int], scorer, eval_samples: int, ckpt: Checkpointer
  ):
    """Trains one chunk to the end, from its latest checkpoint in ``ckpt`` if it has one;
    returns its members' result rows. Checkpoints every ``ckpt_every`` steps and at the end."""
    t0 = time.perf_counter()
    members, keys = population.init_members(self.gan, cfgs, self.init)
    members, keys, data = population.shard(members, keys, self.data)
    step = ckpt.latest_step() or 0
    if step:
      members = ckpt.restore(members)
      print(f"members {indices[0]}-{indices[-1]}: resumed from step {step}", file=sys.stderr)
    logs = [self._open_log(c, step) for c in cfgs]
    evals = [self._open_log(c, step, "eval.jsonl") for c in cfgs]
    stopped = [any(r.get("diverged") for r in log.read()) for log in logs]
    pending, every = [], (self.cfg.log_every, self.cfg.ckpt_every, self.cfg.eval_every)
    while step < self.total:
      n = min([self.per_call, self.total - step] + [e - step % e for e in every if e])
      members, chunk_metrics = self.run_steps(len(cfgs))(members, data, keys, n)
      pending.append(chunk_metrics)
      step += n
      if step % self.cfg.log_every == 0 or step == self.total:
        self._log(logs, stopped, pending, step, members)
        pending = []
      if (self.cfg.eval_every and step % self.cfg.eval_every == 0) or step == self.total:
        self._evaluate(evals, step, members, scorer, eval_samples)
      if (self.cfg.ckpt_every and step % self.cfg.ckpt_every == 0) or step == self.total:
        ckpt.save(members, step)
    wall = (time.perf_counter() - t0) / len(cfgs)
    return [
      self._row(i, c, members, j, logs[j], evals[j], wall)
      for j, (i, c) in enumerate(zip(indices, cfgs))
    ]

  def _evaluate(self, evals, step: int, members, scorer, eval_samples: int) -> None:
    """Appends each member's FCD at ``step`` to its eval.jsonl (None once it diverged)."""
    if scorer is None or not eval_samples:
      return
    for log, score in zip(evals, self._score(members, len(evals), scorer, eval_samples)):
      log.write({"step": step, "fcd": score})

  def run_steps(self, size: int):
    if size not in self.steps_for:
      step = population.make_population_step(self.gan, self.cfg.batch_size, size)
      self.steps_for[size] = train.make_multi_step(step)
    return self.steps_for[size]

  def _open_log(self, cfg: Config, step: int, name: str = "metrics.jsonl") -> metrics.MetricsLog:
    """A member's log, without records past ``step`` (where its chunk resumes; 0: fresh)."""
    os.makedirs(cfg.workdir, exist_ok=True)
    config_lib.save(cfg, os.path.join(cfg.workdir, "config.json"), total_steps=self.total)
    log = metrics.MetricsLog(os.path.join(cfg.workdir, name))
    if os.path.exists(log.path):
      log.truncate_after(step)
    return log

  def _log(self, logs, stopped, pending, step: int, members) -> None:
    """One record per member not yet stopped (metrics averaged over the interval); the
    record of the interval in which a member diverged says so, and is its last."""
    host = jax.device_get(pending)
    alive = np.asarray(members.alive)
    for j, log in enumerate(logs):
      if stopped[j]:
        continue
      record = {"step": step}
      record.update(
        {k: float(np.mean(np.concatenate([c[k][:, j] for c in host]))) for k in host[0]}
      )
      if not alive[j]:
        record["diverged"] = stopped[j] = True
      log.write(record)

  def _score(self, members, size: int, scorer, eval_samples: int) -> list[float | None]:
    """Each member's FCD of ``eval_samples`` samples (from G's EMA when kept) drawn from the
    same latents; None for a member that diverged."""
    state = members.state
    g_params = state.g_params if state.g_ema is None else state.g_ema
    z = self.gan.latents(jax.random.key(0), eval_samples)
    images = np.concatenate(
      [
        np.asarray(self.sample(g_params, state.g_state, z[k : k + 1000]))
        for k in range(0, eval_samples, 1000)
      ],
      axis=1,
    )
    alive = np.asarray(members.alive)
    return [
      float(scorer(images[j])) if alive[j] and np.isfinite(images[j]).all() else None
      for j in range(size)
    ]

  def _row(self, index, cfg, members, j, log, evals, wall) -> dict:
    """A member's result: final metrics, final FCD, and its best FCD over the evaluations and
    the step of it (Lucic et al. keep the best score over checkpoints)."""
    records = log.read()
    last = records[-1] if records else {}
    scores = [r for r in evals.read() if r["fcd"] is not None]
    final = scores[-1] if scores and scores[-1]["step"] == self.total else None
    best = min(scores, key=lambda r: r["fcd"]) if scores else None
    diverged_step = int(np.asarray(members.diverged_step)[j])
    return {
      "member": index,
      "config": config_lib.to_dict(cfg),
      "final": {k: v for k, v in last.items() if k not in ("step", "diverged")},
      "fcd": final and final["fcd"],
      "best_fcd": best and best["fcd"],
      "best_step": best and best["step"],
      "diverged": diverged_step >= 0,
      "diverged_step": diverged_step if diverged_step >= 0 else None,
      "steps": self.total,
      "wall_s": wall,
    }


def member_configs(base: dict, points: list[dict], seeds: int, workdir: str) -> list[Config]:
  """One member per point and seed (seeds base seed, base seed + 1, ...), each a validated
  Config whose workdir is ``<workdir>/members/<index>``."""
  base_seed = base.get("seed", 0)
  members = []
  for point in points:
    for s in range(seeds):
      values = {**base, **point, "seed": base_seed + s}
      values["workdir"] = os.path.join(workdir, "members", str(len(members)))
      members.append(config_lib.make_config(**values))
  return members


def spec_record(members: list[Config]) -> list[dict]:
  return [dataclasses.asdict(m) for m in members]
