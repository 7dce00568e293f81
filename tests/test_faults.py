"""Faults an operator meets on a shared cluster, each done for real: a second job on a workdir,
a preemption signal, a torn log line, a full disk, bad input. Each asserts the exit code, one
message and no traceback, and that nothing is lost (a resumed run equals an uninterrupted one).
"""

import dataclasses
import errno
import json
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from jaxgan.config import make_config
from jaxgan.run import records
from jaxgan.run.checkpoint import Checkpointer
from jaxgan.run.driver import RunRefused, Task, WorkdirError, train_run
from jaxgan.run.interrupts import Interrupts
from jaxgan.run.lock import WorkdirLock

from conftest import REPO
from helpers import fake_data, run_module

# Small MLP runs on MNIST's test split, one dispatch per step, so that a signal lands between
# log records and checkpoints.
RUN = ["--dataset=mnist", "--split=test", "--log_every=10", "--ckpt_every=1000",
       "--sample_every=0", "--steps_per_call=1", "--progress=false"]  # fmt: skip
TIMINGS = ("steps_per_sec", "wall_time")


def mnist(args, env, check=True):
  return run_module("experiments.mnist", [*RUN, *args], env, check)


def test_a_second_process_on_a_workdir_is_refused_before_it_writes(offline_env, tmp_path):
  with WorkdirLock(str(tmp_path)):
    proc = mnist(["--steps=20", f"--workdir={tmp_path}"], offline_env, check=False)
    assert sorted(os.listdir(tmp_path)) == [".jaxgan.lock", ".jaxgan.lock.holder.json"]
  assert proc.returncode == 1, proc.stderr[-2000:]
  assert f"is in use by pid {os.getpid()} on " in proc.stderr and "Traceback" not in proc.stderr


def test_the_lock_of_a_killed_process_is_taken_over_with_a_note(tmp_path, capsys):
  """A holder SIGKILLed while it holds the lock leaves its holder file; the kernel released the
  lock, so the next process takes it at once and says whose it was."""
  code = (
    "import os, signal, sys; from jaxgan.run.lock import WorkdirLock; "
    "WorkdirLock(sys.argv[1]).acquire(); os.kill(os.getpid(), signal.SIGKILL)"
  )
  proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=REPO)
  assert proc.returncode == -signal.SIGKILL
  dead = json.loads((tmp_path / ".jaxgan.lock.holder.json").read_text())["pid"]
  with WorkdirLock(str(tmp_path)):
    err = capsys.readouterr().err
    assert f"took over the lock of {tmp_path} from pid {dead}" in err
    assert "which is no longer running" in err
    assert json.loads((tmp_path / ".jaxgan.lock.holder.json").read_text())["pid"] == os.getpid()


def _state_and_log(workdir):
  ckpt = Checkpointer(str(workdir / "checkpoints"))
  step, state = ckpt.latest_step(), ckpt.manager.restore(ckpt.latest_step())
  ckpt.close()
  rows = records.read(str(workdir / "metrics.jsonl"))
  log = [{k: v for k, v in r.items() if k not in TIMINGS} for r in rows]
  return step, state, log


def test_sigterm_checkpoints_the_step_it_stopped_at_and_resume_equals_an_uninterrupted_run(
  offline_env, tmp_path
):
  """SIGTERM once the first record is written (periodic checkpoints 1,000 steps apart): the
  run stops after the step on the device, checkpoints it and exits 143; --resume then ends
  with the state and log of a run never stopped, bit for bit."""
  steps, stopped, whole = "--steps=100", tmp_path / "stopped", tmp_path / "whole"
  cmd = [sys.executable, "-m", "experiments.mnist", *RUN, steps, f"--workdir={stopped}"]
  proc = subprocess.Popen(
    cmd, cwd=REPO, env=offline_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
  )
  deadline = time.time() + 300
  while not records.read(str(stopped / "metrics.jsonl"), repair=False):
    assert proc.poll() is None and time.time() < deadline, "the run ended before step 10"
    time.sleep(0.05)
  proc.send_signal(signal.SIGTERM)
  err = proc.communicate(timeout=300)[1]
  assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in err, err[-2000:]
  at = int(err.split("interrupted at step ")[1].split()[0])
  assert 10 <= at < 100, err[-2000:]  # else the signal came too late to test anything
  assert "run the same command with --resume to continue" in err
  assert Checkpointer.latest_in(str(stopped / "checkpoints")) == at
  resumed = mnist([steps, "--resume", f"--workdir={stopped}"], offline_env)
  assert f"resumed from step {at}" in resumed.stderr
  mnist([steps, f"--workdir={whole}"], offline_env)
  (step_a, a, log_a), (step_b, b, log_b) = _state_and_log(stopped), _state_and_log(whole)
  assert step_a == step_b == 100 and log_a == log_b
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_array_equal(x, y)


