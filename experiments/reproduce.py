r"""Reproduce a paper's figure or table with one command, beside the paper's numbers.

  python -m experiments.reproduce --list
  python -m experiments.reproduce mescheder2018 [--budget=cpu|paper] [--outdir=results]
  python -m experiments.reproduce --all  # every one built, in turn
  python -m experiments.reproduce goodfellow2014 --dataset=fashion_mnist

Writes ``<outdir>/<name>/``: the figure(s), ``table.md`` (the paper's result beside ours) and
``setup.md`` (every way our run differs from the paper's). ``--budget=cpu`` is what runs on a
2-core CPU in minutes, ``paper`` the paper's own scale (for an accelerator). ``--dataset``
replaces the paper's image dataset in those that take one (goodfellow2014, lucic2018,
miyato2018cgan), e.g.
where MNIST's train split is not available. Exit codes: 0 done; 1 a dataset not available;
2 an unknown or not yet built reproduction, bad flags.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

from jaxgan.config import DISTANCE_NAMES
from jaxgan.data.datasets import DatasetUnavailable
from jaxgan.eval.inception_scorer import WeightsUnavailable

# Every reproduction the issue asks for: its module in experiments.reproductions (None while
# not built), and the paper and what it reproduces for those not built yet.
REPRODUCTIONS = {
  "mescheder2018": "experiments.reproductions.mescheder2018",
  "gulrajani2017": "experiments.reproductions.gulrajani2017",
  "pacgan2018": "experiments.reproductions.pacgan2018",
  "veegan2017": "experiments.reproductions.veegan2017",
  "lucic2018": "experiments.reproductions.lucic2018",
  "goodfellow2014": "experiments.reproductions.goodfellow2014",
  "miyato2018cgan": "experiments.reproductions.miyato2018cgan",
}
PLANNED: dict[str, tuple[str, str]] = {}  # (paper, what) of those not built yet
TAKES_DATASET = ("goodfellow2014", "lucic2018", "miyato2018cgan")
TAKES_FEATURES = ("lucic2018",)  # the others score by Parzen windows or on 2-D toys


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
  p.add_argument("--dataset", help=f"image dataset for {', '.join(TAKES_DATASET)}")
  p.add_argument(
    "--features",
    choices=tuple(DISTANCE_NAMES),
    help=f"score in these features ({', '.join(TAKES_FEATURES)}; default classifier)",
  )
  p.add_argument("--inception_weights", help="the FID Inception weight file (--features=inception)")
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
  options = {}
  if args.dataset:
    if name not in TAKES_DATASET and not args.all:
      print(f"error: {name} has no --dataset (only {', '.join(TAKES_DATASET)})", file=sys.stderr)
      return 2
    options = {"dataset": args.dataset} if name in TAKES_DATASET else {}
  if args.features or args.inception_weights:
    if name not in TAKES_FEATURES and not args.all:
      print(f"error: {name} has no --features (only {', '.join(TAKES_FEATURES)})", file=sys.stderr)
      return 2
    if name in TAKES_FEATURES:
      options |= {"features": args.features or "classifier"}
      options |= {"inception_weights": args.inception_weights}

  outdir = os.path.join(args.outdir, name)
  os.makedirs(outdir, exist_ok=True)
  t0 = time.perf_counter()
  try:
    print(importlib.import_module(REPRODUCTIONS[name]).run(args.budget, outdir, **options))
  except DatasetUnavailable as e:
    other = name in TAKES_DATASET and options.get("dataset") != "fashion_mnist"
    hint = " (or --dataset=fashion_mnist: the same protocol, labelled so)" if other else ""
    print(f"error: {name}: {e}{hint}", file=sys.stderr)
    if not os.listdir(outdir):
      os.rmdir(outdir)
    return 1
  except WeightsUnavailable as e:
    print(f"error: {name}: {e}", file=sys.stderr)
    if not os.listdir(outdir):
      os.rmdir(outdir)
    return e.exit_code
  print(f"wrote {outdir}/ in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
  return 0


if __name__ == "__main__":
  sys.exit(main())
