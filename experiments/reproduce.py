r"""Reproduce a paper's figure or table with one command, beside the paper's numbers.

  python -m experiments.reproduce --list
  python -m experiments.reproduce mescheder2018 [--budget=cpu|paper] [--outdir=results]
  python -m experiments.reproduce --all  # every one built, in turn

Writes ``<outdir>/<name>/``: the figure(s), ``table.md`` (the paper's result beside ours) and
``setup.md`` (every way our run differs from the paper's). ``--budget=cpu`` is what runs on a
2-core CPU in minutes, ``paper`` the paper's own scale (for an accelerator). Exit codes: 0
done; 2 an unknown or not yet built reproduction, bad flags.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

# Every reproduction the issue asks for: its module in experiments.reproductions (None while
# not built), and the paper and what it reproduces for those not built yet.
REPRODUCTIONS = {
  "mescheder2018": "experiments.reproductions.mescheder2018",
  "gulrajani2017": "experiments.reproductions.gulrajani2017",
  "pacgan2018": None,
  "veegan2017": None,
  "lucic2018": None,
  "goodfellow2014": None,
}
PLANNED = {
  "pacgan2018": ("Lin et al. 2018 (arXiv:1712.04086)", "Table 1, 2-D ring and grid"),
  "veegan2017": ("Srivastava et al. 2017 (arXiv:1705.07761)", "Table 1, 2-D rows"),
  "lucic2018": ("Lucic et al. 2018 (arXiv:1711.10337)", "Figure 4 and best-per-loss"),
  "goodfellow2014": ("Goodfellow et al. 2014 (arXiv:1406.2661)", "Table 1, Parzen"),
}


def describe(name: str) -> tuple[str, str]:
  """(paper, what it reproduces) of reproduction ``name``."""
  if REPRODUCTIONS[name] is None:
    return PLANNED[name]
  module = importlib.import_module(REPRODUCTIONS[name])
  return module.PAPER, module.WHAT


def main(argv: list[str] | None = None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("name", nargs="?")
  p.add_argument("--list", action="store_true", help="name the reproductions and exit")
  p.add_argument("--all", action="store_true", help="run every reproduction built so far")
  p.add_argument("--budget", choices=["cpu", "paper"], default="cpu")
  p.add_argument("--outdir", default="results")
  args = p.parse_args(argv)
  if args.all:
    return max(run(name, args) for name, module in REPRODUCTIONS.items() if module)
  if args.list or not args.name:
    for name, module in REPRODUCTIONS.items():
      paper, what = describe(name)
      print(f"{name:16s} {'built' if module else 'not yet built':14s} {what}; {paper}")
    return 0 if args.list else 2
  return run(args.name, args)


def run(name: str, args) -> int:
  """Runs reproduction ``name`` into ``<outdir>/<name>/``; 2 when unknown or not built."""
  if name not in REPRODUCTIONS:
    print(f"error: no reproduction {name!r}; --list names them", file=sys.stderr)
    return 2
  if REPRODUCTIONS[name] is None:
    print(f"error: {name} is not built yet (--list)", file=sys.stderr)
    return 2
  outdir = os.path.join(args.outdir, name)
  os.makedirs(outdir, exist_ok=True)
  t0 = time.perf_counter()
  print(importlib.import_module(REPRODUCTIONS[name]).run(args.budget, outdir))
  print(f"wrote {outdir}/ in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
  return 0


if __name__ == "__main__":
  sys.exit(main())
