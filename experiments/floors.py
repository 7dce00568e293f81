r"""What perfect and what collapse score: every image metric for real images.

  python -m experiments.floors [--datasets=fashion_mnist,mnist] [--num=10000]

Per dataset with labelled train and test splits present, in its classifier's features against
its test split (jaxgan.eval.quality): (1) --num real train images, what a perfect generator would
score with as many samples; (2) a "generator" collapsed onto one class, the train images of
class --collapsed_class (at most --num of them) (train, not test, images: test images would lie inside the reference
set itself and flatter precision and density). Prints a Markdown table; a dataset without a
train split is named and skipped.
"""

from __future__ import annotations

import sys

from absl import app, flags, logging

from experiments.flags import parse_flags
from jaxgan.config import CLASSIFIER_STEPS
from jaxgan.data import datasets as data_lib
from jaxgan.data.datasets import DatasetUnavailable
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
  ], scorer.test_accuracy


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

  measured = []
  for dataset in FLAGS.datasets:
    try:
      found, acc = rows(
        dataset, FLAGS.num, FLAGS.collapsed_class, FLAGS.classifier_steps, FLAGS.data_dir
      )
    except (DatasetUnavailable, ValueError) as e:
      print(f"note: {dataset} skipped ({str(e).splitlines()[0]})", file=sys.stderr)
      continue
    measured += [(*r, acc) for r in found]
  if not measured:
    print("error: no dataset with labelled train and test splits is present", file=sys.stderr)
    return 1
  print(table(measured))
  return 0


if __name__ == "__main__":
  app.run(main, flags_parser=parse_flags)
