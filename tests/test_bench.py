"""The benchmark harness (bench/): jaxgan's worker runs and reports, and the table lands in
its platform's section without touching the rest. PyTorch is not installed for the tests
(it lives in .venv-bench), so its worker is exercised only by `make bench`."""

import json
import subprocess
import sys

import pytest

from bench import run as bench_run

from conftest import REPO


@pytest.mark.long  # a training process; `bash bench/gpu.sh --smoke` runs it too
def test_jax_worker_reports_a_finite_measurement(offline_env):
  out = subprocess.run(
    [
      sys.executable,
      "-m",
      "bench.jax_gan",
      "--arch=mlp",
      "--loop=scan",
      "--steps=2",
      "--repeats=1",
      "--population=2",
      "--unroll=2",
      "--count_kernels",
    ],
    cwd=REPO,
    env=offline_env,
    capture_output=True,
    text=True,
    timeout=300,
  )
  assert out.returncode == 0, out.stderr[-2000:]
  record = json.loads(out.stdout.strip().splitlines()[-1])
  assert record["framework"] == "jaxgan" and record["population"] == 2
  assert record["steps_per_s"] > 0 and record["first_call_s"] > 0 and record["finite"]
  # an unrolled scan of 2 has no loop: its entry computation holds both steps' kernels
  assert record["unroll"] == 2 and record["kernels_per_step"] > 10


@pytest.mark.long  # a training process each; `bash bench/gpu.sh --smoke` runs them too
def test_sweep_runner_worker_times_chunks_of_a_population(offline_env):
  out = subprocess.run(
    [sys.executable, "-m", "bench.sweep_runner", "--population=2", "--steps=3", "--repeats=1"],
    cwd=REPO,
    env=offline_env,
    capture_output=True,
    text=True,
    timeout=300,
  )
  assert out.returncode == 0, out.stderr[-2000:]
  record = json.loads(out.stdout.strip().splitlines()[-1])
  assert record["kind"] == "sweep_runner" and record["population"] == 2
  assert record["steps_per_s"] > 0 and len(record["rates"]) == 1 and record["first_call_s"] > 0


@pytest.mark.long  # a training process each; `bash bench/gpu.sh --smoke` runs them too
def test_end_to_end_worker_times_a_whole_training_process(offline_env):
  out = subprocess.run(
    [
      sys.executable,
      "-m",
      "bench.end_to_end",
      "--dataset=mnist",
      "--split=test",
      "--steps=30",
      "--no-warm",
    ],
    cwd=REPO,
    env=offline_env,
    capture_output=True,
    text=True,
    timeout=300,
  )
  assert out.returncode == 0, out.stderr[-2000:]
  record = json.loads(out.stdout.strip().splitlines()[-1])
  assert record["kind"] == "end_to_end" and record["steps"] == 30
  # the process includes the loop, which includes its first (compiling) interval
  assert record["process_s"] > record["loop_s"] >= record["first_interval_s"] > 0
  assert abs(record["steps_per_s"] - 30 / record["process_s"]) < 1e-6


@pytest.mark.long  # a training process each; `bash bench/gpu.sh --smoke` runs them too
def test_whole_run_worker_times_a_run_and_its_bare_step(offline_env):
  out = subprocess.run(
    [sys.executable, "-m", "bench.whole_run", "--dataset=mnist", "--split=test", "--steps=300",
     "--batch_size=16"],
    cwd=REPO, env=offline_env, capture_output=True, text=True, timeout=300,
  )  # fmt: skip
  assert out.returncode == 0, out.stderr[-2000:]
  record = json.loads(out.stdout.strip().splitlines()[-1])
  assert record["kind"] == "whole_run" and record["batch_size"] == 16
  assert record["steady_steps"] == 200  # from the first dispatch's end (100) to 300
  assert record["whole_steps_per_s"] > 0 and record["bare_steps_per_s"] > 0
  assert record["ratio"] == record["whole_steps_per_s"] / record["bare_steps_per_s"]
  # the driver's own account of its loop: the time it waited for the device is part of it
  assert 0 < record["waited_for_device_s"] < record["loop_with_outputs_s"]


def test_smoke_cuts_every_worker_to_a_few_steps():
  """bench/gpu.sh --smoke: the accelerator's rows, each at a few steps (a whole run at 300)."""
  rows = dict(bench_run.configs(gpu=True, quick=False))
  assert bench_run.smoke(rows["jaxgan mlp, population 64, lax.scan of 500"]) == [
    "bench.jax_gan", "--arch=mlp", "--loop=scan", "--steps=2", "--population=2",
    "--count_kernels",
  ]  # fmt: skip
  assert bench_run.smoke(rows["whole run vs bare step, mlp, batch 64"]) == [
    "bench.whole_run", "--steps=300", *bench_run.WHOLE_RUN_VARIANTS
  ]  # fmt: skip
  e2e = bench_run.smoke(rows["experiments.mnist mlp, 93,800 steps, end to end"])
  assert "--steps=300" in e2e and "--no-warm" in e2e


