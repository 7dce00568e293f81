"""jaxgan's metrics against reference implementations, on the same feature arrays.

  python -m bench.metrics_reference [--dataset=fashion_mnist] [--output=BENCHMARKS.md]

Features: the dataset classifier of ``jaxgan.eval.quality`` (128-d), real = the test split; three
"generated" sets: 10,000 real train images (near perfect), train images with Gaussian pixel
noise (σ = 0.5 in [-1, 1]: degraded), and one class's train images (collapsed). For each, the
Fréchet distance, KID, precision/recall and density/coverage from jaxgan and from
``torch-fidelity`` (FD, KID, precision/recall) and ``prdc`` (Naeem et al.'s official code:
precision/recall/density/coverage), with the largest relative difference. Real is passed as
torch-fidelity's ``input2`` (its reference; ``input1`` is the generated set) and as prdc's
``real_features``: with the arguments swapped precision and recall trade places
(torch-fidelity issue #58), which the collapsed set makes plain. Needs the bench extra
(``make bench`` installs it); exits 1 when an agreement is outside its tolerance.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

# Relative differences allowed. FD: torch-fidelity takes Tr√(Σ₁Σ₂) from a non-symmetric
# eigendecomposition, jaxgan from a symmetric one (2e-6 apart at an FD of 0.43). Precision
# and recall: torch-fidelity returns float32 shares; and it counts a point on a ball's
# boundary as inside, prdc and jaxgan do not (ties need duplicate points).
# FD also passes within 1e-5 absolute: that square root's error is absolute (≈ 4e-6 against
# traces of ≈ 100), so a relative bound alone fails near FD = 0 (1.3e-5 at an FD of 0.30).
ABSOLUTE = {"fd": 1e-5}
TOLERANCE = {
  "fd": 1e-5,
  "kid": 1e-6,
  "precision": 1e-6,
  "recall": 1e-6,
  "density": 1e-9,
  "coverage": 1e-9,
}


def feature_sets(dataset: str, data_dir=None):
  from jaxgan.data import datasets as data_lib
  from jaxgan.eval import quality

  scorer = quality.FrechetClassifierDistance.for_dataset(dataset, data_dir)
  images, labels = data_lib.load_labeled(dataset, "train", data_dir)
  rng = np.random.default_rng(0)
  noisy = np.clip(images[:10000] / 127.5 - 1.0 + 0.5 * rng.normal(size=images[:10000].shape), -1, 1)
  fakes = {
    "real train images (10,000)": images[:10000],
    "train images + noise σ 0.5 (10,000)": noisy.astype(np.float32),
    "class 0 train images (collapsed)": images[labels == 0],
  }
  return scorer.reference_features, {k: scorer.features(v) for k, v in fakes.items()}


def jaxgan_metrics(real, fake) -> dict:
  from jaxgan.eval import feature_metrics as fm

  kid, _ = fm.kid(real, fake, subsets=100, subset_size=1000, seed=2020)
  p, r = fm.precision_recall(real, fake, k=3)
  d, c = fm.density_coverage(real, fake, k=5)
  fd = fm.frechet_distance(*fm.gaussian_stats(real), *fm.gaussian_stats(fake))
  return {"fd": fd, "kid": kid, "precision": p, "recall": r, "density": d, "coverage": c}


def import_torch_fidelity(*names: str) -> list:
  """torch-fidelity's modules ``names`` (default its FID, KID and PRC metrics). It imports torchvision at package import for its image
  feature extractors, which this check does not use. Offline here only torch's CPU build
  installs, and torchvision's wheel from PyPI is linked against the CUDA build (it fails to
  load: "operator torchvision::nms does not exist"); where it does not load, a placeholder
  module stands in for it, and only torch-fidelity's feature-level functions (NumPy and torch)
  run. Where torchvision loads (a GPU machine), the real one is used."""
  import importlib
  import types

  try:
    import torchvision  # noqa: F401
  except (ImportError, RuntimeError, OSError) as e:
    print(
      f"note: torchvision unusable ({type(e).__name__}: {e}); a placeholder stands in",
      file=sys.stderr,
    )
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
      del sys.modules[name]
    for name in ("torchvision", "torchvision.datasets", "torchvision.transforms",
                 "torchvision.transforms.functional", "torchvision.models"):  # fmt: skip
      stub = types.ModuleType(name)
      stub.__getattr__ = lambda attr: type(attr, (), {})  # any name: an unused class
      sys.modules[name] = stub
      parent, _, child = name.rpartition(".")
      if parent:
        setattr(sys.modules[parent], child, stub)
  names = names or ("metric_fid", "metric_kid", "metric_prc")
  return [importlib.import_module(f"torch_fidelity.{m}") for m in names]


def torch_fidelity_metrics(real, fake) -> dict:
  """torch-fidelity's functions on features; its input1 is the generated set, input2 the
  reference."""
  import torch

  metric_fid, metric_kid, metric_prc = import_torch_fidelity()

  gen, ref = torch.from_numpy(fake), torch.from_numpy(real)
  fd = metric_fid.fid_statistics_to_metric(
    metric_fid.fid_features_to_statistics(gen), metric_fid.fid_features_to_statistics(ref), False
  )[metric_fid.KEY_METRIC_FID]
  # KID is symmetric; (real, fake) here makes its subsets those jaxgan draws (real first).
  kid = metric_kid.kid_features_to_metric(
    ref, gen, kid_subsets=100, kid_subset_size=1000, kid_kernel="poly",
    kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1,
    rng_seed=2020, verbose=False,
  )[metric_kid.KEY_METRIC_KID_MEAN]  # fmt: skip
  prc = metric_prc.prc_features_to_metric(
    gen, ref, prc_neighborhood=3, prc_batch_size=10000, save_cpu_ram=False, verbose=False
  )  # their convention: features_1 generated, features_2 real
  return {"fd": fd, "kid": kid, "precision": prc["precision"], "recall": prc["recall"]}


def prdc_metrics(real, fake) -> dict:
  from prdc import compute_prdc

  pr = compute_prdc(real_features=real, fake_features=fake, nearest_k=3)
  dc = compute_prdc(real_features=real, fake_features=fake, nearest_k=5)
  return {
    "precision": pr["precision"],
    "recall": pr["recall"],
    **{k: dc[k] for k in ("density", "coverage")},
  }


def compare(dataset: str) -> tuple[str, bool]:
  real, fakes = feature_sets(dataset)
  lines = [
    "| generated set | metric | jaxgan | torch-fidelity | prdc | largest relative difference |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
  ]
  ok = True
  for name, fake in fakes.items():
    ours, tf, pr = (
      jaxgan_metrics(real, fake),
      torch_fidelity_metrics(real, fake),
      prdc_metrics(real, fake),
    )
    for k, v in ours.items():
      refs = [float(x[k]) for x in (tf, pr) if k in x]
      diff = max(abs(v - r) / max(abs(r), 1e-12) for r in refs)
      absolute = max(abs(v - r) for r in refs)
      ok &= diff <= TOLERANCE[k] + 1e-12 or absolute <= ABSOLUTE.get(k, 0.0)
      cell = lambda x, k=k: f"{float(x[k]):.6g}" if k in x else "—"
      lines.append(f"| {name} | {k} | {v:.6g} | {cell(tf)} | {cell(pr)} | {diff:.1e} |")
  return "\n".join(lines), ok


def main() -> int:
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--dataset", default="fashion_mnist")
  p.add_argument(
    "--output", default=None, help="a file whose <!-- metrics-reference --> block to rewrite"
  )
  args = p.parse_args()
  table, ok = compare(args.dataset)
  print(table)
  if args.output:
    import datetime

    from bench.run import machine, write_section

    header = f"Measured {datetime.date.today().isoformat()} on {machine()} by `python -m bench.metrics_reference`."
    write_section(
      args.output,
      "metrics-reference:cpu",
      f"{header}\n\n{table}",
      "Metrics against reference implementations",
    )
  if not ok:
    print("error: an agreement is outside its tolerance (TOLERANCE)", file=sys.stderr)
  return 0 if ok else 1


if __name__ == "__main__":
  sys.exit(main())
