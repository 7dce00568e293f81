"""Writing files so that nothing good is ever half-overwritten, and cache files that are
never used damaged."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
  import numpy as np


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


# A cache file: one JSON header line, then the payload. The header names what made the file
# (a version string its reader must match) and the payload's SHA-256, so that a truncated,
# overwritten or outdated file is recognised and rebuilt instead of used.
CACHE_FORMAT = "jaxgan-cache/1"


class BadCache(ValueError):
  """A cache file that cannot be used: unreadable, damaged, or made by another version."""


def write_cache(path: str, payload: bytes, made_by: str) -> None:
  """Writes ``payload`` to ``path`` (atomically) under a header naming ``made_by`` and the
  payload's checksum."""
  header = {
    "format": CACHE_FORMAT,
    "made_by": made_by,
    "bytes": len(payload),
    "sha256": hashlib.sha256(payload).hexdigest(),
  }
  line = json.dumps(header, sort_keys=True).encode() + b"\n"
  write_atomic(path, lambda f: f.write(line + payload))


def read_cache(path: str, made_by: str) -> bytes:
  """The payload of a file :func:`write_cache` wrote with the same ``made_by``; raises
  :class:`BadCache` saying why not (including OSError: a missing file is the caller's
  ``os.path.exists`` to check)."""
  try:
    with open(path, "rb") as f:
      data = f.read()
  except OSError as e:
    raise BadCache(f"unreadable: {e.strerror or e}") from None
  line, _, payload = data.partition(b"\n")
  try:
    header = json.loads(line)
    if not isinstance(header, dict) or header.get("format") != CACHE_FORMAT:
      raise ValueError
  except ValueError:
    raise BadCache("not a jaxgan cache file (no checksum header)") from None
  if header.get("made_by") != made_by:
    raise BadCache(f"made by {header.get('made_by')!r}, this is {made_by!r}")
  if len(payload) != header.get("bytes"):
    raise BadCache(f"truncated: {len(payload)} of {header.get('bytes')} bytes")
  if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
    raise BadCache("its checksum does not match its content")
  return payload


def load_cache(path: str, made_by: str, parse: Callable[[bytes], object], what: str, instead: str):
  """``parse(payload)`` of the cache file at ``path``; None when there is none, or (after one
  line saying why, and what is done ``instead``) when it is damaged, outdated or ``parse``
  refuses it."""
  if not os.path.exists(path):
    return None
  try:
    return parse(read_cache(path, made_by))
  except Exception as e:  # noqa: BLE001 (msgpack and zipfile raise many types for damage)
    print(f"warning: ignoring the {what} {path} ({e}); {instead}", file=sys.stderr)
    return None


@contextlib.contextmanager
def made_once(path: str, what: str) -> Iterator[None]:
  """Within, this process alone reads or makes the cache file at ``path``: an exclusive lock
  beside it (``path + ".lock"``; ``filelock``'s ``flock``, which the kernel releases when its
  holder ends, however it ends). Processes that need the same file at once (a sweep's shards
  started together) then make it once: the others wait, saying so, and read what it made.
  Where no lock can be made (a read-only cache folder), each process goes on alone."""
  import filelock

  lock = filelock.FileLock(path + ".lock")
  try:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    try:
      lock.acquire(timeout=0)
    except filelock.Timeout:
      print(f"waiting for another process making the {what} {path}", file=sys.stderr)
      lock.acquire()
  except OSError:
    yield
    return
  try:
    yield
  finally:
    lock.release()


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
  """``arrays`` as the bytes of an .npz file."""
  import numpy as np  # lazily: config imports this module, and the CLI's --help stays fast

  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  return buffer.getvalue()


def npz_arrays(payload: bytes) -> dict[str, np.ndarray]:
  """The arrays of .npz bytes (no pickles)."""
  import numpy as np

  with np.load(io.BytesIO(payload), allow_pickle=False) as f:
    return {k: f[k] for k in f.files}
