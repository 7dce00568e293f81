"""jaxgan's Inception-v3 port against torch-fidelity's, with the same random weights.

  python -m bench.inception_reference [--num=200] [--output=BENCHMARKS.md]

The standard weight file cannot be downloaded here, so both networks get one random state
dict (He-normal convolutions, so that activations neither vanish nor explode through the 94
layers, and batch-norm statistics and affine parameters drawn too, so that folding them into
the convolutions is exercised), saved with ``torch.save`` and read by each
side its own way: torch-fidelity's ``FeatureExtractorInceptionV3`` with ``torch.load``,
jaxgan's :mod:`jaxgan.eval.inception` with its PyTorch-free reader. Two image sets of ``--num``
each go through both: Fashion-MNIST test images (28×28 grey, repeated to 3 channels) and
uniform noise (32×32×3). Reported: the largest absolute difference of the pool3 features and
of the unbiased logits, relative to the largest feature; FID between the two sets and the
Inception Score of each (10 splits), each from its own side's features and its own formula
(torch-fidelity's ``fid_statistics_to_metric`` and ``isc_features_to_metric``); feature
extraction speed on this CPU. Exits 1 when the features differ by more than 1e-4 of their
scale. Needs the bench extra (torch, torch-fidelity).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time

import numpy as np

from bench.metrics_reference import import_torch_fidelity

TOLERANCE = 1e-4  # of the largest feature


def random_state_dict(path: str) -> None:
  import torch

  (fe,) = import_torch_fidelity("feature_extractor_inceptionv3")

  class RandomInception(fe.FeatureExtractorInceptionV3):
    def load_state_dict(self, state, strict=True):  # keep torch's random initialization
      return None if state is None else super().load_state_dict(state, strict)

  fe.load_state_dict_from_url = lambda *args, **kwargs: None
  torch.manual_seed(0)
  net = RandomInception("inception-v3-compat", ["2048"])
  for name, value in net.state_dict().items():
    if name.endswith("conv.weight"):  # He's initialization: activations keep their scale
      torch.nn.init.kaiming_normal_(value, nonlinearity="relu")
    elif name == "fc.weight":
      value.normal_(0.0, 2048**-0.5)
    elif name.endswith("running_var") or name.endswith("bn.weight"):
      value.uniform_(0.5, 1.5)
    elif name.endswith("running_mean") or name.endswith("bn.bias"):
      value.normal_(0.0, 0.1)
  torch.save(net.state_dict(), path)


def torch_outputs(path: str, images: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
  import torch

  (fe,) = import_torch_fidelity("feature_extractor_inceptionv3")
  net = fe.FeatureExtractorInceptionV3(
    "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=path
  )
  x = torch.from_numpy(np.repeat(images, 3 // images.shape[-1], -1)).permute(0, 3, 1, 2)
  feats, logits = [], []
  start = time.perf_counter()
  with torch.no_grad():
    for i in range(0, len(x), 50):
      f, l = net(x[i : i + 50].contiguous())
      feats.append(f.numpy())
      logits.append(l.numpy())
  return np.concatenate(feats), np.concatenate(logits), time.perf_counter() - start


def jax_outputs(path: str, images: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
  from jaxgan.eval import inception, torch_weights

  params = inception.params_from_state_dict(torch_weights.load_state_dict(path))
  inception.outputs(params, images[:50])  # compiled before the clock starts
  start = time.perf_counter()
  feats, logits = inception.outputs(params, images)
  return feats, logits, time.perf_counter() - start


def image_sets(num: int) -> dict[str, np.ndarray]:
  from jaxgan.data import datasets as data_lib

  grey = data_lib.load_images("fashion_mnist", "test")[:num]
  noise = np.random.default_rng(0).integers(0, 256, (num, 32, 32, 3), dtype=np.uint8)
  return {"Fashion-MNIST test (28×28×1)": grey, "uniform noise (32×32×3)": noise}


def scores(feats: dict, logits: dict) -> dict:
  import torch

  metric_fid, metric_isc = import_torch_fidelity("metric_fid", "metric_isc")
  a, b = (torch.from_numpy(f.astype(np.float64)) for f in feats.values())
  stats = [metric_fid.fid_features_to_statistics(x) for x in (a, b)]
  out = {"FID": metric_fid.fid_statistics_to_metric(*stats, False)[metric_fid.KEY_METRIC_FID]}
  for name, l in logits.items():
    isc = metric_isc.isc_features_to_metric(torch.from_numpy(l), splits=10, shuffle=False)
    out[f"IS {name}"] = isc[metric_isc.KEY_METRIC_ISC_MEAN]
  return out


def jaxgan_scores(feats: dict, logits: dict) -> dict:
  from jaxgan.eval import feature_metrics as fm

  a, b = feats.values()
  out = {"FID": fm.frechet_distance(*fm.gaussian_stats(a), *fm.gaussian_stats(b))}
  for name, l in logits.items():
    l = l.astype(np.float64) - l.max(axis=1, keepdims=True)
    out[f"IS {name}"] = fm.classifier_score(np.exp(l) / np.exp(l).sum(1, keepdims=True), 10)[0]
  return out


def compare(num: int) -> tuple[str, bool]:
  sets = image_sets(num)
  with tempfile.TemporaryDirectory() as tmp:
    path = f"{tmp}/random-inception.pth"
    random_state_dict(path)
    ours = {k: jax_outputs(path, v) for k, v in sets.items()}
    theirs = {k: torch_outputs(path, v) for k, v in sets.items()}
  lines = ["| images | output | largest abs. difference | relative to the largest feature |"]
  lines.append("| --- | --- | ---: | ---: |")
  ok = True
  for name in sets:
    scale = np.abs(theirs[name][0]).max()
    for i, output in enumerate(("pool3 features (2048)", "logits without bias (1008)")):
      diff = np.abs(ours[name][i] - theirs[name][i]).max()
      ok &= diff / scale <= TOLERANCE
      lines.append(f"| {name} | {output} | {diff:.2e} | {diff / scale:.1e} |")
  s_ours = jaxgan_scores({k: v[0] for k, v in ours.items()}, {k: v[1] for k, v in ours.items()})
  s_theirs = scores({k: v[0] for k, v in theirs.items()}, {k: v[1] for k, v in theirs.items()})
  lines += [
    "",
    "| score | jaxgan | torch-fidelity | relative difference |",
    "| --- | ---: | ---: | ---: |",
  ]
  for k, v in s_ours.items():
    r = float(s_theirs[k])
    lines.append(f"| {k} | {v:.6g} | {r:.6g} | {abs(v - r) / abs(r):.1e} |")
  n = sum(len(v) for v in sets.values())
  jt, tt = sum(v[2] for v in ours.values()), sum(v[2] for v in theirs.values())
  lines += ["", f"Feature extraction, {n} images, batches of 50: jaxgan {n / jt:.1f} images/s, "
            f"torch-fidelity (PyTorch eager) {n / tt:.1f} images/s."]  # fmt: skip
  return "\n".join(lines), ok


def main() -> int:
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--num", type=int, default=200, help="images per set")
  p.add_argument("--output", default=None, help="a file whose inception-reference block to rewrite")
  args = p.parse_args()
  table, ok = compare(args.num)
  print(table)
  if args.output:
    from bench.run import machine, write_section

    header = (
      f"Measured {datetime.date.today().isoformat()} on {machine()} by "
      f"`python -m bench.inception_reference --num={args.num}`."
    )
    write_section(
      args.output,
      "inception-reference:cpu",
      f"{header}\n\n{table}",
      "Inception-v3 against torch-fidelity",
    )
  if not ok:
    print(f"error: the features differ by more than {TOLERANCE} of their scale", file=sys.stderr)
  return 0 if ok else 1


if __name__ == "__main__":
  sys.exit(main())
