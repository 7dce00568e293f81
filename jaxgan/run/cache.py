"""Where jaxgan keeps what it can make again: ``$JAXGAN_CACHE`` (default ``~/.cache/jaxgan``).

It holds the FCD's trained classifiers (:mod:`jaxgan.eval.quality`) and, through
:func:`enable_compilation_cache`, JAX's persistent compilation cache. Everything there may be
deleted at any time; it is made again when needed.
"""

from __future__ import annotations

import os

import jax

CACHE_ENV = "JAXGAN_CACHE"


def cache_dir() -> str:
  return os.environ.get(CACHE_ENV, os.path.expanduser("~/.cache/jaxgan"))


def enable_compilation_cache(path: str | None = None) -> str:
  """Turns on JAX's persistent compilation cache in ``path`` (default ``<cache_dir>/xla``).

  A process that compiles what an earlier one compiled (the same computation, shapes, XLA
  flags, jax version and device) then loads the executable instead (what that saves a whole
  run: BENCHMARKS.md, "Whole runs"). Executables that compiled in under a second are not stored (JAX's default threshold). Must
  run before the first compilation; returns the folder.
  """
  path = path or os.path.join(cache_dir(), "xla")
  jax.config.update("jax_compilation_cache_dir", path)
  return path
