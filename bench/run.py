"""``make bench``: jaxgan and the PyTorch reference, timed in one run on this machine.

  python -m bench.run [--quick] [--only=SUBSTRING ...] [--records=FILE] [--smoke]
  python -m bench.run --tabulate=FILE


Every configuration runs in its own subprocess (a fresh process: its compile time is
honest, its peak memory its own, one failure does not stop the others) and prints one JSON
line. The table goes into BENCHMARKS.md between the markers of this platform
(``<!-- results:cpu -->`` … ``<!-- /results:cpu -->``), and the raw records into
``bench/results/<platform>.json`` (a run with ``--only`` prints its table and writes
neither unless ``--output`` is given). Runs unchanged on a GPU: the configurations adapt.

A machine lent for minutes (a GPU) runs the configurations that matter most first
(``--only`` repeated: in the order given) and appends each record to ``--records`` as soon as
it is measured, so a run stopped at its time limit keeps what it measured; ``--tabulate``
then writes that file's table and raw records here, as a full run would, naming what was not
run. ``--smoke`` runs the accelerator's configurations at a few steps each on whatever is here
(what ``bench/gpu.sh --smoke`` checks on the CPU): it shows that they run, not how fast.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# Which output of a whole run the device waits for, if any: each a whole run of its own.
WHOLE_RUN_VARIANTS = [
  "--variant=--ckpt_every=0",
  "--variant=--ckpt_every=0 --sample_every=0",
  "--variant=--nocompilation_cache",
  "--variant=--data_placement=host",
]
# XLA's command buffers (CUDA graphs) extended to loops and conditionals: a scan's whole loop
# replayed as one graph, instead of its body's kernels and a host-side trip count per step.
GRAPHS = (
  "--xla_flags=--xla_gpu_enable_command_buffer="
  "FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL,CUDNN,WHILE,CONDITIONAL"
)


def configs(gpu: bool, quick: bool) -> list[tuple[str, list[str]]]:
  """(label, command) pairs. Chunk sizes keep each timed repeat around a second or more."""
  scan = "500" if gpu else "100"
  torch_modes = ["eager", "compile"] + (["reduce-overhead"] if gpu else [])
  # The driver against its bare step; on the CPU a batch of 16 makes the step cheap, as an
  # accelerator's is, so that the host's share shows.
  whole = ["--steps=50000", *WHOLE_RUN_VARIANTS] if gpu else [
    "--batch_size=16", "--steps=3000", "--variant=--data_placement=host"
  ]  # fmt: skip
  rows = [
    (
      f"whole run vs bare step, mlp, batch {16 if not gpu else 64}",
      ["bench.whole_run", *whole],
    )
  ]
  rows += [
    (f"PyTorch MLP GAN, {m}", ["bench.torch_gan", "--model=mlp", f"--mode={m}"])
    for m in torch_modes
  ]
  rows += [
    (
      "jaxgan mlp, jitted step per dispatch",
      ["bench.jax_gan", "--arch=mlp", "--loop=jit", "--steps=50"],
    ),
    (
      f"jaxgan mlp, lax.scan of {scan}",
      ["bench.jax_gan", "--arch=mlp", "--loop=scan", f"--steps={scan}"],
    ),
  ]
  rows.append(
    (
      f"jaxgan mlp, lax.scan of {scan}, bfloat16",
      ["bench.jax_gan", "--arch=mlp", "--loop=scan", f"--steps={scan}", "--compute_dtype=bfloat16"],
    )
  )
  pops = [8, 64] if quick else [8, 64, 256]
  for pop in pops:
    steps = scan if gpu else str(max(2, 100 // pop))
    rows.append(
      (
        f"jaxgan mlp, population {pop}, lax.scan of {steps}",
        ["bench.jax_gan", "--arch=mlp", "--loop=scan", f"--steps={steps}", f"--population={pop}"],
      )
    )
  if gpu:  # fp32 populations reach the GPU's fp32 (non-tensor-core) arithmetic rate
    rows.append(
      (
        f"jaxgan mlp, population 64, lax.scan of {scan}, bfloat16",
        ["bench.jax_gan", "--arch=mlp", "--loop=scan", f"--steps={scan}", "--population=64",
         "--compute_dtype=bfloat16"],
      )
    )  # fmt: skip
  # The sweep runner (bench.sweep_runner) at each population size; on the CPU each chunk is
  # about 1,500 GAN-steps (a 256-member chunk would take minutes per 10 steps otherwise); on
  # a GPU 10,000 steps a member, one timed chunk (a chunk's fixed costs, its members' inits,
  # logs, grids and checkpoint, are seconds: a short chunk measures them, not the training).
  for pop in [1, 8, 64] if quick else [1, 8, 64, 256]:
    steps = "10000" if gpu else str(max(8, 1500 // pop))
    rows.append(
      (
        f"sweep runner, mlp, population {pop}, {steps} steps",
        ["bench.sweep_runner", f"--population={pop}", f"--steps={steps}"]
        + (["--repeats=1"] if gpu else []),
      )
    )
  conv_scan = "200" if gpu else "10"
  rows += [
    (
      f"PyTorch DCGAN, {m}",
      [
        "bench.torch_gan",
        "--model=dcgan",
        f"--mode={m}",
        "--steps=20" if not gpu else "--steps=50",
      ],
    )
    for m in torch_modes
  ]
  for arch, norm in (("dcgan", "batch"), ("infogan", None)):
    extra = [f"--d_norm={norm}"] if norm else []
    rows += [
      (
        f"jaxgan {arch}, jitted step per dispatch",
        ["bench.jax_gan", f"--arch={arch}", "--loop=jit", "--steps=20"] + extra,
      ),
      (
        f"jaxgan {arch}, lax.scan of {conv_scan}",
        ["bench.jax_gan", f"--arch={arch}", "--loop=scan", f"--steps={conv_scan}"] + extra,
      ),
    ]
    if not gpu:  # what the driver runs on the CPU (jaxgan.backend.platform.scan_unroll)
      rows.append(
        (
          f"jaxgan {arch}, 2 steps per dispatch, unrolled",
          ["bench.jax_gan", f"--arch={arch}", "--loop=scan", "--steps=2", "--unroll=2", *extra],
        )
      )
  conv_loop = ["--loop=scan", f"--steps={conv_scan}"] if gpu else ["--loop=jit", "--steps=20"]
  rows.append(
    (
      f"jaxgan dcgan, {'lax.scan of ' + conv_scan if gpu else 'jitted step per dispatch'}"
      ", bfloat16",
      ["bench.jax_gan", "--arch=dcgan", "--d_norm=batch", *conv_loop, "--compute_dtype=bfloat16"],
    )
  )
  if gpu:  # the whole run with the loop's kernels replayed as CUDA graphs (below)
    rows.append(
      ("whole run vs bare step, loops as CUDA graphs, mlp, batch 64",
       ["bench.whole_run", "--steps=50000", GRAPHS])
    )  # fmt: skip
  if gpu:  # what a loop body costs per step: its kernels (counted), unrolled, in CUDA graphs
    for arch, steps, unroll in (("mlp", scan, 10), ("dcgan", "200", 5)):
      base = ["bench.jax_gan", f"--arch={arch}", "--loop=scan", f"--steps={steps}"]
      base += ["--d_norm=batch"] if arch == "dcgan" else []
      rows += [
        (f"jaxgan {arch}, lax.scan of {steps}, unroll {unroll}", [*base, f"--unroll={unroll}"]),
        (f"jaxgan {arch}, lax.scan of {steps}, loops as CUDA graphs", [*base, GRAPHS]),
      ]
  # The "100 epochs of the classic MNIST GAN" (93,800 steps) as a user runs it; on the
  # CPU (≈ 45 steps/s) 2,000 steps stand for it.
  e2e_steps = "93800" if gpu else "2000"
  rows.append(
    (
      f"experiments.mnist mlp, {int(e2e_steps):,} steps, end to end",
      ["bench.end_to_end", "--arch=mlp", f"--steps={e2e_steps}"],
    )
  )
  if gpu:  # where kernel launches may bound the step, count them
    rows = [(l, c + ["--count_kernels"] if c[0] == "bench.jax_gan" else c) for l, c in rows]
  return rows


SMOKE_ARGS = {"--steps": "2", "--population": "2", "--repeats": "1"}


def smoke(module_args: list[str]) -> list[str]:
  """A configuration at a few steps: every worker's step count, population and repeats cut
  (a whole run: 300 steps, enough for two records; one end-to-end run, not two)."""
  small = dict(SMOKE_ARGS)
  if module_args[0] in ("bench.whole_run", "bench.end_to_end"):
    small["--steps"] = "300"
  out = []
  for arg in module_args:
    name, _, value = arg.partition("=")
    out.append(f"{name}={small[name]}" if name in small and value else arg)
  if module_args[0] == "bench.end_to_end":
    out.append("--no-warm")
  return out


def run_one(module_args: list[str], timeout: int) -> dict:
  path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
  env = dict(
    os.environ, PYTHONPATH=path, TORCHINDUCTOR_CACHE_DIR=tempfile.mkdtemp(prefix="inductor-")
  )  # cold compiles
  try:
    out = subprocess.run(
      [sys.executable, "-m", *module_args],
      cwd=ROOT,
      env=env,
      capture_output=True,
      text=True,
      timeout=timeout,
    )
  except subprocess.TimeoutExpired:
    return {"error": f"timed out after {timeout} s"}
  lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
  if out.returncode != 0 or not lines:
    tail = (out.stderr or out.stdout).strip().splitlines()[-3:]
    return {"error": f"exit {out.returncode}: " + " / ".join(tail)[-300:]}
  return json.loads(lines[-1])


def progress_line(record: dict) -> str:
  if "error" in record:
    return record["error"]
  if record.get("kind") == "end_to_end":
    return f"{record['process_s']:.1f} s whole process, {record['loop_s']:.1f} s training loop"
  if record.get("kind") == "whole_run":
    return (
      f"whole run {record['whole_steps_per_s']:,.1f} steps/s, bare step "
      f"{record['bare_steps_per_s']:,.1f}: {record['ratio']:.2f}×"
    )
  return f"{record['steps_per_s']:,.1f} steps/s, first call {record['first_call_s']:.1f} s"


def model_of(record: dict, label: str) -> str:
  if "PyTorch" in label:
    return record.get("model", "")
  return record.get("arch", "")


def table(results: list[tuple[str, dict]]) -> str:
  """The speed table, then the end-to-end runs' own (their columns differ)."""
  e2e = [(l, r) for l, r in results if r.get("kind") == "end_to_end"]
  sweeps = [(l, r) for l, r in results if r.get("kind") == "sweep_runner"]
  whole = [(l, r) for l, r in results if r.get("kind") == "whole_run"]
  text = speed_table([(l, r) for l, r in results if (l, r) not in e2e + sweeps + whole])
  if whole:
    text += "\n\n" + whole_table(whole)
  if sweeps:
    text += "\n\n" + sweep_table(sweeps, results)
  if e2e:
    lines = [
      "| end-to-end run | whole process, s | training loop, s | first dispatch, s | "
      "whole process, s, compilation cache warm | first dispatch, s, cache warm | "
      "steps/s, whole process |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, r in e2e:
      warm = [f"{r[k]:.1f}" if k in r else "—" for k in ("warm_process_s", "warm_first_interval_s")]
      lines.append(
        f"| {label} | {r['process_s']:.1f} | {r['loop_s']:.1f} | "
        f"{r['first_interval_s']:.1f} | {warm[0]} | {warm[1]} | "
        f"{r['steps_per_s']:,.1f} |"
      )
    text += "\n\n" + "\n".join(lines)
  return text


def whole_table(rows: list[tuple[str, dict]]) -> str:
  """``experiments.mnist`` with its default outputs against its bare compiled step."""
  lines = [
    "| whole run vs bare step | whole run, steps/s | bare step, steps/s | ratio | "
    "steps per dispatch | first dispatch done, s | loop, s | of it waiting for the device, s |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ]
  for label, r in rows:
    if "error" in r:
      lines.append(f"| {label} | failed: {r['error']} | | | | | | |")
      continue
    for name, w in [(label, r)] + [
      (f"{label}, with {' '.join(v['run_flags'])}", v) for v in r.get("variants", [])
    ]:
      lines.append(
        f"| {name} | {w['whole_steps_per_s']:,.1f} | {r['bare_steps_per_s']:,.1f} | "
        f"{w['ratio']:.2f}× | {r['steps_per_call']} | {w['first_dispatch_s']:.1f} | "
        f"{w['loop_with_outputs_s']:.1f} | {w['waited_for_device_s']:.1f} |"
      )
  return "\n".join(lines)


def sweep_table(sweeps: list[tuple[str, dict]], results: list[tuple[str, dict]]) -> str:
  """The sweep runner's GAN-steps/s per population size, against one GAN through the runner
  and against one jaxgan run (the scanned MLP row)."""
  alone = next((r for l, r in sweeps if r.get("population") == 1 and "error" not in r), None)
  single = next(
    (r for l, r in results if l.startswith("jaxgan mlp, lax.scan of") and "steps_per_s" in r
     and r.get("compute_dtype", "float32") == "float32" and r.get("population", 1) == 1),
    None,
  )  # fmt: skip
  bare = {  # the bare vmapped population of each size (float32)
    r["population"]: r
    for l, r in results
    if r.get("kind") is None and r.get("population", 1) > 1 and "steps_per_s" in r
    and r.get("compute_dtype") == "float32"
  }  # fmt: skip
  lines = [
    "| sweep runner | GAN-steps/s (median) | vs 1 member | vs one jaxgan run | "
    "vs bare population | first chunk, s | peak memory, MiB |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ]
  for label, r in sweeps:
    if "error" in r:
      lines.append(f"| {label} | failed: {r['error']} | | | | | |")
      continue
    ratio = lambda base, r=r: f"{r['steps_per_s'] / base['steps_per_s']:.2f}×" if base else "—"
    lines.append(
      f"| {label} | {r['steps_per_s']:,.1f} | {ratio(alone)} | {ratio(single)} | "
      f"{ratio(bare.get(r.get('population')))} | {r['first_call_s']:.1f} | "
      f"{r['peak_mb']:,.0f} ({r['peak_kind']}) |"
    )
  return "\n".join(lines)


def speed_table(results: list[tuple[str, dict]]) -> str:
  eager = {
    model_of(r, l): r["steps_per_s"]
    for l, r in results
    if "PyTorch" in l and r.get("mode") == "eager" and "steps_per_s" in r
  }
  lines = [
    "| configuration | steps/s (median) | first call, s | peak memory, MiB | vs PyTorch eager |",
    "| --- | ---: | ---: | ---: | ---: |",
  ]
  for label, r in results:
    if "error" in r:
      lines.append(f"| {label} | failed: {r['error']} | | | |")
      continue
    base = eager.get(model_of(r, label))
    ratio = f"{r['steps_per_s'] / base:.2f}×" if base else "—"
    unit = " GAN-steps" if r.get("population", 1) > 1 else ""
    lines.append(
      f"| {label} | {r['steps_per_s']:,.1f}{unit} | {r['first_call_s']:.1f} | "
      f"{r['peak_mb']:,.0f} ({r['peak_kind']}) | {ratio} |"
    )
  return "\n".join(lines)


def backend() -> str:
  """JAX's default backend, found without taking the accelerator's memory from the workers:
  this process would otherwise preallocate most of a GPU before they start."""
  key = "XLA_PYTHON_CLIENT_PREALLOCATE"
  before = os.environ.get(key)
  os.environ[key] = "false"
  try:
    import jax

    return jax.default_backend()
  finally:
    if before is None:
      del os.environ[key]
    else:
      os.environ[key] = before


def machine() -> str:
  try:
    import jax

    dev = jax.devices()[0]
    kind = f"{dev.platform}: {dev.device_kind}"
  except Exception as e:  # noqa: BLE001 (reported, not hidden)
    kind = f"jax unavailable ({e})"
  cpus = os.cpu_count()
  return (
    f"{platform.node() or 'host'}, {cpus} CPU cores, Python {platform.python_version()}, {kind}"
  )


def select(rows: list[tuple[str, list[str]]], patterns: list[str]) -> list:
  """The rows whose label contains any of ``patterns``, pattern by pattern in the order given
  (each row once); all rows without patterns."""
  if not patterns:
    return rows
  chosen = []
  for pattern in patterns:
    chosen += [row for row in rows if pattern in row[0] and row not in chosen]
  return chosen


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--quick", action="store_true", help="skip the 256-member population")
  p.add_argument(
    "--only",
    action="append",
    default=[],
    help="run only configurations whose label contains this; repeated: any of them, in the "
    "order given",
  )
  p.add_argument("--timeout", type=int, default=900, help="seconds per configuration")
  p.add_argument(
    "--smoke",
    action="store_true",
    help="the accelerator's configurations at a few steps each, here: that they run, not how "
    "fast (writes no table unless --output is given)",
  )
  p.add_argument(
    "--output",
    default=None,
    help="file whose results section to rewrite (default BENCHMARKS.md; with "
    "--only, none unless given: a partial run never replaces a full table)",
  )
  p.add_argument(
    "--records", default=None, help="append each record to this JSON-lines file once measured"
  )
  p.add_argument(
    "--tabulate",
    default=None,
    metavar="RECORDS",
    help="run nothing: write the table and raw records of a --records file made elsewhere",
  )
  args = p.parse_args(argv)
  if args.tabulate:
    return tabulate(args.tabulate, args.output)
  gpu = backend() == "gpu" or args.smoke
  plat = "gpu" if backend() == "gpu" else backend()
  today = datetime.date.today().isoformat()
  if args.records:
    append_record(args.records, {"date": today, "machine": machine(), "platform": plat})
  results = []
  for label, cmd in select(configs(gpu, args.quick), args.only):
    print(f"… {label}", file=sys.stderr, flush=True)
    record = run_one(smoke(cmd) if args.smoke else cmd, args.timeout)
    results.append((label, record))
    if args.records:
      append_record(args.records, {"label": label, **record})
    print(f"  {progress_line(record)}", file=sys.stderr, flush=True)
  section = f"Measured {today} on {machine()} by `make bench`.\n\n" + table(results)
  partial = args.only or args.smoke
  if not partial:
    write_raw(plat, today, machine(), results)
  output = args.output or (None if partial else os.path.join(ROOT, "BENCHMARKS.md"))
  if output:
    write_section(output, plat, section)
  print(section)
  return 0


def append_record(path: str, record: dict) -> None:
  with open(path, "a") as f:
    f.write(json.dumps(record) + "\n")


def write_raw(plat: str, date: str, host: str, results: list[tuple[str, dict]]) -> None:
  os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
  with open(os.path.join(ROOT, "bench", "results", f"{plat}.json"), "w") as f:
    records = [{"label": l, **r} for l, r in results]
    json.dump({"date": date, "machine": host, "results": records}, f, indent=1)


def tabulate(path: str, output: str | None) -> int:
  """Writes the section and raw records of a ``--records`` file, naming the configurations of
  that platform that it lacks (a run cut short by its machine's time limit)."""
  lines = [json.loads(line) for line in open(path) if line.strip()]
  head, records = lines[0], lines[1:]
  results = [(r.pop("label"), r) for r in records]
  gpu = head["platform"] == "gpu"
  missing = [l for l, _ in configs(gpu, quick=False) if l not in dict(results)]
  section = f"Measured {head['date']} on {head['machine']} by `make bench`.\n\n" + table(results)
  if missing:
    section += "\n\nNot run there (its time ran out first): " + "; ".join(missing) + "."
  write_raw(head["platform"], head["date"], head["machine"], results)
  write_section(output or os.path.join(ROOT, "BENCHMARKS.md"), head["platform"], section)
  print(section)
  return 0


def write_section(path: str, name: str, section: str, heading: str = "") -> None:
  """Replaces the text between ``<!-- results:NAME -->`` markers in ``path`` (a bare platform
  name) or ``<!-- NAME -->`` (a name with a colon), or appends it under ``## heading``."""
  tag = name if ":" in name else f"results:{name}"
  start, end = f"<!-- {tag} -->", f"<!-- /{tag} -->"
  text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
  block = f"{start}\n{section}\n{end}"
  if start in text and end in text:
    text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
  else:
    text = text.rstrip() + f"\n\n## {heading or 'Results: ' + name}\n\n{block}\n"
  with open(path, "w") as f:
    f.write(text)


if __name__ == "__main__":
  sys.exit(main())
