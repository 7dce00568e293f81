"""One writer per workdir: an exclusive lock, held for as long as a run or a sweep writes there.

The lock is ``filelock``'s (``flock(2)`` on a lock file), so the kernel releases it when its
process ends, however it ends: a lock is never left behind by a killed process on a local disk.
Beside it, a small JSON file names the holder (host, pid, start time, command), so that a
second process is refused with who holds the workdir, and a process that takes over from a
dead one says whose lock it was.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time

import filelock

from jaxgan.io import write_atomic

LOCK_NAME = ".jaxgan.lock"


class WorkdirInUse(RuntimeError):
  pass


def _alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:  # someone else's process: alive
    return True
  return True


class WorkdirLock:
  """``with WorkdirLock(workdir):`` holds ``workdir``'s lock, or raises
  :class:`WorkdirInUse` at once (no waiting) naming its holder. ``name`` tells locks of one
  folder apart (a sweep's shards each hold their own)."""

  def __init__(self, workdir: str, name: str = LOCK_NAME):
    self.path = os.path.join(workdir, name)
    self.holder_path = self.path + ".holder.json"
    self._lock = filelock.FileLock(self.path, timeout=0)

  def _holder(self) -> dict | None:
    try:
      with open(self.holder_path) as f:
        holder = json.load(f)
    except (OSError, ValueError):
      return None
    return holder if isinstance(holder, dict) else None

  def acquire(self) -> None:
    try:
      self._lock.acquire()
    except filelock.Timeout:
      h = self._holder() or {}
      who = f"pid {h.get('pid', '?')} on {h.get('host', '?')} since {h.get('since', '?')}"
      raise WorkdirInUse(
        f"{os.path.dirname(self.path)} is in use by {who} ({h.get('command', 'a jaxgan job')}); "
        "wait for it to finish, or choose another --workdir. Nothing was written."
      ) from None
    previous = self._holder()
    if previous is not None:  # its process ended without releasing (the kernel released it)
      gone = previous.get("host") != socket.gethostname() or not _alive(previous.get("pid", -1))
      state = "which is no longer running" if gone else "which released it"
      print(
        f"note: took over the lock of {os.path.dirname(self.path)} from pid "
        f"{previous.get('pid')} on {previous.get('host')}, {state}",
        file=sys.stderr,
      )
    holder = {
      "host": socket.gethostname(),
      "pid": os.getpid(),
      "since": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
      "command": " ".join([os.path.basename(sys.executable), *sys.argv])[:300],
    }
    text = json.dumps(holder).encode()
    write_atomic(self.holder_path, lambda f: f.write(text))

  def release(self) -> None:
    if self._lock.is_locked:
      try:
        os.remove(self.holder_path)
      except FileNotFoundError:
        pass
      self._lock.release()

  def __enter__(self) -> WorkdirLock:
    self.acquire()
    return self

  def __exit__(self, *exc) -> None:
    self.release()
