"""Where a run's batches come from (``--data_placement``): the device or the host.

``device``: the whole uint8 dataset is put on the device once and each step samples its own
batch there (:func:`jaxgan.run.train_steps.make_train_step`): no transfer while training.
``host``: the dataset stays on the host (for one larger than a share of the device's); for
each dispatch the host computes the indices the device step would have drawn
(:func:`~jaxgan.run.train_steps.batch_indices`, the same keys), gathers those images and
sends them, one dispatch ahead on a thread, so the device does not wait for them; the update
is the same, so are the numbers. The host's copy is the memory-mapped decoded cache
(:mod:`jaxgan.data.decoded`): only the gathered batches' pages are read, so a dataset larger
than the host's memory streams from disk. ``auto``: host when the dataset takes more than
:data:`HOST_SHARE` of the device's memory (a CPU device's: the host's RAM).
"""

from __future__ import annotations

import concurrent.futures
import functools
import os

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from jaxgan.run import train_steps

HOST_SHARE = 0.25  # of the device's memory, above which ``auto`` keeps the data on the host


def placement(choice: str, nbytes: int) -> str:
  """``device`` or ``host`` for ``--data_placement=choice`` and a dataset of ``nbytes``."""
  if choice != "auto":
    return choice
  device = jax.local_devices()[0]
  limit = (device.memory_stats() or {}).get("bytes_limit")
  if not limit and device.platform == "cpu":  # the CPU device's memory is the host's RAM
    limit = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
  return "host" if limit and nbytes > HOST_SHARE * limit else "device"


class DeviceFeed:
  """The dataset (an array, or (images, labels)) on the device; the compiled step samples
  from it."""

  placement = "device"

  def __init__(self, run, data):
    self.run, self.data = run, run.place(data)

  def advance(self, state, step: int, n: int):
    return self.run.run_steps(state, self.data, self.run.train_key, n)

  def close(self) -> None:
    pass


class HostFeed:
  """The dataset on the host (the mapped decoded cache, and the labels of a conditional run);
  each dispatch's batches gathered from it and sent one ahead."""

  placement = "host"

  def __init__(self, run, data):
    self.run, self.data = run, data
    self.shape = train_steps.batch_shape(run.gan, run.cfg.batch_size)
    self.steps = train_steps.make_multi_step(
      train_steps.make_streamed_step(run.gan), unroll=run.unroll, streamed=True
    )
    self.pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="jaxgan-feed")
    self.pending: tuple[int, int, concurrent.futures.Future] | None = None

  @functools.cached_property
  def _indices(self):
    cpu = jax.local_devices(backend="cpu")[0]  # the same bits anywhere; keeps the device free
    n_ex = train_steps.num_examples(self.data)
    fn = jax.jit(
      lambda key, start, n: train_steps.batch_indices(key, start, n, self.shape, n_ex),
      static_argnums=2,
    )
    key = jax.device_put(self.run.train_key, cpu)
    return lambda start, n: np.asarray(fn(key, jax.device_put(np.int32(start), cpu), n))

  def _batches(self, start: int, n: int):
    index = self._indices(start, n)
    batches = jax.tree.map(lambda a: a[index], self.data)  # images: (n, *shape, H, W, C) uint8
    if self.run.mesh is None:
      return jax.device_put(batches)
    return jax.tree.map(lambda a: jax.device_put(a, self._split(a.ndim)), batches)

  def _split(self, ndim: int) -> NamedSharding:
    axes = [None] * ndim
    axes[len(self.shape)] = "data"  # the batch axis (after the steps' and n_disc's), split
    return NamedSharding(self.run.mesh, PartitionSpec(*axes))

  def advance(self, state, step: int, n: int):
    if self.pending and self.pending[:2] == (step, n):
      batches = self.pending[2].result()
    else:
      batches = self._batches(step, n)
    self.pending = (step + n, n, self.pool.submit(self._batches, step + n, n))
    return self.steps(state, batches, self.run.train_key, n)

  def close(self) -> None:
    self.pool.shutdown(wait=True, cancel_futures=True)


def make(run, data, choice: str):
  """The feed of ``run`` for ``data`` (an array, or (images, labels)) under
  ``--data_placement=choice``."""
  nbytes = sum(a.nbytes for a in jax.tree.leaves(data))
  return (HostFeed if placement(choice, nbytes) == "host" else DeviceFeed)(run, data)
