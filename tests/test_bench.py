"""The benchmark harness (bench/): jaxgan's worker runs and reports, and the table lands in
its platform's section without touching the rest. PyTorch is not installed for the tests
(it lives in .venv-bench), so its worker is exercised only by `make bench`."""
import json
import subprocess
import sys

from bench import run as bench_run

from conftest import REPO


def test_jax_worker_reports_a_finite_measurement(offline_env):
  out = subprocess.run([sys.executable, "-m", "bench.jax_gan", "--arch=mlp", "--loop=scan",
                        "--steps=2", "--repeats=1", "--population=2"],
                       cwd=REPO, env=offline_env, capture_output=True, text=True, timeout=300)
  assert out.returncode == 0, out.stderr[-2000:]
  record = json.loads(out.stdout.strip().splitlines()[-1])
  assert record["framework"] == "jaxgan" and record["population"] == 2
  assert record["steps_per_s"] > 0 and record["first_call_s"] > 0 and record["finite"]


def test_results_section_is_replaced_in_place(tmp_path):
  path = tmp_path / "BENCHMARKS.md"
  path.write_text("# Benchmarks\n\nintro\n\n<!-- results:cpu -->\nold\n<!-- /results:cpu -->\n\n"
                  "## Analysis\nkept\n")
  bench_run.write_section(str(path), "cpu", "new table")
  text = path.read_text()
  assert "new table" in text and "old" not in text
  assert text.startswith("# Benchmarks\n\nintro") and text.endswith("## Analysis\nkept\n")
  bench_run.write_section(str(path), "gpu", "gpu table")  # a new platform is appended
  assert "<!-- results:gpu -->\ngpu table\n<!-- /results:gpu -->" in path.read_text()


def test_table_gives_ratios_to_pytorch_eager_of_the_same_model():
  rows = [("PyTorch MLP GAN, eager", {"model": "mlp", "mode": "eager", "steps_per_s": 20.0,
                                      "first_call_s": 1.0, "peak_mb": 400, "peak_kind": "RSS"}),
          ("jaxgan mlp, scan", {"arch": "mlp", "steps_per_s": 50.0, "first_call_s": 3.0,
                                "peak_mb": 600, "peak_kind": "RSS", "population": 1}),
          ("jaxgan infogan", {"arch": "infogan", "steps_per_s": 4.0, "first_call_s": 3.0,
                              "peak_mb": 600, "peak_kind": "RSS"}),
          ("broken", {"error": "exit 1: boom"})]
  table = bench_run.table(rows)
  assert "| jaxgan mlp, scan | 50.0 | 3.0 | 600 (RSS) | 2.50× |" in table
  assert "| jaxgan infogan | 4.0 | 3.0 | 600 (RSS) | — |" in table
  assert "failed: exit 1: boom" in table
