"""Checkpoints of a training state with orbax-checkpoint.

Orbax writes each checkpoint into a temporary folder and renames it when complete, so a crash
mid-save leaves the previous checkpoints intact (the stale temporary folder is removed on the
next start). The last ``max_to_keep`` checkpoints are kept. A checkpoint that cannot be read
raises :class:`CorruptCheckpoint` naming it; nothing is deleted or overwritten then.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any

import jax
import orbax.checkpoint as ocp


class CorruptCheckpoint(RuntimeError):
  pass


def _quiet_abandoned_reads() -> None:
  """After a failed restore, orbax abandons the reads of the other arrays and closes its
  event loop; tensorstore's threads then complete them into the closed loop and print
  "RuntimeError: Event loop is closed" tracebacks (and Python, collecting the abandoned
  coroutines, "Exception ignored in <coroutine ...>"), repeating what CorruptCheckpoint
  already says. From then on, what threads Python did not start write to stderr, and those
  coroutines' ignored errors, are dropped; the process is about to report and exit. (The
  stderr filter is put in place before each restore: those threads print during it.) The
  abandoned reads' tasks, collected with their errors unretrieved, are also dropped from
  asyncio's log ("Task exception was never retrieved", with a traceback)."""
  previous = sys.unraisablehook

  def hook(unraisable):
    code = getattr(unraisable.object, "cr_code", None)
    if "orbax" not in getattr(code, "co_filename", ""):
      previous(unraisable)

  sys.unraisablehook = hook
  logging.getLogger("asyncio").addFilter(_not_an_abandoned_read)


def _not_an_abandoned_read(record: logging.LogRecord) -> bool:
  message = record.getMessage()
  return not ("exception was never retrieved" in message and "orbax" in message)


class _PythonThreadsOnly:
  """A text stream that passes on what Python's own threads write (a foreign thread, one
  of tensorstore's, shows as a ``threading._DummyThread``)."""

  def __init__(self, stream):
    self._stream = stream

  def write(self, text: str) -> int:
    if isinstance(threading.current_thread(), threading._DummyThread):
      return len(text)
    return self._stream.write(text)

  def __getattr__(self, name):
    return getattr(self._stream, name)


class Checkpointer:
  """Saves and restores pytrees whose integer ``step`` field names the checkpoint."""

  def __init__(self, directory: str, max_to_keep: int = 3):
    self.directory = os.path.abspath(directory)
    self.manager = ocp.CheckpointManager(
      self.directory,
      options=ocp.CheckpointManagerOptions(
        max_to_keep=max_to_keep, create=True, cleanup_tmp_directories=True
      ),
    )

  def save(self, state: Any, step: int) -> None:
    """Saves ``state`` as checkpoint ``step`` in the background: orbax copies the arrays to
    the host before it returns (so their buffers may be donated next) and writes them on a
    thread, waiting first for the save before it. A failed write raises from the next
    :meth:`check`, :meth:`save` or :meth:`close`."""
    self.manager.save(step, args=ocp.args.StandardSave(state))

  def check(self) -> None:
    """Raises the error of a background save that has failed (a full disk), so that training
    stops within a dispatch of it; returns at once while a save is still being written."""
    if not self.manager.is_saving_in_progress():
      self.manager.wait_until_finished()

  @staticmethod
  def latest_in(directory: str) -> int | None:
    """The latest complete checkpoint's step in ``directory``, read from its folder names
    alone (orbax renames a checkpoint's temporary folder to its step when it is complete)."""
    try:
      steps = [int(n) for n in os.listdir(directory) if n.isdigit()]
    except OSError:
      return None
    return max(steps, default=None)

  def steps(self) -> list[int]:
    return list(self.manager.all_steps())

  def latest_step(self) -> int | None:
    return self.manager.latest_step()

  def restore(self, template: Any, step: int | None = None) -> Any:
    """Restores checkpoint ``step`` (default: the latest) into the structure of ``template``."""
    step = self.latest_step() if step is None else step
    if step is None:
      raise FileNotFoundError(f"no checkpoint in {self.directory}")
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, template)
    stderr = sys.stderr
    sys.stderr = _PythonThreadsOnly(stderr)
    try:
      restored = self.manager.restore(step, args=ocp.args.StandardRestore(abstract))
    except Exception as e:  # orbax raises many types for unreadable or mismatched files
      _quiet_abandoned_reads()  # and sys.stderr stays filtered
      first = (str(e).splitlines() or [""])[0].split(" See full TensorStore details")[0].rstrip(".")
      raise CorruptCheckpoint(
        f"checkpoint {step} in {self.directory} could not be restored "
        f"({type(e).__name__}: {first}). It was left as it "
        f"is; move it aside to resume from an earlier one (checkpoints: {self.steps()})."
      ) from e
    sys.stderr = stderr
    return restored

  def close(self) -> None:
    """Waits for pending saves and for the removal of stale temporary folders, then releases
    the manager."""
    self.manager.wait_until_finished()
    # orbax 0.12.8 removes stale temporary folders on a thread started with the manager, and
    # its close() does not wait for it: a process that exits at once (a refused workdir) could
    # cut it short and print a traceback at interpreter shutdown (seen in CI). Its own private
    # wait is the only one; without it (another orbax), nothing is waited for, as before.
    wait_for_cleanup = getattr(self.manager, "_maybe_await_cleanup_tmp_directory", None)
    if wait_for_cleanup is not None:
      wait_for_cleanup()
    self.manager.close()
