"""A whole run against its bare compiled step: how much of the device's time the driver keeps.

  python -m bench.whole_run --steps=20000 [--batch_size=16] [--arch=mlp] [--devices=1]

Runs ``python -m experiments.mnist`` with its default outputs (a record every 100 steps, a
sample grid every 1,000, a checkpoint every 5,000, the final ones) for ``--steps`` steps and
reads the training loop's steady speed from its ``metrics.jsonl``: steps per second from the
end of its first dispatch (compilation done; a record's time is interpolated within the
dispatch that completed it, so only a record at a dispatch's end is that dispatch's time) to
its last record. Then, in this process, the bare step of the same configuration: the driver's
own compiled scan (``Run.run_steps``, the chunk length the driver chose), data on the device,
no outputs, timed over the same steps (at most 20,000) after a compiled warm-up (the median
of three). Prints one JSON line with both and their ratio; with ``--variant``, also those of
whole runs with more flags (``--ckpt_every=0``: is it the checkpoints the device waits for?). On the CPU a small batch makes the step as
cheap as an accelerator's, so that the host's share shows.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import jax
import numpy as np

from bench.common import emit
from bench.end_to_end import read_run
from bench.run import ROOT
from jaxgan.backend import platform
from jaxgan.config import make_config
from jaxgan.run.driver import Run

SHAPE, NUM_EXAMPLES = (28, 28, 1), 60_000
BARE_STEPS = 20_000  # at most, per timed repeat of the bare step (it varies little)


def main():
  p = argparse.ArgumentParser()
  p.add_argument("--steps", type=int, default=20_000)
  p.add_argument("--arch", default="mlp")
  p.add_argument("--batch_size", type=int, default=64)
  p.add_argument("--devices", type=int, default=1)
  p.add_argument("--dataset", default="fashion_mnist")
  p.add_argument("--split", default="train")
  p.add_argument(
    "--run_flag",
    action="append",
    default=[],
    help="a flag for the whole run only, e.g. --run_flag=--nocompilation_cache (repeatable)",
  )
  p.add_argument(
    "--variant",
    action="append",
    default=[],
    help="another whole run with these flags too (space-separated), against the same bare "
    "step: which output costs the device's time, e.g. --variant='--ckpt_every=0' (repeatable)",
  )
  p.add_argument("--timeout", type=int, default=1800)
  p.add_argument("--xla_flags", default="", help="added to XLA_FLAGS, for both")
  args = p.parse_args()
  if args.xla_flags:  # before the backend starts; the whole run inherits the environment
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {args.xla_flags}".strip()
  flags = {"arch": args.arch, "batch_size": args.batch_size, "devices": args.devices}
  whole = whole_run(args, flags, args.run_flag)
  variants = [(v.split(), whole_run(args, flags, args.run_flag + v.split())) for v in args.variant]
  bare = bare_step(flags, min(whole["steady_steps"], BARE_STEPS))
  dev = jax.devices()[0]
  emit(
    {
      "framework": "jaxgan",
      "kind": "whole_run",
      **flags,
      "run_flags": args.run_flag,
      "xla_flags": args.xla_flags,
      "steps": args.steps,
      "device": dev.platform,
      "device_kind": dev.device_kind,
      **whole,
      **bare,
      "ratio": whole["whole_steps_per_s"] / bare["bare_steps_per_s"],
      "variants": [
        {"run_flags": v, **w, "ratio": w["whole_steps_per_s"] / bare["bare_steps_per_s"]}
        for v, w in variants
      ],
    }
  )


def whole_run(args, flags: dict, run_flags: list[str]) -> dict:
  """One ``experiments.mnist`` process; its loop's steps/s between its first and last record."""
  workdir = tempfile.mkdtemp(prefix="jaxgan-whole-")
  cmd = [sys.executable, "-m", "experiments.mnist", "--loss=ns", f"--dataset={args.dataset}",
         f"--split={args.split}", f"--steps={args.steps}", f"--workdir={workdir}", "--progress=false",
         *(f"--{k}={v}" for k, v in flags.items()), *run_flags]  # fmt: skip
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (ROOT, os.getenv("PYTHONPATH")))))
  proc = subprocess.run(
    cmd, cwd=ROOT, capture_output=True, text=True, timeout=args.timeout, env=env
  )
  if proc.returncode != 0:
    sys.exit(f"experiments.mnist exit {proc.returncode}: {proc.stderr.strip()[-500:]}")
  records, first = read_run(workdir)  # first: the first dispatch's end
  last = records[-1]
  # the driver's last line: how long its loop ran, and waited for the device (with compiling)
  loop_s, waited_s = map(
    float, re.findall(r"the loop: ([\d.]+) s, ([\d.]+) s of it", proc.stderr)[-1]
  )
  steady = last["step"] - first["step"]
  return {
    "whole_steps_per_s": steady / (last["wall_time"] - first["wall_time"]),
    "steady_steps": steady,
    "first_dispatch_s": first["wall_time"],
    "loop_s": last["wall_time"],
    "loop_with_outputs_s": loop_s,
    "waited_for_device_s": waited_s,
  }


def bare_step(flags: dict, steps: int) -> dict:
  """The same configuration's compiled scan alone, ``steps`` steps after a warm-up call."""
  cfg = make_config(loss="ns", dataset="fashion_mnist", **flags)
  run = Run(cfg, SHAPE, devices=flags["devices"])
  per_call = platform.steps_per_call(cfg.arch)
  data = run.place(np.random.default_rng(0).integers(0, 256, (NUM_EXAMPLES, *SHAPE), np.uint8))
  state = run.init()
  state, out = run.run_steps(state, data, run.train_key, per_call)  # compiles
  jax.block_until_ready(out)
  calls, rates = max(1, steps // per_call), []
  for _ in range(3):
    t0 = time.perf_counter()
    for _ in range(calls):
      state, out = run.run_steps(state, data, run.train_key, per_call)
    jax.block_until_ready(out)
    rates.append(calls * per_call / (time.perf_counter() - t0))
  return {
    "bare_steps_per_s": statistics.median(rates),
    "bare_rates": rates,
    "steps_per_call": per_call,
  }


if __name__ == "__main__":
  main()