def test_results_section_is_replaced_in_place(tmp_path):
  path = tmp_path / "BENCHMARKS.md"
  path.write_text(
    "# Benchmarks\n\nintro\n\n<!-- results:cpu -->\nSTALE\n<!-- /results:cpu -->\n\n"
    "## Analysis\nkept\n"
  )
  bench_run.write_section(str(path), "cpu", "new table")
  text = path.read_text()
  assert "new table" in text and "old" not in text
  assert text.startswith("# Benchmarks\n\nintro") and text.endswith("## Analysis\nkept\n")
  bench_run.write_section(str(path), "gpu", "gpu table")  # a new platform is appended
  assert "<!-- results:gpu -->\ngpu table\n<!-- /results:gpu -->" in path.read_text()


def test_table_gives_ratios_to_pytorch_eager_of_the_same_model():
  rows = [
    (
      "PyTorch MLP GAN, eager",
      {
        "model": "mlp",
        "mode": "eager",
        "steps_per_s": 20.0,
        "first_call_s": 1.0,
        "peak_mb": 400,
        "peak_kind": "RSS",
      },
    ),
    (
      "jaxgan mlp, scan",
      {
        "arch": "mlp",
        "steps_per_s": 50.0,
        "first_call_s": 3.0,
        "peak_mb": 600,
        "peak_kind": "RSS",
        "population": 1,
      },
    ),
    (
      "jaxgan infogan",
      {
        "arch": "infogan",
        "steps_per_s": 4.0,
        "first_call_s": 3.0,
        "peak_mb": 600,
        "peak_kind": "RSS",
      },
    ),
    ("broken", {"error": "exit 1: boom"}),
    (
      "whole run",
      {
        "kind": "end_to_end",
        "process_s": 20.0,
        "loop_s": 15.0,
        "first_interval_s": 4.0,
        "warm_process_s": 17.0,
        "warm_first_interval_s": 1.5,
        "steps_per_s": 50.0,
      },
    ),
  ]
  table = bench_run.table(rows)
  speed, e2e = table.split("\n\n")
  assert "| whole run | 20.0 | 15.0 | 4.0 | 17.0 | 1.5 | 50.0 |" in e2e and "whole run" not in speed
  assert "| jaxgan mlp, scan | 50.0 | 3.0 | 600 (RSS) | 2.50× |" in table
  assert "| jaxgan infogan | 4.0 | 3.0 | 600 (RSS) | — |" in table
  assert "failed: exit 1: boom" in table


def test_a_full_run_writes_every_kind_of_record(tmp_path, monkeypatch, capsys):
  """bench.run's main over stand-in workers: the progress lines, the JSON and the table."""
  records = {
    "bench.jax_gan": {
      "arch": "mlp",
      "steps_per_s": 50.0,
      "first_call_s": 3.0,
      "peak_mb": 600,
      "peak_kind": "RSS",
      "population": 1,
    },
    "bench.end_to_end": {
      "kind": "end_to_end",
      "process_s": 20.0,
      "loop_s": 15.0,
      "first_interval_s": 4.0,
      "steps_per_s": 50.0,
    },
    "bench.torch_gan": {"error": "exit 1: no torch"},
    "bench.whole_run": {
      "kind": "whole_run",
      "whole_steps_per_s": 95.0,
      "bare_steps_per_s": 100.0,
      "ratio": 0.95,
      "steps_per_call": 100,
      "first_dispatch_s": 4.0,
      "loop_with_outputs_s": 30.0,
      "waited_for_device_s": 25.0,
      "variants": [
        {
          "run_flags": ["--ckpt_every=0"],
          "whole_steps_per_s": 99.0,
          "ratio": 0.99,
          "first_dispatch_s": 4.0,
          "loop_with_outputs_s": 29.0,
          "waited_for_device_s": 26.0,
        }
      ],
    },
    "bench.sweep_runner": {
      "kind": "sweep_runner",
      "steps_per_s": 40.0,
      "first_call_s": 5.0,
      "peak_mb": 700,
      "peak_kind": "RSS",
      "population": 8,
    },
  }

  def run_one(cmd, timeout):
    pop = [int(a.split("=")[1]) for a in cmd if a.startswith("--population=")]
    if cmd[0] == "bench.sweep_runner":  # 40 GAN-steps/s alone, 30 in populations
      return {**records[cmd[0]], "population": pop[0], "steps_per_s": 40.0 if pop[0] == 1 else 30.0}
    if cmd[0] == "bench.jax_gan":  # bare populations: 60 GAN-steps/s
      dtype = "bfloat16" if "--compute_dtype=bfloat16" in cmd else "float32"
      rate = 60.0 if pop else 50.0
      return {**records[cmd[0]], "population": (pop or [1])[0], "steps_per_s": rate,
              "compute_dtype": dtype}  # fmt: skip
    return records[cmd[0]]

  monkeypatch.setattr(bench_run, "run_one", run_one)
  monkeypatch.setattr(bench_run, "ROOT", str(tmp_path))
  out = tmp_path / "BENCHMARKS.md"
  assert bench_run.main(["--quick", f"--output={out}"]) == 0
  err = capsys.readouterr().err
  assert "20.0 s whole process, 15.0 s training loop" in err and "no torch" in err
  text = out.read_text()
  assert "| experiments.mnist mlp, 2,000 steps, end to end | 20.0 | 15.0 | 4.0 | — | — |" in text
  assert "| jaxgan mlp, lax.scan of 100 | 50.0 | 3.0 | 600 (RSS) | — |" in text
  assert (tmp_path / "bench" / "results" / "cpu.json").exists()
  assert "| sweep runner, mlp, population 1, 1500 steps | 40.0 | 1.00× | 0.80× | — | 5.0 |" in text
  assert (
    "| sweep runner, mlp, population 8, 187 steps | 30.0 | 0.75× | 0.60× | 0.50× | 5.0 |" in text
  )
  assert "whole run 95.0 steps/s, bare step 100.0: 0.95×" in err
  assert (
    "| whole run vs bare step, mlp, batch 16 | 95.0 | 100.0 | 0.95× | 100 | 4.0 | 30.0 |" in text
  )
  with_variant = (
    "| whole run vs bare step, mlp, batch 16, with --ckpt_every=0 | 99.0 | 100.0 | 0.99×"
  )
  assert with_variant in text


