"""What bfloat16 does to speed and to sample quality, measured: part of ``make bench``.

  python -m bench.precision [--archs=mlp] [--steps=3000] [--seeds=0,1,2]

For each architecture, compute dtype (float32, bfloat16) and seed, trains the NS GAN on
Fashion-MNIST (the one dataset here with a full labelled train split offline) with
``python -m experiments.mnist --compute_dtype=...``, then scores it with
``python -m experiments.score`` (FCD of 10,000 samples, jaxgan.eval.quality; lower is better).
Speed is the median of the run's logged steps/s, the first (compiling) interval left out.
The table goes into BENCHMARKS.md between ``<!-- precision:<platform> -->`` markers.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile

from bench.run import ROOT, machine, write_section

DTYPES = ("float32", "bfloat16")


def _run(args: list[str], timeout: int) -> subprocess.CompletedProcess:
  proc = subprocess.run(
    [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
  )
  if proc.returncode != 0:
    raise RuntimeError(
      f"{' '.join(args[:1])} exit {proc.returncode}: "
      f"{proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ''}"
    )
  return proc


def train_and_score(
  arch: str, dtype: str, seed: int, steps: int, workdir: str, timeout: int
) -> dict:
  log_every = max(1, steps // 10)
  extra = ["--d_norm=batch"] if arch == "dcgan" else []
  _run(
    [
      "experiments.mnist",
      "--dataset=fashion_mnist",
      f"--arch={arch}",
      "--loss=ns",
      f"--steps={steps}",
      f"--seed={seed}",
      f"--compute_dtype={dtype}",
      f"--workdir={workdir}",
      "--progress=false",
      "--sample_every=0",
      "--ckpt_every=0",
      f"--log_every={log_every}",
      *extra,
    ],
    timeout,
  )
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    rates = [json.loads(line)["steps_per_sec"] for line in f if line.strip()][1:]
  score = json.loads(
    _run(["experiments.score", f"--workdir={workdir}"], timeout).stdout.strip().splitlines()[-1]
  )
  return {
    "arch": arch,
    "compute_dtype": dtype,
    "seed": seed,
    "steps": steps,
    "steps_per_s": statistics.median(rates) if rates else float("nan"),
    "fcd": score["fcd"],
    "fcd_real_train": score["fcd_real_train"],
    "classifier_accuracy": score["classifier"]["test_accuracy"],
  }


def table(records: list[dict]) -> str:
  lines = [
    "| architecture | compute dtype | FCD per seed | FCD mean ± sd | steps/s (median) |",
    "| --- | --- | --- | ---: | ---: |",
  ]
  groups: dict = {}
  for r in records:
    groups.setdefault((r["arch"], r["compute_dtype"]), []).append(r)
  for (arch, dtype), rs in groups.items():
    fcds = [r["fcd"] for r in rs]
    sd = statistics.stdev(fcds) if len(fcds) > 1 else 0.0
    per_seed = ", ".join(f"{r['fcd']:.1f} (s{r['seed']})" for r in rs)
    rate = statistics.median(r["steps_per_s"] for r in rs)
    lines.append(
      f"| {arch} | {dtype} | {per_seed} | {statistics.mean(fcds):.1f} ± {sd:.1f} | {rate:.1f} |"
    )
  return "\n".join(lines)


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument(
    "--archs",
    default=None,
    help="comma-separated (default: mlp on the CPU, mlp,dcgan on an accelerator)",
  )
  p.add_argument("--steps", type=int, default=3000)
  p.add_argument("--seeds", default="0,1,2")
  p.add_argument("--timeout", type=int, default=1800, help="seconds per training or scoring")
  p.add_argument("--output", default=os.path.join(ROOT, "BENCHMARKS.md"))
  args = p.parse_args(argv)
  import jax

  plat = "gpu" if jax.default_backend() == "gpu" else jax.default_backend()
  archs = (args.archs or ("mlp" if plat == "cpu" else "mlp,dcgan")).split(",")
  seeds = [int(s) for s in args.seeds.split(",")]
  records = []
  with tempfile.TemporaryDirectory() as tmp:
    for arch in archs:
      for dtype in DTYPES:
        for seed in seeds:
          print(f"… {arch} {dtype} seed {seed}", file=sys.stderr, flush=True)
          r = train_and_score(
            arch, dtype, seed, args.steps, os.path.join(tmp, f"{arch}_{dtype}_{seed}"), args.timeout
          )
          print(
            f"  FCD {r['fcd']:.2f}, {r['steps_per_s']:.1f} steps/s", file=sys.stderr, flush=True
          )
          records.append(r)
  today = datetime.date.today().isoformat()
  first = records[0]
  section = (
    f"Measured {today} on {machine()} by `python -m bench.precision` (part of "
    f"`make bench`): the NS GAN "
    f"on Fashion-MNIST, {args.steps} steps at batch 64, FCD of 10,000 samples against "
    f"the test split (classifier test accuracy {first['classifier_accuracy']:.4f}; "
    f"10,000 real train images score {first['fcd_real_train']:.2f}).\n\n" + table(records)
  )
  os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
  with open(os.path.join(ROOT, "bench", "results", f"precision-{plat}.json"), "w") as f:
    json.dump({"date": today, "machine": machine(), "records": records}, f, indent=1)
  write_section(args.output, f"precision:{plat}", section, heading=f"Mixed precision: {plat}")
  print(section)
  return 0


if __name__ == "__main__":
  sys.exit(main())
