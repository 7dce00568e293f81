r"""The training numbers that a refactoring must not change.

  python tests/numbers_unchanged.py --record --into=DIR  # before a refactor: the record, here
  python tests/numbers_unchanged.py --against=DIR        # after it: the same numbers, bit for bit
  python tests/numbers_unchanged.py --early --record     # the suite's early record (committed)

Each case is ``python -m experiments.mnist --dataset=fashion_mnist --steps=300 --seed=0`` with
the flags below; a record keeps every metric of every logged step but the timings. A
refactoring is checked on one machine: record before it, compare after it, bit for bit
(``--against``). Across machines XLA:CPU rounds differently by instruction set and a GAN
amplifies it (measured between an AMD AVX2 and an Intel AVX-512 machine: the conv cases 2e-5
to 3e-3 apart by step 100-300; see docs/testing.md), so the committed record is the early one:
the first ``EARLY_STEPS`` steps logged every step (``--early``, ``tests/recorded_numbers/``),
which ``tests/test_numbers.py`` compares at ``EARLY_RTOL``. The four 300-step cases take about
half an hour on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECORD = REPO / "tests" / "recorded_numbers"
COMMON = ["--dataset=fashion_mnist", "--steps=300", "--seed=0", "--progress=false"]
CASES = {
  "mlp_ns": ["--arch=mlp", "--loss=ns"],
  "dcgan_wgan_gp_n_disc2": ["--arch=dcgan", "--loss=wgan_gp", "--n_disc=2"],
  "infogan_began": ["--arch=infogan", "--loss=began"],
  "dcgan_ns_consensus": ["--arch=dcgan", "--loss=ns", "--consensus=0.1", "--simultaneous"],
}
EARLY_STEPS = 20
EARLY = [f"--steps={EARLY_STEPS}", "--log_every=1"]
TIMINGS = ("steps_per_sec", "wall_time")
EARLY_RTOL, ATOL = 1e-3, 1e-6


def run_case(name: str, workdir: Path, env: dict, early: bool = False) -> list[dict]:
  cmd = [sys.executable, "-m", "experiments.mnist", *COMMON, *CASES[name], f"--workdir={workdir}"]
  cmd += EARLY if early else []  # the later flags win
  proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
  if proc.returncode != 0:
    raise RuntimeError(f"{name}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
  with open(workdir / "metrics.jsonl") as f:
    rows = [json.loads(line) for line in f]
  return [{k: v for k, v in row.items() if k not in TIMINGS} for row in rows]


def differences(
  name: str, rows: list[dict], recorded: list[dict], rtol: float = 0.0, atol: float = 0.0
) -> list[str]:
  """Every value of ``rows`` that differs from ``recorded`` beyond the tolerance (default:
  any difference)."""
  if [r["step"] for r in rows] != [r["step"] for r in recorded]:
    return [f"{name}: logged steps differ"]
  found = []
  for row, want in zip(rows, recorded):
    if set(row) != set(want):
      found.append(f"{name} step {row['step']}: metrics {sorted(row)} != {sorted(want)}")
      continue
    for key, value in row.items():
      if not math.isclose(value, want[key], rel_tol=rtol, abs_tol=atol):
        found.append(f"{name} step {row['step']} {key}: {value!r} != {want[key]!r}")
  return found


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--record", action="store_true", help="write the record instead")
  parser.add_argument("--early", action="store_true", help=f"the first {EARLY_STEPS} steps")
  parser.add_argument("--into", type=Path, help="the record's folder (default: the suite's)")
  parser.add_argument("--against", type=Path, help="compare with the record in this folder")
  parser.add_argument("--only", nargs="*", choices=sorted(CASES), default=sorted(CASES))
  args = parser.parse_args()
  env = {**os.environ, "PYTHONPATH": str(REPO), "XLA_FLAGS": ""}
  folder = args.into or args.against or RECORD
  folder.mkdir(exist_ok=True)
  failures = []
  with tempfile.TemporaryDirectory() as tmp:
    for name in args.only:
      rows = run_case(name, Path(tmp) / name, env, args.early)
      path = folder / f"{name}.jsonl"
      if args.record:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        print(f"recorded {name}: {len(rows)} records")
        continue
      recorded = [json.loads(line) for line in path.read_text().splitlines()]
      found = differences(name, rows, recorded)
      failures += found
      print(f"{name}: {'same numbers, bit for bit' if not found else f'{len(found)} differences'}")
  for line in failures:
    print(line, file=sys.stderr)
  return 1 if failures else 0


if __name__ == "__main__":
  sys.exit(main())