@pytest.mark.long  # two sweep processes, about 40 s; a sweep's SIGKILL and rerun: test_sweep
def test_sigterm_stops_a_sweep_at_a_log_boundary_says_what_is_done_and_it_continues(
  offline_env, tmp_path
):
  """A sweep of one chunk (two members) SIGTERMed once its first records are written: it
  checkpoints the chunk at the log boundary it stopped at, says no member is done, exits 143;
  the same command continues from that step to the end. (A continued sweep's rows equal an
  uninterrupted one's: tests/test_sweep.py, after SIGKILL.)"""
  args = [*RUN, "--steps=200", "--grid=lr:1e-4,3e-4", "--losses=ns", "--seeds=1",
          "--chunk=2", "--eval_samples=0", f"--workdir={tmp_path}"]  # fmt: skip
  cmd = [sys.executable, "-m", "experiments.sweep", *args]
  proc = subprocess.Popen(
    cmd, cwd=REPO, env=offline_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
  )
  deadline = time.time() + 300
  while not records.read(str(tmp_path / "members" / "1" / "metrics.jsonl"), repair=False):
    assert proc.poll() is None and time.time() < deadline, "the sweep ended before step 10"
    time.sleep(0.05)
  proc.send_signal(signal.SIGTERM)
  err = proc.communicate(timeout=300)[1]
  assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in err, err[-2000:]
  assert "interrupted: 0 of this job's 2 members done, 2 left" in err, err[-2000:]
  [chunk] = (tmp_path / "chunks").iterdir()
  at = Checkpointer.latest_in(str(chunk / "checkpoints"))
  assert 10 <= at < 200 and at % 10 == 0  # a log boundary
  again = run_module("experiments.sweep", args, offline_env)
  assert f"members 0-1: resumed from step {at}" in again.stderr
  assert [
    r["step"] for r in records.read(str(tmp_path / "members" / "0" / "metrics.jsonl"))
  ] == list(range(10, 201, 10))


def test_a_signal_only_asks_to_stop_and_a_second_one_stops_at_once():
  with Interrupts() as stop:
    os.kill(os.getpid(), signal.SIGINT)  # no KeyboardInterrupt: a request
    time.sleep(0.01)
    assert stop and stop.signum == signal.SIGINT and stop.exit_code == 130
  code = "from jaxgan.run.interrupts import Interrupts; import os, signal, time\n"
  code += "with Interrupts():\n  os.kill(os.getpid(), signal.SIGTERM)\n"
  code += "  os.kill(os.getpid(), signal.SIGTERM)\n  time.sleep(5)\nprint('not stopped')"
  proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
  assert proc.returncode == -signal.SIGTERM and "not stopped" not in proc.stdout


def test_a_torn_last_line_is_dropped_and_the_file_repaired(tmp_path, capsys):
  path = str(tmp_path / "metrics.jsonl")
  records.append(path, [{"step": 10, "d_loss": 1.0}, {"step": 20, "d_loss": 0.5}])
  whole = open(path).read()
  with open(path, "a") as f:
    f.write('{"step": 30, "d_lo')  # killed mid-append
  assert records.read(path) == [{"step": 10, "d_loss": 1.0}, {"step": 20, "d_loss": 0.5}]
  assert "dropped a half-written last line" in capsys.readouterr().err
  assert open(path).read() == whole
  with open(path, "w") as f:
    f.write('{"step": 10}\nnot json\n{"step": 30}\n')  # damage in the middle: refused
  with pytest.raises(records.CorruptRecords, match="line 2"):
    records.read(path)


def test_non_finite_numbers_are_written_as_null_and_the_record_marked_diverged(tmp_path):
  path = str(tmp_path / "r.jsonl")
  records.append(path, [{"step": 1, "final": {"d_loss": float("nan"), "g_loss": float("inf")}}])
  line = open(path).read()
  strict = json.loads(line, parse_constant=lambda c: pytest.fail(f"non-standard {c}"))
  assert strict == {"step": 1, "final": {"d_loss": None, "g_loss": None}, "diverged": True}


def _small(tmp_path, **kw):
  # One device: the test process has 8 fake CPU devices (for test_parallel), which a run would
  # otherwise split its batch over.
  kw = {"dataset": "mnist", "steps": 20, "log_every": 10, "sample_every": 0, "progress": False,
        "workdir": str(tmp_path / "run"), "compilation_cache": False, "devices": 1, **kw}  # fmt: skip
  return make_config(**kw)


