"""A whole training run, timed as a user runs it: ``python -m experiments.mnist``.

  python -m bench.end_to_end --steps=93800 [--arch=mlp] [--dataset=fashion_mnist]

Times one ``experiments.mnist`` process from start to exit with the README's settings (sample
grids every 1,000 steps, checkpoints every 5,000, metrics every 100; no progress bar), after an
untimed first load that prepares the dataset and its decoded-array cache (a once-per-machine
cost). 93,800 steps are the issue's "100 epochs of the classic MNIST GAN" (938 batches of 64 per
epoch); offline the dataset is Fashion-MNIST, the same shape and size as MNIST. Reports the
whole process's seconds (imports, data, compilation, training, samples, final checkpoint), the
training loop's own (compilation included; from the run's metrics.jsonl), and its first
dispatch (compilation and the first chunk of steps). It runs twice with a fresh JAX
compilation cache ($JAXGAN_CACHE): first compiling everything, then loading the executables the
first run stored, as a rerun or the next run of a sweep does. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from bench.common import emit
from bench.run import ROOT


def main():
  p = argparse.ArgumentParser()
  p.add_argument("--steps", type=int, default=938)
  p.add_argument("--arch", default="mlp")
  p.add_argument("--dataset", default="fashion_mnist")
  p.add_argument("--split", default="train")
  p.add_argument("--timeout", type=int, default=1800)
  p.add_argument(
    "--warm",
    action=argparse.BooleanOptionalAction,
    default=True,
    help="also time a second run, with the compilation cache the first filled",
  )
  args = p.parse_args()

  from jaxgan.data import datasets  # the untimed first load: TFDS preparation and the decoded cache

  t0 = time.perf_counter()
  datasets.load_images(args.dataset, args.split)
  first_load = time.perf_counter() - t0

  # Twice, with a fresh JAX compilation cache: compiling (cold), then loading (warm).
  cache = tempfile.mkdtemp(prefix="jaxgan-e2e-cache-")
  cold = timed_run(args, cache)
  warm = timed_run(args, cache) if args.warm else {}
  import jax

  dev = jax.devices()[0]
  emit(
    {
      "framework": "jaxgan",
      "kind": "end_to_end",
      "arch": args.arch,
      "dataset": args.dataset,
      "steps": args.steps,
      "device": dev.platform,
      "device_kind": dev.device_kind,
      "batch": 64,
      **cold,
      **{f"warm_{k}": v for k, v in warm.items()},
      "steps_per_s": args.steps / cold["process_s"],
      "first_data_load_s": first_load,
      "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
      "peak_kind": "process RSS",
    }
  )


def timed_run(args, cache: str) -> dict:
  """One experiments.mnist process, timed from start to exit."""
  workdir = tempfile.mkdtemp(prefix="jaxgan-e2e-")
  cmd = [
    sys.executable,
    "-m",
    "experiments.mnist",
    f"--dataset={args.dataset}",
    f"--split={args.split}",
    f"--arch={args.arch}",
    "--loss=ns",
    f"--steps={args.steps}",
    f"--workdir={workdir}",
    "--progress=false",
  ]
  t0 = time.perf_counter()
  proc = subprocess.run(
    cmd,
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=args.timeout,
    env=dict(
      os.environ,
      PYTHONPATH=os.pathsep.join(filter(None, (ROOT, os.environ.get("PYTHONPATH")))),
      JAXGAN_CACHE=cache,
    ),
  )
  wall = time.perf_counter() - t0
  if proc.returncode != 0:
    sys.exit(f"experiments.mnist exit {proc.returncode}: {proc.stderr.strip()[-500:]}")
  # A fresh workdir, so wall_time counts from the loop's start.
  records, first = read_run(workdir)
  return {
    "process_s": wall,
    "loop_s": records[-1]["wall_time"],
    "first_interval_s": first["wall_time"],
    "first_interval_steps": first["step"],
    "d_loss": records[-1]["d_loss"],
  }


def read_run(workdir: str) -> tuple[list[dict], dict]:
  """A finished run's records, and its first record at the end of a dispatch: a record inside
  a dispatch has an interpolated time, so that one's is the first dispatch's own."""
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    records = [json.loads(line) for line in f if line.strip()]
  with open(os.path.join(workdir, "config.json")) as f:
    per_call = json.load(f)["steps_per_call_used"]
  return records, next((r for r in records if r["step"] % per_call == 0), records[-1])


if __name__ == "__main__":
  main()
