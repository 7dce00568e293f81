"""The MLP case of tests/numbers_unchanged.py in the suite: `experiments.mnist` on
Fashion-MNIST for 300 steps gives the losses recorded before the `GAN` refactoring (1e-6
relative). The script checks all four recorded cases (about ten minutes)."""

import json
import os
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "tests"))
import numbers_unchanged  # noqa: E402


def test_mlp_ns_gives_the_recorded_numbers(offline_env, tmp_path):
  rows = numbers_unchanged.run_case(
    "mlp_ns", tmp_path / "mlp_ns", dict(offline_env, PYTHONPATH=str(REPO))
  )
  recorded = [
    json.loads(line)
    for line in (numbers_unchanged.RECORD / "mlp_ns.jsonl").read_text().splitlines()
  ]
  assert numbers_unchanged.differences("mlp_ns", rows, recorded) == []
  assert len(rows) == 3 and os.path.exists(tmp_path / "mlp_ns" / "samples_final.png")
