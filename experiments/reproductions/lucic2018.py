"""lucic2018: Lucic et al. 2018, "Are GANs Created Equal? A Large-Scale Study"
(arXiv:1711.10337) on Fashion-MNIST: MM, NS, LSGAN, WGAN, WGAN-GP, DRAGAN and BEGAN over the
narrow search space, several seeds each, trained as populations by ``experiments.sweep``; the
distribution of each loss's scores and of the best score a search budget of k settings
attains (their Figure 4's question), and the best member per loss.

  python -m experiments.reproduce lucic2018 [--budget=cpu|paper] [--dataset=mnist]
                                             [--features=inception --inception_weights=PATH]

Scored by FCD in the dataset classifier's features, or with ``--features=inception`` by FID
as the paper (Inception-v3 runs about 6.5 images/s on the 2-core CPU: for an accelerator).
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys

import numpy as np

from experiments.reproductions import write_results
from jaxgan.config import distance_name
from jaxgan.data import datasets
from jaxgan.eval import inception_scorer
from jaxgan.sweeps import report
from jaxgan.sweeps.runner import read_results

PAPER = "Lucic et al. 2018, Are GANs Created Equal? A Large-Scale Study (arXiv:1711.10337)"
WHAT = "Figure 4 (best score per loss against the search budget) and the best member per loss"
# FCD of a dataset's train images of one class against its test split: the collapse floor
# measured by experiments.floors with classifier v2 (docs/evaluation.md, "Floors").
COLLAPSE_FCD = {"fashion_mnist": 362, "mnist": 1250}
LOSSES = ("mm", "ns", "lsgan", "wgan", "wgan_gp", "dragan", "began")
# cpu: the MLP (InfoGAN's networks run about 5 steps/s on the 2-core CPU), 4 settings × 2
# seeds per loss, 300 steps: a smoke-test scale. paper: InfoGAN's networks, 50 settings, 20
# epochs of batch 64 (18,750 steps), as their narrow-range study.
BUDGETS = {
  "cpu": dict(arch="mlp", samples=4, seeds=2, steps=300),
  "paper": dict(arch="infogan", samples=50, seeds=1, steps=18_750),
}


def expected_minimum(values, k: int) -> float:
  r"""E[min of k draws with replacement from ``values``]: with v₍₁₎ ≤ … ≤ v₍ₙ₎ sorted,
  P(min = v₍ᵢ₎) = ((n − i + 1)ᵏ − (n − i)ᵏ) / nᵏ, the exact value of the bootstrap Lucic et
  al. use to ask what score a search of k settings reaches."""
  v = np.sort(np.asarray(values, float))
  n = len(v)
  i = np.arange(1, n + 1)
  p = ((n - i + 1.0) ** k - (n - i.astype(float)) ** k) / float(n) ** k
  return float(np.sum(p * v))


def sweep(budget: dict, dataset: str, workdir: str, scoring: list[str] = ()) -> list[dict]:
  """Runs (or resumes) the sweep in ``workdir`` with ``experiments.sweep`` (``scoring``: its
  ``--features`` flags); its rows."""
  datasets.ensure_prepared(dataset, "train")  # DatasetUnavailable: experiments.reproduce says so
  args = [
    "--preset=lucic_narrow",
    f"--losses={','.join(LOSSES)}",
    f"--arch={budget['arch']}",
    f"--dataset={dataset}",
    f"--samples={budget['samples']}",
    f"--seeds={budget['seeds']}",
    f"--steps={budget['steps']}",
    f"--workdir={workdir}",
    "--progress=false",
    *scoring,
  ]
  proc = subprocess.run([sys.executable, "-m", "experiments.sweep", *args], text=True)
  if proc.returncode != 0:
    raise RuntimeError(f"experiments.sweep {' '.join(args)} exited {proc.returncode}")
  return [row for _, row in sorted(read_results(workdir).items())]


def scores(rows: list[dict]) -> dict[str, np.ndarray]:
  """Each loss's members' scores (best FCD or FID over the run), diverged or unscored ones
  left out."""
  out, best = {}, f"best_{report.score_name(rows)}"
  for loss in LOSSES:
    values = [r[best] for r in rows if r["config"]["loss"] == loss]
    out[loss] = np.array([v for v in values if v is not None], float)
  return out


def plot(by_loss: dict, path: str, label: str = "FCD") -> None:
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
  names = [loss for loss in LOSSES if len(by_loss[loss])]
  left.boxplot([by_loss[n] for n in names], tick_labels=names)
  for x, n in enumerate(names, 1):
    left.scatter(np.full(len(by_loss[n]), x), by_loss[n], s=10, c="tab:blue", zorder=3)
  left.set(ylabel=f"{label} (lower is better)", title="every member's score, per loss")
  for n in names:
    ks = np.arange(1, len(by_loss[n]) + 1)
    right.plot(ks, [expected_minimum(by_loss[n], k) for k in ks], marker="o", ms=3, label=n)
  right.set(
    xlabel="search budget k (settings × seeds tried)",
    ylabel=f"expected best {label}",
    title="best score a budget of k reaches (bootstrap, exact)",
  )
  right.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def verdicts(rows: list[dict], by_loss: dict, floor: float | None) -> list[str]:
  """The paper's two findings checked on our scores, each said plainly. "Similar" holds when
  the leading loss's margin over the next is within twice the largest seed-to-seed spread
  (std) of any loss's best setting."""
  best = sorted((float(v.min()), n) for n, v in by_loss.items() if len(v))
  noise = max((float(np.std(t["seeds"])) for t in report.best_per_loss(rows)), default=0)
  lines = []
  if len(best) > 1:
    (lead, leader), (second, runner) = best[0], best[1]
    similar = second - lead <= 2 * noise
    lines.append(
      f"- Similar best scores: {'yes' if similar else 'no'}. {leader}'s best ({lead:.0f}) is "
      f"{second - lead:.0f} below the next loss's ({runner}, {second:.0f}); the largest "
      f"seed-to-seed std of a best setting is {noise:.0f}. The other losses' best scores lie "
      f"within {best[-1][0] - second:.0f} of each other."
    )
  ns = dict((n, v) for v, n in best).get("ns")
  beat = [n for v, n in best if ns is not None and v < ns]
  lines.append(
    f"- NS's best beaten by: {', '.join(beat) or 'no loss'} (one run per setting and seed)."
  )
  if floor is not None:  # measured for the classifier's features only
    collapsed = [n for n, v in by_loss.items() if len(v) and float(np.median(v)) > floor]
    lines.append(
      f"- Losses whose median member scores worse than one-class collapse (FCD {floor}, "
      f"docs/evaluation.md floors): {', '.join(collapsed) or 'none'}."
    )
  return lines


