"""The one loop's schedule: where dispatches end, which records are written and when, what an
interrupt or a non-finite record does (jaxgan.run.periodic), on host arrays, no compiling."""

import numpy as np
import pytest

from jaxgan.run.periodic import INTERRUPTED, STOP, Periodic, Records, drive


class Trace:
  """A stand-in run: step i's metric is ``float(i + 1)`` (``inf`` from ``bad_from`` on)."""

  def __init__(self, bad_from=None):
    self.step, self.bad_from, self.dispatches, self.events = 0, bad_from, [], []

  def advance(self, n):
    steps = np.arange(self.step + 1, self.step + n + 1, dtype=np.float64)
    if self.bad_from is not None:
      steps[steps >= self.bad_from] = np.inf
    self.dispatches.append(n)
    self.step += n
    self.events.append(("dispatch", self.step))
    return {"loss": steps}

  def write(self, step, chunks, t):
    value = float(np.mean(np.concatenate([c["loss"] for c in chunks])))
    self.events.append(("record", step, value))
    return STOP if not np.isfinite(value) else None

  def act(self, step):
    self.events.append(("action", step))


def _drive(trace, total=40, per_call=7, **kw):
  records = Records(Periodic(5, at_end=True), trace.write, 0, total)
  actions = [(Periodic(10, at_end=True), trace.act)]
  return drive(0, total, per_call, trace.advance, actions, records=records, **kw), records


def test_records_are_cut_from_the_per_step_metrics_wherever_dispatches_end():
  trace = Trace()
  (step, why), _ = _drive(trace)
  assert (step, why) == (40, None)
  # Dispatches end at per_call or at an action's step (10, 20, 30, 40), not at records' (5, ...).
  assert trace.dispatches == [7, 3, 7, 3, 7, 3, 7, 3]
  records = [e for e in trace.events if e[0] == "record"]
  assert [r[1] for r in records] == list(range(5, 41, 5))
  for _, s, value in records:  # the mean of steps s-4..s, i.e. of metrics s-4 .. s
    assert value == pytest.approx(s - 2)


def test_records_are_read_one_dispatch_behind_and_all_of_them_before_an_action():
  trace = Trace()
  _drive(trace)
  kinds = [e[:2] for e in trace.events]
  # The record of step 5 is written only after the dispatch to 10 was issued...
  assert kinds.index(("record", 5)) > kinds.index(("dispatch", 10))
  # ...and every record up to an action's step before the action.
  for s in (10, 20, 30, 40):
    assert kinds.index(("record", s)) < kinds.index(("action", s))


def test_a_record_that_is_not_finite_stops_before_the_next_action():
  trace = Trace(bad_from=13)
  (step, why), _ = _drive(trace)
  assert (step, why) == (15, STOP)  # the first record holding step 13
  assert ("action", 20) not in trace.events and ("action", 10) in trace.events


def test_an_interrupt_stops_after_the_dispatch_with_the_steps_since_the_last_record():
  trace = Trace()
  calls = iter([False, True])
  (step, why), records = _drive(trace, interrupted=lambda: next(calls, True))
  assert (step, why) == (10, INTERRUPTED)  # after the second dispatch (7, then 3 to 10)
  assert records.leftover() == []  # 10 is a record's step
  trace = Trace()
  (step, why), records = _drive(trace, interrupted=lambda: True)
  assert (step, why) == (7, INTERRUPTED)
  assert np.concatenate([c["loss"] for c in records.leftover()]).tolist() == [6.0, 7.0]


def test_stop_on_carries_an_interrupt_to_its_next_step():
  trace = Trace()
  (step, why), _ = _drive(trace, interrupted=lambda: True, stop_on=Periodic(5))
  assert (step, why) == (10, INTERRUPTED)  # 7 is no multiple of 5; the next dispatch ends at 10
  assert trace.dispatches == [7, 3]


def _drive_with_commits(trace, total=40):
  """Actions at 10, 20, ... whose commits (checkpoints, say) note their step when they run."""

  def act(step):
    trace.events.append(("action", step))
    return lambda: trace.events.append(("commit", step))

  records = Records(Periodic(5, at_end=True), trace.write, 0, total)
  actions = [(Periodic(10, at_end=True), act)]
  return drive(0, total, 7, trace.advance, actions, records=records, sync_on=Periodic())


def test_a_commit_runs_after_the_next_dispatch_once_its_records_are_finite():
  trace = Trace()
  assert _drive_with_commits(trace) == (40, None)
  kinds = [e[:2] for e in trace.events]
  for s in (10, 20, 30):  # the device had the next dispatch before the host read step s
    assert kinds.index(("action", s)) < kinds.index(("dispatch", s + 7))
    assert (
      kinds.index(("dispatch", s + 7)) < kinds.index(("record", s)) < kinds.index(("commit", s))
    )
  assert kinds.index(("record", 40)) < kinds.index(("commit", 40))  # the end: at once
  assert sum(k == "commit" for k, *_ in kinds) == 4


def test_a_commit_is_dropped_when_a_step_before_it_is_not_finite():
  trace = Trace(bad_from=18)
  assert _drive_with_commits(trace) == (20, STOP)
  kinds = [e[:2] for e in trace.events]
  assert ("commit", 10) in kinds and ("action", 20) in kinds and ("commit", 20) not in kinds
