"""The one training loop: a step budget, periodic actions, and records read behind the device.

    drive(step, total, per_call, advance, [(Periodic(ckpt_every, at_end=True), save), ...],
          records=Records(Periodic(log_every, at_end=True), write, step))

runs ``advance(n)`` (n compiled steps in one dispatch, at most ``per_call``) up to the next
step at which an action is due, then the due actions, until ``total`` steps are done or an
action returns :data:`STOP`. Actions need the training state at their step (samples,
evaluation, checkpoints), so a dispatch ends there. Log records do not: ``advance`` returns the
per-step metrics of its dispatch, and :class:`Records` reads them to the host one dispatch
behind (the device runs the next dispatch meanwhile) and writes a record at each of its
boundaries, wherever the dispatches end. Before the actions of a step where ``sync_on`` is due
(an evaluation), and at the end, every record up to that step is written, so such an action
sees the record of its step. An action may instead return a *commit* (a callable): drive runs
it once every step up to the action's step is in a finite record, which is after the next
dispatch was issued, so the device does not wait while the host learns that; a checkpoint
snapshots the state on the device and writes it in its commit, and so none follows a step whose
metrics were not finite. A single run
(:mod:`jaxgan.run.driver`) and a sweep's population (:mod:`jaxgan.sweeps.runner`) are both
driven by it, as clu's ``PeriodicAction`` and jaxline's hooks drive one loop.
"""

from __future__ import annotations

import collections
import dataclasses
import time
from collections.abc import Callable, Sequence

import jax
import numpy as np

STOP = "stop"  # what an action or a record's writer returns to end the loop (the run diverged)
INTERRUPTED = "interrupted"  # what drive returns when ``interrupted()`` asked it to stop