def table(rows: list[dict], by_loss: dict, budget: dict, dataset: str) -> str:
  name = report.score_name(rows)
  label, inception = name.upper(), name == distance_name("inception")
  space = (
    "Inception-v3's pool3 features, as the paper" if inception else "the feature classifier v2"
  )
  order = sorted((float(v.min()), n) for n, v in by_loss.items() if len(v))
  if not order:
    return f"# lucic2018 on {dataset}: no member was scored (all diverged or no scorer)\n"
  lines = [
    f"# lucic2018 on {dataset} (measured {datetime.date.today().isoformat()}; "
    f"{budget['arch']} networks, narrow space, {budget['samples']} settings × "
    f"{budget['seeds']} seeds per loss, {budget['steps']:,} steps each)",
    "",
    f"Best member per loss (score: its best {label} over the run, {space}):",
    "",
    report.markdown(rows),
    f"Ordering by best {label}: " + " < ".join(f"{n} ({v:.0f})" for v, n in order) + ".",
    "",
    "## Beside the paper",
    "",
    "The paper's findings (its abstract): with enough search and random restarts most losses "
    "reach similar scores, and no loss consistently beats the non-saturating GAN (NS). Its "
    "numbers are FIDs of Inception features after 20 epochs of InfoGAN-sized networks with "
    "many settings per loss; "
    + (
      "ours are FIDs too, at this budget."
      if inception
      else "ours are FCDs of classifier features, so only orderings and spreads compare."
    ),
    "",
    *verdicts(rows, by_loss, None if inception else COLLAPSE_FCD.get(dataset)),
  ]
  return "\n".join(lines) + "\n"


SETUP = """# lucic2018: how this run differs from the paper's

- The search space is theirs (compare_gan, branch `v1`: `params.py`, the narrow ranges, each
  loss's recommended setting first; jaxgan's `--preset=lucic_narrow`), the losses their seven
  GANs (the VAE is left out).
- **Scale (cpu budget)**: the classic MLP instead of InfoGAN's networks (those run about 5
  steps/s on the 2-core CPU), 4 settings × 2 seeds per loss, 300 steps: a smoke-test scale,
  at which several losses have not left their starting collapse. The paper budget runs InfoGAN's
  networks, 50 settings, 18,750 steps (20 epochs of batch 64); the paper used 100 settings
  per loss for the wide range and restarts of the best ones.
- **Scores**: {scores}
- The paper's per-loss table could not be consulted offline; the comparison is with its
  stated findings.
- Data: Fashion-MNIST by default (`--dataset=mnist` where MNIST's train split is present).
"""


SCORES = {
  "classifier": """FCD, the Fréchet distance of jaxgan's classifier's features for the dataset
  (Fashion-MNIST's: 92.2% test accuracy), not FID of Inception features; 10,000 samples
  against the test split. Numbers are not comparable with the paper's FIDs, orderings and
  spreads are.""",
  "inception": """FID, the Fréchet distance of Inception-v3's pool3 features (the FID
  network and its 2015-12-05 weights, as the paper), 10,000 samples against the test split;
  grey images repeated to 3 channels and resized to 299 as compare_gan did.""",
}


def run(
  budget: str,
  outdir: str,
  dataset: str = "fashion_mnist",
  features: str = "classifier",
  inception_weights: str | None = None,
) -> str:
  sizes = BUDGETS[budget]
  if features == "inception":  # WeightsUnavailable before anything trains
    inception_weights = inception_scorer.weights_path(inception_weights)
  tag = "" if features == "classifier" else f"_{distance_name(features)}"
  workdir = os.path.join("runs", "reproduce", f"lucic2018_{budget}_{dataset}{tag}")
  scoring = [f"--features={features}"]
  scoring += [f"--inception_weights={inception_weights}"] if inception_weights else []
  rows = sweep(sizes, dataset, workdir, scoring)
  by_loss = scores(rows)
  plot(by_loss, os.path.join(outdir, "figure4.png"), distance_name(features).upper())
  text = table(rows, by_loss, sizes, dataset)
  return write_results(outdir, text, SETUP.format(scores=SCORES[features]))
