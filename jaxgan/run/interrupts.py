"""SIGTERM and SIGINT as a request to stop cleanly; a second signal stops at once.

Schedulers preempt with SIGTERM (Slurm, Kubernetes; SIGKILL follows after a grace period), a
person with Ctrl-C (SIGINT). Inside ``with Interrupts() as stop:`` either signal only sets
``stop.signum``: the training loop finishes the chunk on the device, checkpoints that step and
exits with ``128 + signum`` (:data:`exit_code`), the shell's code for death by that signal. A
second signal restores the default action and re-sends itself, ending the process at once.
Outside the main thread (where Python cannot install handlers) this does nothing.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interrupts:
  def __init__(self):
    self.signum: int | None = None
    self._previous: dict = {}

  def _handle(self, signum: int, frame) -> None:
    if self.signum is not None:  # the second one: stop now
      for s in SIGNALS:
        signal.signal(s, signal.SIG_DFL)
      os.kill(os.getpid(), signum)
      return
    self.signum = signum
    print(
      f"\nreceived {signal.Signals(signum).name}: stopping after the steps on the device, "
      "with a checkpoint (a second signal stops at once, without one)",
      file=sys.stderr,
    )

  def __bool__(self) -> bool:
    return self.signum is not None

  def __call__(self) -> bool:
    """Whether a signal asked to stop (what the training loop polls)."""
    return self.signum is not None

  @property
  def exit_code(self) -> int:
    return 128 + (self.signum or 0)

  def __enter__(self) -> Interrupts:
    if threading.current_thread() is threading.main_thread():
      self._previous = {s: signal.signal(s, self._handle) for s in SIGNALS}
    return self

  def __exit__(self, *exc) -> None:
    for s, handler in self._previous.items():
      signal.signal(s, handler)
    self._previous = {}
