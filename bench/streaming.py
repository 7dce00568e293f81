"""Peak memory of a run whose dataset is larger than it should hold: device-fed against host-fed.

  python -m bench.streaming [--gigabytes=3] [--size=64] [--steps=300] [--dir=/tmp/jaxgan-streaming]
                            [--limit_mib=2560] [--repo=PATH]

Makes a folder of ``--size``² RGB PNGs (random 8×8 blocks, so they encode fast) whose decoded
pixels take ``--gigabytes``, prepares it as jaxgan does every folder (TFDS, then the decoded
cache) in one process, then trains ``experiments.mnist --dataset=folder:DIR --arch=mlp`` for
``--steps`` with ``--data_placement=device`` and ``=host``. With ``--limit_mib=N`` each
training process runs in a new memory cgroup of N MiB (the page cache dropped first, so the
dataset's pages it reads count against it), to show whether it trains in less memory than
its dataset takes; ``--repo=PATH`` trains with another checkout's code (an older commit).
Each process's memory is read from ``/proc/PID/status`` every 0.1 s: its peak private memory (RssAnon: what the process itself
holds) and its peak file-backed resident pages (RssFile: the mapped cache's pages, which the
kernel's page cache owns and may drop), and VmHWM (the two together, at their peak). Prints
one JSON line per process and a Markdown table. The folder and the prepared data are kept in
``--dir`` for the next run (several GB: delete it after).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import PIL.Image

from bench.run import ROOT

FIELDS = ("RssAnon", "RssFile", "VmHWM")


def make_folder(folder: Path, count: int, size: int) -> None:
  """``count`` PNGs of random 8×8 blocks at size×size×3, unless a finished folder is there."""
  done = folder / ".complete"
  if done.exists() and done.read_text() == f"{count} {size}":
    return
  folder.mkdir(parents=True, exist_ok=True)
  rng = np.random.default_rng(0)
  for i in range(count):
    blocks = rng.integers(0, 256, (size // 8, size // 8, 3), np.uint8)
    image = np.repeat(np.repeat(blocks, 8, axis=0), 8, axis=1)
    PIL.Image.fromarray(image).save(folder / f"{i:07d}.png", compress_level=1)
  done.write_text(f"{count} {size}")


def memory_cgroup(limit_mib: int) -> Path:
  """A new memory cgroup (v2, else v1) capped at ``limit_mib``; exits where none can be made."""
  name = f"jaxgan-bench-{os.getpid()}"
  for base, limit_file in (("/sys/fs/cgroup", "memory.max"), ("/sys/fs/cgroup/memory", None)):
    group = Path(base) / name
    try:
      group.mkdir()
    except OSError:
      continue
    limit_file = limit_file or "memory.limit_in_bytes"
    if (group / limit_file).exists():
      (group / limit_file).write_text(str(limit_mib * 2**20))
      return group
    group.rmdir()
  sys.exit("--limit_mib: no memory cgroup can be made here (needs a writable /sys/fs/cgroup)")


def drop_page_cache() -> None:
  os.sync()
  try:
    Path("/proc/sys/vm/drop_caches").write_text("1")
  except OSError as e:
    sys.exit(f"--limit_mib: cannot drop the page cache ({e}); its cached pages would be free")


def watch(cmd: list[str], env: dict, cwd: Path, group: Path | None = None) -> dict:
  """Runs ``cmd`` (inside ``group`` when given) and returns its peak memory in MiB, its
  seconds and its exit code."""
  start = time.perf_counter()
  enter = (lambda: (group / "cgroup.procs").write_text(str(os.getpid()))) if group else None
  proc = subprocess.Popen(
    cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=enter
  )
  peak = dict.fromkeys(FIELDS, 0)
  while proc.poll() is None:
    try:
      with open(f"/proc/{proc.pid}/status") as f:
        for line in f:
          key, _, value = line.partition(":")
          if key in peak:
            peak[key] = max(peak[key], int(value.split()[0]) // 1024)
    except (OSError, ValueError):
      pass
    time.sleep(0.1)
  out = proc.stdout.read().decode(errors="replace")
  if proc.returncode and proc.returncode != -9:
    sys.exit(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{out[-3000:]}")
  peaks = {f"peak_{k}_mib": v for k, v in peak.items()}
  return {**peaks, "seconds": time.perf_counter() - start, "exit": proc.returncode}


def main() -> None:
  p = argparse.ArgumentParser()
  p.add_argument("--gigabytes", type=float, default=3.0)
  p.add_argument("--size", type=int, default=64)
  p.add_argument("--steps", type=int, default=300)
  p.add_argument("--dir", default="/tmp/jaxgan-streaming")
  p.add_argument("--limit_mib", type=int, default=0, help="train in a memory cgroup this big")
  p.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose code trains")
  args = p.parse_args()
  root = Path(args.dir)
  count = int(args.gigabytes * 2**30 / (args.size * args.size * 3))
  folder = root / "images"
  t0 = time.perf_counter()
  make_folder(folder, count, args.size)
  made = time.perf_counter() - t0
  env = {**os.environ, "TFDS_DATA_DIR": str(root / "tfds"), "JAXGAN_CACHE": str(root / "cache")}
  dataset = f"folder:{folder}"
  load = f"from jaxgan.data import datasets; datasets.load_images({dataset!r})"
  rows = [("prepare and decode (first load)", watch([sys.executable, "-c", load], env, args.repo))]
  group = memory_cgroup(args.limit_mib) if args.limit_mib else None
  try:
    for placement in ("device", "host"):
      workdir = root / "runs" / placement
      shutil.rmtree(workdir, ignore_errors=True)
      cmd = [sys.executable, "-m", "experiments.mnist", f"--dataset={dataset}", "--arch=mlp"]
      cmd += [f"--steps={args.steps}", f"--data_placement={placement}", f"--workdir={workdir}"]
      cmd += ["--sample_every=0", "--ckpt_every=0", "--progress=false"]
      what = f"train {args.steps} steps, --data_placement={placement}"
      if group:  # so that the pages it reads are charged to its cgroup, not found cached
        drop_page_cache()
      rows.append((what, watch(cmd, env, args.repo, group)))
  finally:
    if group:
      group.rmdir()
  report(rows, count, args, made)


def report(rows, count, args, made) -> None:
  decoded_gib = count * args.size * args.size * 3 / 2**30
  limit = f", trained within {args.limit_mib:,} MiB" if args.limit_mib else ""
  print(
    f"{count} images of {args.size}×{args.size}×3 ({decoded_gib:.2f} GiB decoded), "
    f"folder made in {made:.0f} s; code of {args.repo}{limit}"
  )
  print("| process | peak RssAnon (MiB) | peak RssFile (MiB) | VmHWM (MiB) | seconds | outcome |")
  print("| --- | ---: | ---: | ---: | ---: | --- |")
  for what, r in rows:
    print(json.dumps({"what": what, **r}), file=sys.stderr)
    outcome = "killed: over the memory limit" if r["exit"] == -9 else "completed"
    print(
      f"| {what} | {r['peak_RssAnon_mib']:,} | {r['peak_RssFile_mib']:,} | "
      f"{r['peak_VmHWM_mib']:,} | {r['seconds']:.0f} | {outcome} |"
    )


if __name__ == "__main__":
  main()