def test_a_run_cut_short_keeps_its_records_and_tabulates_them_elsewhere(tmp_path, monkeypatch):
  """--only in priority order, each record appended once measured, a worker that never
  returns (the machine's time limit), then --tabulate writes the section naming what is
  missing."""
  calls = []

  def run_one(cmd, timeout):
    calls.append(cmd)
    if len(calls) == 3:
      raise KeyboardInterrupt  # the lent machine's limit stops the run here
    return {"arch": "mlp", "steps_per_s": 10.0 * len(calls), "first_call_s": 1.0,
            "peak_mb": 9, "peak_kind": "RSS"}  # fmt: skip

  monkeypatch.setattr(bench_run, "run_one", run_one)
  monkeypatch.setattr(bench_run, "ROOT", str(tmp_path))
  records = tmp_path / "records.jsonl"
  only = ["--only=jaxgan mlp, population 64", "--only=jaxgan mlp, lax.scan"]
  try:
    bench_run.main([*only, f"--records={records}"])
  except KeyboardInterrupt:
    pass
  labels = [json.loads(l).get("label") for l in records.read_text().splitlines()]
  assert labels == [None, "jaxgan mlp, population 64, lax.scan of 2", "jaxgan mlp, lax.scan of 100"]
  out = tmp_path / "BENCHMARKS.md"
  out.write_text("# B\n\n<!-- results:cpu -->\nSTALE\n<!-- /results:cpu -->\n")
  assert bench_run.main([f"--tabulate={records}", f"--output={out}"]) == 0
  text = out.read_text()
  assert "STALE" not in text and "| jaxgan mlp, population 64, lax.scan of 2 | 10.0 |" in text
  assert (
    "Not run there" in text and "jaxgan mlp, lax.scan of 100, bfloat16" in text.split("Not run")[1]
  )
  saved = json.loads((tmp_path / "bench" / "results" / "cpu.json").read_text())
  assert [r["steps_per_s"] for r in saved["results"]] == [10.0, 20.0]


def test_precision_table_groups_seeds_and_sections_are_named():
  from bench import precision

  rows = [
    {"arch": "mlp", "compute_dtype": dt, "seed": s, "fcd": f, "steps_per_s": r}
    for dt, s, f, r in [
      ("float32", 0, 10.0, 50.0),
      ("float32", 1, 14.0, 40.0),
      ("bfloat16", 0, 11.0, 30.0),
      ("bfloat16", 1, 13.0, 36.0),
    ]
  ]
  table = precision.table(rows)
  # mean ± sample standard deviation of the seeds' FCDs; median steps/s
  assert "| mlp | float32 | 10.0 (s0), 14.0 (s1) | 12.0 ± 2.8 | 45.0 |" in table
  assert "| mlp | bfloat16 | 11.0 (s0), 13.0 (s1) | 12.0 ± 1.4 | 33.0 |" in table


def test_named_sections_do_not_touch_the_results_table(tmp_path):
  path = tmp_path / "BENCHMARKS.md"
  path.write_text("<!-- results:cpu -->\nspeed\n<!-- /results:cpu -->\n")
  bench_run.write_section(str(path), "precision:cpu", "quality", heading="Mixed precision: cpu")
  bench_run.write_section(str(path), "precision:cpu", "quality 2")
  text = path.read_text()
  assert "speed" in text and "quality 2" in text and "quality\n" not in text
  assert text.count("## Mixed precision: cpu") == 1
