r"""The training numbers that a refactoring must not change.

  python tests/numbers_unchanged.py            # runs the four commands, compares with the record
  python tests/numbers_unchanged.py --record   # writes the record (done once, before a refactor)

Each case is ``python -m experiments.mnist --dataset=fashion_mnist --steps=300 --seed=0`` with
the flags below. The record (``tests/recorded_numbers/<case>.jsonl``) keeps every metric of every logged
step but the timings; a run matches it when each value agrees to 1e-6 relative (1e-9 absolute,
for values that are 0). Same platform only: XLA's CPU code may differ between CPU models.
The record was made with the code before the `GAN` refactoring (issue 12). It takes about ten
minutes on 2 CPU cores, so it is a script; ``tests/test_numbers.py`` checks the MLP case in
the suite.
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
TIMINGS = ("steps_per_sec", "wall_time")
RTOL, ATOL = 1e-6, 1e-9


def run_case(name: str, workdir: Path, env: dict) -> list[dict]:
  cmd = [sys.executable, "-m", "experiments.mnist", *COMMON, *CASES[name], f"--workdir={workdir}"]
  proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
  if proc.returncode != 0:
    raise RuntimeError(f"{name}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
  with open(workdir / "metrics.jsonl") as f:
    rows = [json.loads(line) for line in f]
  return [{k: v for k, v in row.items() if k not in TIMINGS} for row in rows]


def differences(name: str, rows: list[dict], recorded: list[dict]) -> list[str]:
  """Every value of ``rows`` that differs from ``recorded`` beyond the tolerance."""
  if [r["step"] for r in rows] != [r["step"] for r in recorded]:
    return [f"{name}: logged steps differ"]
  found = []
  for row, want in zip(rows, recorded):
    if set(row) != set(want):
      found.append(f"{name} step {row['step']}: metrics {sorted(row)} != {sorted(want)}")
      continue
    for key, value in row.items():
      if not math.isclose(value, want[key], rel_tol=RTOL, abs_tol=ATOL):
        found.append(f"{name} step {row['step']} {key}: {value!r} != {want[key]!r}")
  return found


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--record", action="store_true", help="write the record instead")
  parser.add_argument("--only", nargs="*", choices=sorted(CASES), default=sorted(CASES))
  args = parser.parse_args()
  env = {**os.environ, "PYTHONPATH": str(REPO), "XLA_FLAGS": ""}
  RECORD.mkdir(exist_ok=True)
  failures = []
  with tempfile.TemporaryDirectory() as tmp:
    for name in args.only:
      rows = run_case(name, Path(tmp) / name, env)
      path = RECORD / f"{name}.jsonl"
      if args.record:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        print(f"recorded {name}: {len(rows)} records")
        continue
      recorded = [json.loads(line) for line in path.read_text().splitlines()]
      found = differences(name, rows, recorded)
      failures += found
      print(f"{name}: {'same numbers' if not found else f'{len(found)} differences'}")
  for line in failures:
    print(line, file=sys.stderr)
  return 1 if failures else 0


if __name__ == "__main__":
  sys.exit(main())