@dataclasses.dataclass(frozen=True)
class Periodic:
  """Due at every multiple of any of ``every`` (0: never), and at the last step when
  ``at_end``."""

  every: tuple[int, ...]
  at_end: bool = False

  def __init__(self, *every: int, at_end: bool = False):
    object.__setattr__(self, "every", tuple(e for e in every if e))
    object.__setattr__(self, "at_end", at_end)

  def due(self, step: int, total: int) -> bool:
    return (self.at_end and step == total) or any(step % e == 0 for e in self.every)

  def next(self, step: int, total: int) -> int:
    """The first step after ``step`` at which it is due (``total`` if none comes before)."""
    return min([total] + [(step // e + 1) * e for e in self.every])


Action = tuple[Periodic, Callable[[int], object]]


def next_stop(step: int, total: int, per_call: int, actions: Sequence[Action]) -> int:
  """The step where the next dispatch ends: ``per_call`` steps on, or earlier at the next
  step where an action is due, or at the end."""
  return min([step + per_call, total] + [p.next(step, total) for p, _ in actions])


class Records:
  """The per-step metrics of dispatched steps, as records at the boundaries of ``periodic``.

  ``put(end, metrics)`` queues a dispatch's device metrics (``{name: array[steps, ...]}``, its
  last step ``end``); ``fetch(keep)`` copies all but the newest ``keep`` of them to the host
  and calls ``write(step, metrics, t)`` for each boundary they complete, with the host
  metrics of the steps since the previous boundary and ``t``, the ``time.perf_counter()`` at
  which that step was done (interpolated within its dispatch). ``write`` returns :data:`STOP`
  to end the run (its metrics were not finite); :attr:`step` is then that boundary.
  :attr:`finite_to` is the step up to which every step is in a finite record (at first the
  starting step). :meth:`leftover` holds the host metrics past the last boundary. ``to_host`` copies a
  dispatch's metrics (default ``jax.device_get``; a multi-process runtime gathers them).
  :attr:`waited` is the seconds spent waiting for them: a loop that waits most of its time is
  bound by the device, one that hardly waits by the host.
  """

  def __init__(self, periodic: Periodic, write: Callable, step: int, total: int, to_host=None):
    self.periodic, self._write, self.step, self.total = periodic, write, step, total
    self._to_host = to_host or jax.device_get
    self._queued: collections.deque = collections.deque()
    self._host: list[dict] = []  # host chunks since the last record
    self._time = (step, time.perf_counter())  # the last step read, and when it was done
    self.waited = 0.0
    self.finite_to = step

  def put(self, end: int, metrics: dict) -> None:
    self._queued.append((end, metrics))

  def fetch(self, keep: int = 1) -> str | None:
    while len(self._queued) > keep:
      end, metrics = self._queued.popleft()
      before = time.perf_counter()
      host = self._to_host(metrics)  # waits for that dispatch; the next one keeps running
      (start, t0), t1 = self._time, time.perf_counter()
      self.waited += t1 - before
      self._time = (end, t1)
      offset, b = start, self.periodic.next(start, self.total)  # offset: the step before host[0]
      while b <= end:
        if not self.periodic.due(b, self.total):  # the end, without at_end
          break
        cut = {k: v[: b - offset] for k, v in host.items()}
        host = {k: v[b - offset :] for k, v in host.items()}
        t = t0 + (t1 - t0) * (b - start) / (end - start)
        chunks, self._host, offset = [*self._host, cut], [], b
        self.step = b
        if self._write(b, chunks, t) == STOP:
          return STOP
        self.finite_to = b
        b = self.periodic.next(b, self.total) if b < self.total else end + 1
      if len(next(iter(host.values()))):
        self._host.append(host)
    return None

  def leftover(self) -> list[dict]:
    """The host metrics of the steps read since the last record (after ``fetch(0)``)."""
    return list(self._host)


def drive(
  step: int,
  total: int,
  per_call: int,
  advance: Callable[[int], dict | None],
  actions: Sequence[Action],
  interrupted: Callable[[], bool] = lambda: False,
  records: Records | None = None,
  stop_on: Periodic | None = None,
  sync_on: Periodic | None = None,
) -> tuple[int, str | None]:
  """Runs to ``total`` steps from ``step``; returns the step reached (on :data:`STOP`, the
  record's step that stopped it) and why it ended early: :data:`STOP`, :data:`INTERRUPTED`
  (``interrupted()`` was true after a dispatch: it stops there, or with ``stop_on`` at the
  next step where that is due, after its actions) or None (done). ``advance(n)`` returns the
  dispatch's device metrics for ``records``. Every record up to a step is written before its
  actions where ``sync_on`` is due (default: wherever an action is), and at the end. An
  action's commit (what it returns, when callable) runs once every step up to the action's
  step is in a finite record (without ``records``, at once); one still waiting when the loop
  ends is dropped."""
  stopping, pending = False, []
  while step < total:
    cut = [*actions, (stop_on, None)] if stopping and stop_on else actions
    end = next_stop(step, total, per_call, cut)
    metrics = advance(end - step)
    step = end
    stopping = stopping or bool(interrupted())
    due = [act for periodic, act in actions if periodic.due(step, total)]
    halt = stopping and (stop_on is None or stop_on.due(step, total))
    sync = due and (sync_on is None or sync_on.due(step, total))
    if records is not None:
      records.put(step, metrics)
      stopped = records.fetch(keep=0 if sync or halt or step == total else 1) == STOP
      _commit(pending, records.finite_to)
      if stopped:
        return records.step, STOP
    for act in due:
      result = act(step)
      if result == STOP:
        return step, STOP
      if callable(result):
        pending.append((step, result))
    _commit(pending, step if records is None else records.finite_to)
    if halt and step < total:
      return step, INTERRUPTED
  return step, None


def _commit(pending: list, finite_to: int) -> None:
  """Runs (and removes) the pending commits of steps up to ``finite_to``, in order."""
  while pending and pending[0][0] <= finite_to:
    pending.pop(0)[1]()


def mean_metrics(chunks: list[dict], member: int | None = None) -> dict[str, float]:
  """Each metric's mean over the host copies of the ``chunks`` of metrics since the last
  record (each ``{name: array[steps]}``, or ``[steps, members]`` with ``member`` chosen)."""
  pick = (lambda v: v) if member is None else (lambda v: v[:, member])
  return {k: float(np.mean(np.concatenate([pick(c[k]) for c in chunks]))) for k in chunks[0]}


def generator_params(state):
  """The weights G samples with: its moving average when kept."""
  return state.g_params if state.g_ema is None else state.g_ema


def sample_in_chunks(sample, state, z, chunk: int = 1000, labels=None) -> list:
  """``sample(g_params, g_state, z, labels)`` with G's sampling weights, ``chunk`` latents
  (and their classes, for a conditional G) per call: device arrays, dispatched now, for the
  caller to fetch and join."""
  params = generator_params(state)
  part = lambda a, i: None if a is None else a[i : i + chunk]
  return [
    sample(params, state.g_state, z[i : i + chunk], part(labels, i))
    for i in range(0, len(z), chunk)
  ]
