r"""Score every checkpoint of a run with every image metric, and mark the best.

  python -m experiments.evaluate --workdir=runs/fashion_mnist_mlp_ns_s0

For each checkpoint the run kept (the last ``--max_to_keep`` of training), draws
--num_samples images from G (its EMA when kept) and computes, in the features of a classifier
trained on the dataset's train split against its test split (jaxgan.eval.quality): the Fréchet
distance (``fd``, the FCD), KID (mean ± std over subsets), the classifier score (an Inception
Score analogue, mean ± std over 10 splits), precision and recall (k = 3), density and coverage
(k = 5); with ``--features=inception``, the same in the FID Inception-v3's features (FID and
the Inception Score, as papers report them). A class-conditional run's samples are drawn for
the classes in turn and also get, in the classifier's features, ``class_accuracy`` (with the
classifier's test accuracy, its ceiling, as ``class_accuracy_real``) and ``intra_class_fd``. Each record states the feature space, the
reference split and both sample sizes.
Writes ``<workdir>/evaluation.jsonl`` (one record per checkpoint; the best by ``fd`` has
``"best": true``) and ``evaluation.png`` (each metric over the steps), and prints a table.

Exit codes: 0 done; 1 no run or checkpoint there, an unreadable checkpoint, missing data, a
dataset without class labels (for the classifier), no Inception weights (for Inception); 2 bad
flags.
"""

from __future__ import annotations

import dataclasses
import os
import sys

from absl import app, flags, logging

from experiments.flags import (
  bad_workdir_command,
  define_feature_flags,
  feature_overrides,
  parse_flags,
)
from jaxgan.config import CLASSIFIER_STEPS
from jaxgan.data.datasets import DatasetUnavailable
from jaxgan.eval import scoring
from jaxgan.eval.inception_scorer import WeightsUnavailable
from jaxgan.eval.quality import CLASS_METRICS, METRICS, metric_cell
from jaxgan.run import records as records_lib
from jaxgan.run.checkpoint import CorruptCheckpoint
from jaxgan.run.outputs import plot_series
from jaxgan.run.saved_run import RunError, SavedRun

flags.DEFINE_string("workdir", None, "The run's output folder (holds config.json).")
flags.DEFINE_integer("num_samples", 10000, "Generated images per checkpoint.", lower_bound=10)
flags.DEFINE_integer(
  "classifier_steps", CLASSIFIER_STEPS, "Training steps of the feature classifier.", lower_bound=1
)
flags.DEFINE_integer("seed", 0, "Seed of the latent vectors.")
flags.DEFINE_string("data_dir", None, "TFDS data directory (default: the run's).")
define_feature_flags()
FLAGS = flags.FLAGS


def evaluate(
  workdir: str, num_samples: int, classifier_steps: int, seed: int, data_dir=None, **features
):
  """The records of every checkpoint of the run in ``workdir``, the best (lowest FD) marked.
  ``features``: ``features`` and ``inception_weights`` replacing the run's."""
  cfg = SavedRun.config(workdir)
  cfg = dataclasses.replace(cfg, **{k: v for k, v in features.items() if v is not None})
  SavedRun.checkpoint_steps(workdir)  # refused before the classifier trains for minutes
  try:
    scorer = scoring.for_config(cfg, data_dir, classifier_steps)
  except ValueError as e:  # a dataset without labels
    raise RunError(f"cannot evaluate {cfg.dataset}: {e}") from e
  run = SavedRun.open(workdir, SavedRun.image_shape(workdir, data_dir))
  records = []
  for step in run.steps:
    try:
      images = run.samples(run.state(step), num_samples, seed)
    except RunError as e:  # a diverged checkpoint: recorded, not scored
      records.append({"step": step, "error": str(e)})
      continue
    labels = run.sample_labels(num_samples)
    records.append({"step": step, **scorer.metrics(images, labels=labels)})
    print(f"step {step}: fd {records[-1]['fd']:.2f}", file=sys.stderr)
  scored = [r for r in records if "fd" in r]
  if scored:
    min(scored, key=lambda r: r["fd"])["best"] = True
  return records


def shown(records: list[dict]) -> tuple[str, ...]:
  """The metrics a table and plot show: a conditional run's class metrics too."""
  return METRICS + (CLASS_METRICS if any("class_accuracy" in r for r in records) else ())


def table(records: list[dict]) -> str:
  metrics = shown(records)
  lines = [
    "| step | " + " | ".join(metrics) + " | |",
    "| ---: | " + " | ".join("---:" for _ in metrics) + " | --- |",
  ]
  for r in records:
    if "error" in r:
      lines.append(f"| {r['step']} | " + " | ".join("—" for _ in metrics) + f" | {r['error']} |")
      continue
    cells = [metric_cell(r, k) for k in metrics]
    lines.append(
      f"| {r['step']} | " + " | ".join(cells) + (" | best |" if r.get("best") else " | |")
    )
  return "\n".join(lines)


def main(argv: list[str]) -> int:
  if (bad := bad_workdir_command(argv, FLAGS.workdir)) is not None:
    return bad
  logging.set_verbosity(logging.WARNING)

  try:
    records = evaluate(
      FLAGS.workdir,
      FLAGS.num_samples,
      FLAGS.classifier_steps,
      FLAGS.seed,
      FLAGS.data_dir,
      **feature_overrides(),
    )
  except (RunError, CorruptCheckpoint, DatasetUnavailable, WeightsUnavailable) as e:
    print(f"error: {e}", file=sys.stderr)
    return getattr(e, "exit_code", 1)
  records_lib.write(os.path.join(FLAGS.workdir, "evaluation.jsonl"), records)

  plot_series(records, shown(records), os.path.join(FLAGS.workdir, "evaluation.png"))
  first = next((r for r in records if "fd" in r), None)
  if first:
    print(
      f"features: {first['feature_space']}; reference: {first['reference']} "
      f"(n_real {first['n_real']}, n_fake {first['n_fake']})"
    )
  print(table(records))
  return 0


if __name__ == "__main__":
  app.run(main, flags_parser=parse_flags)
