r"""What perfect and what collapse score: every image metric for real images.

  python -m experiments.floors [--datasets=fashion_mnist,mnist] [--num=10000]

Per dataset with labelled train and test splits present, in its classifier's features against
its test split (jaxgan.eval.quality): (1) --num real train images, what a perfect generator would
score with as many samples; (2) a "generator" collapsed onto one class, the train images of
class --collapsed_class (at most --num of them) (train, not test, images: test images would lie inside the reference
set itself and flatter precision and density). Prints a Markdown table; a dataset without a
train split is named and skipped.

Then the floors of class-conditional generation (jaxgan.eval.feature_metrics.class_accuracy
and intra_class_fd): (1) the real train images, each "generated for" its own label; (2) the
collapsed "generator" whose images are assigned the classes in turn, as a conditional
generator that ignores its labels and draws one class would be.
"""

from __future__ import annotations

import sys

import numpy as np
from absl import app, flags, logging

from experiments.flags import parse_flags
from jaxgan.config import CLASSIFIER_STEPS
from jaxgan.data import datasets as data_lib
from jaxgan.data.datasets import DatasetUnavailable
from jaxgan.eval import feature_metrics as fm
from jaxgan.eval import quality
from jaxgan.eval.quality import METRICS, metric_cell

flags.DEFINE_list("datasets", ["fashion_mnist", "mnist"], "Datasets to measure.")
flags.DEFINE_integer("num", 10000, "Real train images of the 'perfect' row.", lower_bound=100)
flags.DEFINE_integer("collapsed_class", 0, "The class of the collapsed 'generator'.")
flags.DEFINE_integer(
  "classifier_steps", CLASSIFIER_STEPS, "Training steps of the classifier.", lower_bound=1
)
flags.DEFINE_string("data_dir", None, "TFDS data directory.")
FLAGS = flags.FLAGS


def rows(dataset: str, num: int, collapsed_class: int, classifier_steps: int, data_dir=None):

  scorer = quality.FrechetClassifierDistance.for_dataset(dataset, data_dir, steps=classifier_steps)
  images, labels = data_lib.load_labeled(dataset, "train", data_dir)
  one = images[labels == collapsed_class][:num]  # at most as many as the perfect row
  return [
    (dataset, f"real train images ({num:,})", scorer.metrics(images[:num])),
    (dataset, f"class {collapsed_class} only, train ({len(one):,})", scorer.metrics(one)),
  ], scorer


def conditional_rows(dataset: str, num: int, collapsed_class: int, scorer, data_dir=None):
  """(dataset, samples, class_accuracy, intra_class_fd) of the two conditional floors."""
  images, labels = data_lib.load_labeled(dataset, "train", data_dir)
  _, ref_labels = data_lib.load_labeled(dataset, "test", data_dir)
  one = images[labels == collapsed_class][:num]
  cyclic = np.arange(len(one)) % scorer.num_classes  # every class asked for in turn
  out = []
  for label, x, y in (
    (f"real train images, their own labels ({num:,})", images[:num], labels[:num]),
    (f"class {collapsed_class} only, labelled 0, 1, 2, ... in turn ({len(one):,})", one, cyclic),
  ):
    features, logits = scorer.outputs(np.asarray(x))
    intra = fm.intra_class_fd(features, y, scorer.reference_features, ref_labels)
    out.append((dataset, label, fm.class_accuracy(logits, y), intra))
  return out


def conditional_table(measured) -> str:
  lines = [
    "| dataset | samples | class_accuracy | intra_class_fd |",
    "| --- | --- | ---: | ---: |",
  ]
  lines += [f"| {d} | {label} | {acc:.1%} | {intra:.3g} |" for d, label, acc, intra in measured]
  return "\n".join(lines)


def table(measured) -> str:
  lines = [
    "| dataset | samples | classifier test accuracy | " + " | ".join(METRICS) + " |",
    "| --- | --- | ---: | " + " | ".join("---:" for _ in METRICS) + " |",
  ]
  for dataset, label, m, acc in measured:
    cells = [metric_cell(m, k) for k in METRICS]
    lines.append(f"| {dataset} | {label} | {acc:.1%} | " + " | ".join(cells) + " |")
  return "\n".join(lines)


def main(argv: list[str]) -> int:
  if len(argv) > 1:
    print(f"error: unexpected arguments {argv[1:]}", file=sys.stderr)
    return 2
  logging.set_verbosity(logging.WARNING)

  measured, conditional = [], []
  for dataset in FLAGS.datasets:
    try:
      found, scorer = rows(
        dataset, FLAGS.num, FLAGS.collapsed_class, FLAGS.classifier_steps, FLAGS.data_dir
      )
      conditional += conditional_rows(
        dataset, FLAGS.num, FLAGS.collapsed_class, scorer, FLAGS.data_dir
      )
    except (DatasetUnavailable, ValueError) as e:
      print(f"note: {dataset} skipped ({str(e).splitlines()[0]})", file=sys.stderr)
      continue
    measured += [(*r, scorer.test_accuracy) for r in found]
  if not measured:
    print("error: no dataset with labelled train and test splits is present", file=sys.stderr)
    return 1
  print(table(measured))
  print("\nClass-conditional generation:\n")
  print(conditional_table(conditional))
  return 0


if __name__ == "__main__":
  app.run(main, flags_parser=parse_flags)
