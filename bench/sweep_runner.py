"""The sweep runner's throughput: GAN-steps/s of one chunk of P members, as a sweep trains it.

  python -m bench.sweep_runner --population=64 --steps=50

P MLP GANs of one group (NS loss, batch 64, each its own seed and learning rate) on 60,000
random uint8 28×28 images, trained by ``jaxgan.sweeps.runner``'s group trainer exactly as
``experiments.sweep`` trains a chunk: vmapped and scanned, each member's metrics logged, a
10×10 sample grid per member and an orbax checkpoint at the end; no FCD. The first chunk
compiles; the next ``--repeats`` chunks (new members' folders and checkpoints, the compiled
program kept) are timed. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import jax
import numpy as np

from bench.common import emit, peak_rss_mb
from jaxgan.config import make_config
from jaxgan.run.checkpoint import Checkpointer
from jaxgan.run.driver import Task
from jaxgan.sweeps.runner import GroupTrainer, Scoring, Writing

SHAPE = (28, 28, 1)


def main():
  p = argparse.ArgumentParser()
  p.add_argument("--population", type=int, default=8)
  p.add_argument("--steps", type=int, default=100, help="steps of every member per chunk")
  p.add_argument("--repeats", type=int, default=2)
  args = p.parse_args()
  pop, steps = args.population, args.steps
  root = tempfile.mkdtemp(prefix="bench-sweep-")
  data = np.random.default_rng(0).integers(0, 256, (60000, *SHAPE), np.uint8)

  def members(chunk: int):
    return [
      make_config(
        steps=steps,
        log_every=steps,
        ckpt_every=0,
        seed=chunk * pop + i,
        lr=float(10 ** np.random.default_rng(i).uniform(-4, -3)),
        workdir=f"{root}/members/{chunk * pop + i}",
      )
      for i in range(pop)
    ]

  cfgs = members(0)
  trainer = GroupTrainer(cfgs[0], Task(data))

  writing = Writing()

  def chunk(k: int) -> float:
    cfgs = members(k)
    ckpt = Checkpointer(f"{root}/chunks/{k}/checkpoints")
    t0 = time.perf_counter()
    # As the runner does: the chunk before's final checkpoint is written while this one
    # trains, and waited for (part of this chunk's time) when it is done.
    with writing.after(ckpt):
      trainer.train(cfgs, list(range(k * pop, (k + 1) * pop)), Scoring(), ckpt)
    return time.perf_counter() - t0

  first = chunk(0)
  times = [chunk(k) for k in range(1, args.repeats + 1)]
  writing.close()
  rates = [pop * steps / t for t in times]
  dev = jax.devices()[0]
  stats = dev.memory_stats() if dev.platform != "cpu" else None
  emit(
    {
      "framework": "jaxgan",
      "kind": "sweep_runner",
      "jax": jax.__version__,
      "arch": "mlp",
      "population": pop,
      "steps_per_member": steps,
      "device": dev.platform,
      "device_kind": dev.device_kind,
      "batch": 64,
      "steps_per_s": statistics.median(rates),
      "rates": rates,
      "first_call_s": first,
      "peak_mb": (stats["peak_bytes_in_use"] / 2**20 if stats else peak_rss_mb()),
      "peak_kind": "device" if stats else "process RSS",
    }
  )


if __name__ == "__main__":
  main()
