"""JSON-lines files (``metrics.jsonl``, ``eval.jsonl``, ``results.jsonl``): strict JSON,
appended a whole line at a time, and read back even after a crash tore the last line.

Strict JSON: a non-finite number (a diverged run's loss) is written as ``null``, and its record
gets ``"diverged": true``, so every JSON reader (Python's with ``parse_constant``,
JavaScript's ``JSON.parse``, jq) reads every file. A process killed while appending can leave
half a last line: :func:`read` drops it with a warning and repairs the file (rewritten whole
through :func:`jaxgan.io.write_atomic`); a bad line anywhere else is damage jaxgan did not do,
and raises :class:`CorruptRecords` naming the file and line.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterable

from jaxgan.io import write_atomic


class CorruptRecords(ValueError):
  pass


def _finite(value):
  if isinstance(value, float) and not math.isfinite(value):
    return None
  if isinstance(value, dict):
    return {k: _finite(v) for k, v in value.items()}
  if isinstance(value, list | tuple):
    return [_finite(v) for v in value]
  return value


def _has_non_finite(value) -> bool:
  if isinstance(value, float):
    return not math.isfinite(value)
  if isinstance(value, dict):
    return any(_has_non_finite(v) for v in value.values())
  if isinstance(value, list | tuple):
    return any(_has_non_finite(v) for v in value)
  return False


def strict(record: dict) -> dict:
  """``record`` with every non-finite float (at any depth) as None, and ``diverged`` set to
  True when there was one."""
  if not _has_non_finite(record):
    return record
  return {**_finite(record), "diverged": True}


def dumps(record: dict) -> str:
  """One line of strict JSON (no ``NaN``/``Infinity``), newline included."""
  return json.dumps(strict(record), allow_nan=False) + "\n"


def append(path: str, records: Iterable[dict], durable: bool = True) -> None:
  """Appends ``records`` as whole lines, handed to the operating system before returning
  (a killed process loses none of them) and, when ``durable``, flushed to the disk (nor does
  a machine that crashes). A training log appends without ``durable`` and calls
  :func:`sync` before each checkpoint: a run resumes from its checkpoint, so its records need
  to be on the disk only up to there, and the loop is spared an fsync per record."""
  text = "".join(map(dumps, records))
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(path, "a") as f:
    f.write(text)
    f.flush()
    if durable:
      os.fsync(f.fileno())


def sync(path: str) -> None:
  """Flushes what was appended to ``path`` to the disk (nothing if it does not exist)."""
  try:
    fd = os.open(path, os.O_RDONLY)
  except FileNotFoundError:
    return
  try:
    os.fsync(fd)
  finally:
    os.close(fd)


def write(path: str, records: Iterable[dict]) -> None:
  """Replaces ``path`` with ``records`` atomically: a crash leaves the old file or the new."""
  text = "".join(map(dumps, records)).encode()
  write_atomic(path, lambda f: f.write(text))


def _reject_constant(name: str):
  raise ValueError(f"non-standard JSON constant {name}")


def _parse(line: str) -> dict | None:
  try:
    record = json.loads(line, parse_constant=_reject_constant)
  except ValueError:
    return None
  return record if isinstance(record, dict) else None


def read(path: str, repair: bool = True) -> list[dict]:
  """The records of ``path`` ([] if it does not exist). A torn last line (not a JSON object)
  is dropped with a warning on stderr and, with ``repair``, removed from the file (a whole
  last record that only lacks its newline is kept, and the newline added); any other
  unreadable line raises :class:`CorruptRecords`."""
  if not os.path.exists(path):
    return []
  with open(path, encoding="utf-8", errors="replace") as f:
    lines = f.read().split("\n")
  unterminated = lines[-1].strip() != ""  # text after the last newline
  numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
  parsed = [(n, _parse(line)) for n, line in numbered]
  bad = [n for n, record in parsed if record is None]
  if bad and (len(bad) > 1 or bad[0] != numbered[-1][0]):
    raise CorruptRecords(
      f"{path}: line {bad[0]} is not a JSON record; the file was changed by something other "
      "than jaxgan. Move it aside (or fix that line) and run again."
    )
  records = [record for _, record in parsed if record is not None]
  if bad:
    done = "; the file is repaired" if repair else ""
    print(
      f"warning: {path}: dropped a half-written last line (a process was stopped while "
      f"writing it){done}",
      file=sys.stderr,
    )
  if repair and (bad or unterminated):
    write(path, records)
  return records
