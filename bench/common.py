"""Timing helpers shared by the benchmark workers: one JSON line per measured configuration.

A worker measures: the first call (compilation, or torch.compile's tracing, plus one chunk of
steps), then ``repeats`` timed chunks of ``steps`` each after that warm-up, and reports the
median steps/s, the peak memory, and the platform.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from collections.abc import Callable


def peak_rss_mb() -> float:
  """Peak resident set size of this process (Linux reports KiB)."""
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(
  run_chunk: Callable[[], None],
  sync: Callable[[], None],
  steps_per_chunk: int,
  repeats: int,
  min_seconds: float = 1.0,
) -> dict:
  """Times ``run_chunk`` (``steps_per_chunk`` steps, asynchronous) to completion (``sync``).

  The first call is timed apart (compilation); then one untimed call, and chunks are grouped
  so that each timed repeat lasts at least ``min_seconds``. Returns steps/s (median and all
  repeats) and the first call's seconds.
  """
  t0 = time.perf_counter()
  run_chunk()
  sync()
  first = time.perf_counter() - t0
  run_chunk()
  sync()
  t0 = time.perf_counter()
  run_chunk()
  sync()
  one = max(time.perf_counter() - t0, 1e-6)
  chunks = max(1, int(min_seconds / one + 0.5))
  rates = []
  for _ in range(repeats):
    t0 = time.perf_counter()
    for _ in range(chunks):
      run_chunk()
    sync()
    rates.append(chunks * steps_per_chunk / (time.perf_counter() - t0))
  return {
    "steps_per_s": statistics.median(rates),
    "rates": rates,
    "first_call_s": first,
    "chunk_s": one,
  }


def emit(record: dict) -> None:
  print(json.dumps(record), flush=True)
  sys.stdout.flush()
