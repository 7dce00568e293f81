"""--data_placement: a dataset kept on the host feeds the same batches as one on the device."""

import json

import jax
import numpy as np

from jaxgan.config import make_config
from jaxgan.run import feed, records, train_steps
from jaxgan.run.checkpoint import Checkpointer
from jaxgan.run.driver import Run, Task, train_run

from helpers import fake_data


def _run(tmp_path, placement, **kw):
  cfg = make_config(dataset="mnist", steps=12, log_every=4, sample_every=0, progress=False,
                    steps_per_call=4, lr=1e-3, compilation_cache=False, data_placement=placement,
                    workdir=str(tmp_path / placement), **kw)  # fmt: skip
  assert train_run(cfg, Task(np.asarray(fake_data(256)))) == 0
  ckpt = Checkpointer(f"{cfg.workdir}/checkpoints")
  final = ckpt.manager.restore(ckpt.latest_step())
  ckpt.close()
  with open(f"{cfg.workdir}/config.json") as f:
    used = json.load(f)["data_placement_used"]
  return records.read(f"{cfg.workdir}/metrics.jsonl"), final, used


def test_a_run_fed_from_the_host_equals_one_fed_on_the_device(tmp_path):
  """n_disc 2 (a batch per D step) and the batch split over 2 devices: the log and the final
  state bit for bit."""
  kw = {"n_disc": 2, "devices": 2}
  host_log, host_state, host = _run(tmp_path, "host", **kw)
  device_log, device_state, device = _run(tmp_path, "device", **kw)
  assert (host, device) == ("host", "device")
  timing = ("steps_per_sec", "wall_time")
  strip = lambda log: [{k: v for k, v in r.items() if k not in timing} for r in log]
  assert strip(host_log) == strip(device_log) and len(host_log) == 3
  for a, b in zip(jax.tree.leaves(host_state), jax.tree.leaves(device_state), strict=True):
    np.testing.assert_array_equal(a, b)


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
    def __init__(self, stats):
      self.stats = stats

    def memory_stats(self):
      return self.stats

  monkeypatch.setattr(jax, "local_devices", lambda: [Device({"bytes_limit": 1000})])
  assert feed.placement("auto", 251) == "host" and feed.placement("auto", 250) == "device"
  assert feed.placement("device", 10**12) == "device" and feed.placement("host", 1) == "host"
  monkeypatch.setattr(jax, "local_devices", lambda: [Device(None)])  # a CPU reports nothing
  assert feed.placement("auto", 10**12) == "device"
