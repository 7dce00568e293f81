"""The one training loop: a step budget, and periodic actions at event boundaries.

    drive(step, total, per_call, advance, [(Periodic(log_every, at_end=True), log), ...])

runs ``advance(n)`` (n compiled steps in one dispatch, at most ``per_call``) up to the next
step at which some action is due, then each due action in order, until ``total`` steps are
done or an action returns :data:`STOP`. Host work happens only there. A single run
(:mod:`jaxgan.run.driver`) and a sweep's population (:mod:`jaxgan.sweeps.runner`) are both
driven by it, as clu's ``PeriodicAction`` and jaxline's hooks drive one loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

STOP = "stop"  # what an action returns to end the loop (the run diverged)
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


Action = tuple[Periodic, Callable[[int], object]]


def next_stop(step: int, total: int, per_call: int, actions: Sequence[Action]) -> int:
  """The step where the next dispatch ends: ``per_call`` steps on, or earlier at the next
  boundary of an action, or at the end."""
  every = [e for periodic, _ in actions for e in periodic.every]
  return min([step + per_call, total] + [(step // e + 1) * e for e in every])


def drive(
  step: int,
  total: int,
  per_call: int,
  advance: Callable[[int], None],
  actions: Sequence[Action],
  interrupted: Callable[[], bool] = lambda: False,
) -> tuple[int, str | None]:
  """Runs to ``total`` steps from ``step``; returns the last step and why it ended early:
  :data:`STOP` (an action said so), :data:`INTERRUPTED` (``interrupted()`` was true after a
  dispatch and its due actions) or None (done)."""
  while step < total:
    n = next_stop(step, total, per_call, actions) - step
    advance(n)
    step += n
    for periodic, act in actions:
      if periodic.due(step, total) and act(step) == STOP:
        return step, STOP
    if interrupted() and step < total:
      return step, INTERRUPTED
  return step, None


def mean_metrics(chunks: list[dict], member: int | None = None) -> dict[str, float]:
  """Each metric's mean over the host copies of the ``chunks`` of metrics since the last
  record (each ``{name: array[steps]}``, or ``[steps, members]`` with ``member`` chosen)."""
  pick = (lambda v: v) if member is None else (lambda v: v[:, member])
  return {k: float(np.mean(np.concatenate([pick(c[k]) for c in chunks]))) for k in chunks[0]}


def generator_params(state):
  """The weights G samples with: its moving average when kept."""
  return state.g_params if state.g_ema is None else state.g_ema


def sample_in_chunks(sample, state, z, chunk: int = 1000) -> list:
  """``sample(g_params, g_state, z)`` with G's sampling weights, ``chunk`` latents per call:
  device arrays, dispatched now, for the caller to fetch and join."""
  params = generator_params(state)
  return [sample(params, state.g_state, z[i : i + chunk]) for i in range(0, len(z), chunk)]
