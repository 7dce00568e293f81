"""Writing files so that nothing good is ever half-overwritten."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import BinaryIO


def write_atomic(path: str, write: Callable[[BinaryIO], None]) -> None:
  """``write(file)`` into a temporary file beside ``path``, then renamed over it: a reader
  (or a crash) never sees half a file, and a failed write leaves the old one in place."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  tmp = f"{path}.tmp{os.getpid()}"
  try:
    with open(tmp, "wb") as f:
      write(f)
    os.replace(tmp, path)
  finally:
    if os.path.exists(tmp):
      os.remove(tmp)
