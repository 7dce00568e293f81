"""--data_placement: a dataset kept on the host feeds the same batches as one on the device
(a whole run fed each way, over 8 devices: tests/test_parallel.py)."""

import os

import jax
import numpy as np

from jaxgan.config import make_config
from jaxgan.run import feed, train_steps
from jaxgan.run.driver import Run

from helpers import fake_data


def test_the_host_sends_the_images_at_the_drawn_indices():
  data = np.asarray(fake_data(64))
  run = Run(make_config(batch_size=4), data.shape[1:])
  host = feed.HostFeed(run, data)
  try:
    got = np.asarray(host._batches(5, 3))
  finally:
    host.close()
  index = np.asarray(train_steps.batch_indices(run.train_key, 5, 3, (4,), 64))
  np.testing.assert_array_equal(got, data[index])


def test_the_host_draws_the_indices_the_device_step_draws():
  key, shape = jax.random.key(3), (2, 5)
  got = np.asarray(train_steps.batch_indices(key, 7, 3, shape, 100))
  for t in range(3):
    k_batch, _ = jax.random.split(jax.random.fold_in(key, 7 + t))
    np.testing.assert_array_equal(got[t], jax.random.randint(k_batch, shape, 0, 100))


def test_auto_keeps_a_dataset_over_a_quarter_of_device_memory_on_the_host(monkeypatch):
  class Device:
    def __init__(self, stats, platform="gpu"):
      self.stats, self.platform = stats, platform

    def memory_stats(self):
      return self.stats

  monkeypatch.setattr(jax, "local_devices", lambda: [Device({"bytes_limit": 1000})])
  assert feed.placement("auto", 251) == "host" and feed.placement("auto", 250) == "device"
  assert feed.placement("device", 10**12) == "device" and feed.placement("host", 1) == "host"
  monkeypatch.setattr(jax, "local_devices", lambda: [Device(None)])  # reports nothing
  assert feed.placement("auto", 10**12) == "device"
  monkeypatch.setattr(jax, "local_devices", lambda: [Device(None, "cpu")])  # its RAM
  ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
  assert (
    feed.placement("auto", ram // 4 + 1) == "host" and feed.placement("auto", ram // 4) == "device"
  )
