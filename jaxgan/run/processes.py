"""A multi-process JAX runtime (``jax.distributed``), as a run and a sweep use it.

Every process runs the same programs over all processes' devices; process 0 alone writes the
workdir's files and prints. In one process each function is the plain single-process form.
"""

from __future__ import annotations

import sys

import jax
import numpy as np
from jax.experimental import multihost_utils


def lead() -> bool:
  """Whether this process writes the files and prints: process 0."""
  return jax.process_index() == 0


def say(text: str) -> None:
  """Prints ``text`` to stderr from process 0 alone."""
  if lead():
    print(text, file=sys.stderr)


def any_process(flag: bool) -> bool:
  """Whether ``flag`` is true on any process (so that every process stops at one step)."""
  if jax.process_count() == 1:
    return flag
  return bool(multihost_utils.process_allgather(np.int32(flag)).any())


def barrier(name: str) -> None:
  """Waits until every process has reached the barrier ``name``."""
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices(name)


def to_host(tree):
  """A pytree of device arrays as numpy arrays, whole on every process: in one process
  ``jax.device_get`` (the copies started together); a replicated array from this process's
  own copy (no communication: a collective would queue behind the dispatch in flight); one
  sharded over several processes gathered."""
  if all(getattr(x, "is_fully_addressable", True) for x in jax.tree.leaves(tree)):
    return jax.device_get(tree)

  def one(x):
    if x.is_fully_addressable:
      return np.asarray(x)
    if x.is_fully_replicated:
      return np.asarray(x.addressable_data(0))
    return multihost_utils.process_allgather(x, tiled=True)

  return jax.tree.map(one, tree)