DATA = np.asarray(fake_data(256))


def test_a_diverged_run_writes_strict_json(tmp_path):
  cfg = _small(tmp_path, loss="lsgan", lr=1e4)  # Adam steps of 1e4: inf, then NaN
  assert train_run(cfg, Task(DATA)) == 3
  rows = records.read(os.path.join(cfg.workdir, "metrics.jsonl"))
  assert rows[-1]["diverged"] and rows[-1]["d_loss"] is None
  text = open(os.path.join(cfg.workdir, "metrics.jsonl")).read()
  assert "NaN" not in text and "Infinity" not in text


def test_a_full_disk_stops_training_with_one_message_and_keeps_the_last_checkpoint(
  tmp_path, monkeypatch
):
  """ENOSPC raised inside orbax's save of the second checkpoint (a tmpfs cannot be mounted in
  CI): training stops there, the message names the disk's state, checkpoint 10 resumes."""
  cfg = _small(tmp_path, ckpt_every=10, steps=30)
  save = Checkpointer.save

  def full_at_20(self, state, step):
    if step == 20:
      raise OSError(errno.ENOSPC, "No space left on device", self.directory)
    return save(self, state, step)

  monkeypatch.setattr(Checkpointer, "save", full_at_20)
  with pytest.raises(WorkdirError, match="No space left on device .*MiB free") as e:
    train_run(cfg, Task(DATA))
  assert "the checkpoint of step 10 is intact" in str(e.value) and "--resume" in str(e.value)
  monkeypatch.setattr(Checkpointer, "save", save)
  assert train_run(dataclasses.replace(cfg, resume=True), Task(DATA)) == 0
  assert Checkpointer.latest_in(os.path.join(cfg.workdir, "checkpoints")) == 30


def test_a_background_save_that_fails_stops_training_within_a_dispatch(tmp_path, monkeypatch):
  """Checkpoints are written in the background: a write that fails there stops the run at the
  next dispatch, with the full-disk message, before any later checkpoint. (Simulated: the check
  the loop makes before each dispatch raises ENOSPC once checkpoint 10 exists, as orbax's
  wait re-raises its writing thread's error.)"""
  cfg = _small(tmp_path, ckpt_every=10, steps=30, steps_per_call=1)
  failed = {"at": None}
  wait = Checkpointer.check

  def check(self):
    if self.latest_step() == 10 and failed["at"] is None:
      failed["at"] = "after 10"
      raise OSError(errno.ENOSPC, "No space left on device", self.directory)
    return wait(self)

  monkeypatch.setattr(Checkpointer, "check", check)
  with pytest.raises(WorkdirError, match="No space left on device .*MiB free"):
    train_run(cfg, Task(DATA))
  assert failed["at"] and Checkpointer.latest_in(os.path.join(cfg.workdir, "checkpoints")) == 10
  steps = [r["step"] for r in records.read(os.path.join(cfg.workdir, "metrics.jsonl"))]
  assert steps == [10]  # stopped at the dispatch after checkpoint 10


def test_bad_settings_are_refused_before_work_starts(offline_env, tmp_path):
  nan = mnist(["--lr=nan", f"--workdir={tmp_path / 'a'}"], offline_env, check=False)
  assert nan.returncode == 2 and "--lr=nan: must be a finite number" in nan.stderr
  assert "Traceback" not in nan.stderr and not (tmp_path / "a").exists()
  runtime = ["--coordinator=127.0.0.1:1", "--num_processes=2", "--process_id=2"]
  stray = mnist([*runtime, f"--workdir={tmp_path / 'b'}"], offline_env, check=False)
  assert stray.returncode == 2 and "--process_id=2: the runtime's processes are 0-1" in stray.stderr
  assert "Traceback" not in stray.stderr and not (tmp_path / "b").exists()
  with pytest.raises(RunRefused, match="0 steps"):
    train_run(_small(tmp_path, steps=None, epochs=0.0), Task(DATA))
  cfg = _small(tmp_path, steps=10)
  assert train_run(cfg, Task(DATA)) == 0
  with pytest.raises(RunRefused, match="latest checkpoint is step 10; set --steps to at least 10"):
    train_run(dataclasses.replace(cfg, steps=5, resume=True), Task(DATA))
  os.remove(os.path.join(cfg.workdir, "config.json"))
  with pytest.raises(RunRefused, match="config.json is missing"):
    train_run(dataclasses.replace(cfg, steps=20, resume=True), Task(DATA))
