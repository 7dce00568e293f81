"""Checkpoints of a training state with orbax-checkpoint.

Orbax writes each checkpoint into a temporary folder and renames it when complete, so a crash
mid-save leaves the previous checkpoints intact (the stale temporary folder is removed on the
next start). The last ``max_to_keep`` checkpoints are kept. A checkpoint that cannot be read
raises :class:`CorruptCheckpoint` naming it; nothing is deleted or overwritten then.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import orbax.checkpoint as ocp


class CorruptCheckpoint(RuntimeError):
  pass


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
    """Saves ``state`` as checkpoint ``step`` and waits until it is on disk, so that a failed
    save (a full disk) stops training at once rather than at the next save."""
    self.manager.save(step, args=ocp.args.StandardSave(state))
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
    try:
      return self.manager.restore(step, args=ocp.args.StandardRestore(abstract))
    except Exception as e:  # orbax raises many types for unreadable or mismatched files
      raise CorruptCheckpoint(
        f"checkpoint {step} in {self.directory} could not be restored "
        f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}). It was left as it "
        f"is; move it aside to resume from an earlier one (checkpoints: {self.steps()})."
      ) from e

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
