r"""Pictures of what a checkpoint makes: a sample grid, latent interpolations and, for labelled
datasets, the histogram of the classes it draws.

  python -m experiments.sample --workdir=runs/fashion_mnist_mlp_ns_s0 [--step=N]

From the latest checkpoint (or --step), with G's EMA weights when the run kept them, writes
into ``<workdir>/samples/``:

* ``grid_<step>.png``: 10×10 samples;
* ``interpolation_<step>.png``: 8 rows of 10 images along the path between two latents,
  spherical (slerp) for a normal prior, where straight lines pass through latents of unusual
  norm (White 2016, "Sampling Generative Networks", arXiv:1609.04468), straight for a uniform
  one;
* ``classes_<step>.png`` (labelled datasets): the share of each class among the
  classifier's predictions for --num_samples samples, beside the test split's true shares:
  the plainest picture of mode collapse. Its numbers are printed as one JSON line.

A class-conditional run (``--conditional``) draws instead: the grid with one row per class
(the same latent in each column), the interpolations with each row's class fixed (row k:
class k mod K), and ``confusion_<step>.png``: for --num_samples samples generated for the
classes in turn, the share the classifier reads as each class (rows: the class asked for;
columns: the class read), with the class accuracy (the diagonal's mean) printed beside the
classifier's accuracy on the test split, its ceiling.

Exit codes: 0 done; 1 no run or checkpoint there, an unreadable checkpoint, missing data;
2 bad flags.
"""

from __future__ import annotations

import json
import os
import sys

import jax
import numpy as np
from absl import app, flags, logging

from experiments.flags import bad_workdir_command, parse_flags
from jaxgan.config import CLASSIFIER_STEPS
from jaxgan.data import datasets as data_lib
from jaxgan.data.datasets import DatasetUnavailable
from jaxgan.eval import feature_metrics, quality
from jaxgan.eval.interpolation import lerp, slerp
from jaxgan.run import outputs
from jaxgan.run.checkpoint import CorruptCheckpoint
from jaxgan.run.keys import class_rows
from jaxgan.run.saved_run import RunError, SavedRun

flags.DEFINE_string("workdir", None, "The run's output folder (holds config.json).")
flags.DEFINE_integer("step", None, "The checkpoint to draw from (default: the latest).")
flags.DEFINE_integer("num_samples", 10000, "Samples for the class histogram.", lower_bound=100)
flags.DEFINE_integer("seed", 0, "Seed of the latent vectors.")
flags.DEFINE_integer(
  "classifier_steps",
  CLASSIFIER_STEPS,
  "Training steps of the classifier (class histogram).",
  lower_bound=1,
)
flags.DEFINE_string("data_dir", None, "TFDS data directory (default: the run's).")
FLAGS = flags.FLAGS


def draw(workdir: str, step, num_samples: int, seed: int, classifier_steps: int, data_dir=None):
  """Writes the pictures; returns {picture: path} and the class shares when there are any."""
  cfg = SavedRun.config(workdir)
  shape = data_lib.load_images(
    cfg.dataset, cfg.split, data_dir or cfg.data_dir, cfg.image_size, cfg.channels
  ).shape[1:]
  run = SavedRun.open(workdir, shape)
  state = run.state(step)
  step = int(state.step)
  out = os.path.join(workdir, "samples")
  os.makedirs(out, exist_ok=True)
  written = {"grid": os.path.join(out, f"grid_{step}.png")}
  k = run.gan.num_classes
  if k:  # one row per class, the same latents in every row
    z, labels = class_rows(run.gan, jax.random.key(seed), 10)
    outputs.save_image_grid(run.generate(state, z, labels), written["grid"], rows=k)
  else:
    outputs.save_image_grid(run.samples(state, 100, seed), written["grid"], rows=10)
  ends = np.asarray(run.gan.latents(jax.random.key(seed + 1), 16))

  path = (slerp if run.gan.z_prior == "normal" else lerp)(ends[:8], ends[8:], np.linspace(0, 1, 10))
  row_classes = np.repeat(np.arange(8) % k, 10).astype(np.int32) if k else None
  strip = run.generate(state, path.reshape(80, -1).astype(np.float32), row_classes)
  written["interpolation"] = os.path.join(out, f"interpolation_{step}.png")
  outputs.save_image_grid(strip, written["interpolation"], rows=8)
  record = {"workdir": workdir, "step": step, "pictures": written}
  reading = class_reading if k else class_histogram
  record.update(reading(run, state, cfg, num_samples, seed, classifier_steps, data_dir, out))
  return record


def _classifier(cfg, classifier_steps: int, data_dir):
  """The dataset's feature classifier, or None (said why) for a dataset without labels."""
  try:
    return quality.FrechetClassifierDistance.for_dataset(
      cfg.dataset,
      data_dir or cfg.data_dir,
      steps=classifier_steps,
      size=cfg.image_size,
      channels=cfg.channels,
    )
  except ValueError as e:
    print(f"note: no class picture for {cfg.dataset} ({e})", file=sys.stderr)
    return None


def class_reading(run, state, cfg, num_samples, seed, classifier_steps, data_dir, out) -> dict:
  """A conditional G's confusion matrix as the classifier reads its samples, drawn."""
  clf = _classifier(cfg, classifier_steps, data_dir)
  if clf is None:
    return {}
  asked = run.sample_labels(num_samples)
  logits = quality.classifier_outputs(
    clf.params, run.samples(state, num_samples, seed), clf.num_classes
  )[1]
  k = max(clf.num_classes, run.gan.num_classes)
  matrix = feature_metrics.confusion(logits.argmax(-1), asked, k)
  step = int(state.step)
  path = os.path.join(out, f"confusion_{step}.png")
  plt = _pyplot()
  fig, ax = plt.subplots(figsize=(4.6, 4))
  image = ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
  ax.set(
    xticks=range(k), yticks=range(k), xlabel="class the classifier reads",
    ylabel="class asked for", title=f"{cfg.dataset} {cfg.conditional}: step {step}",
  )  # fmt: skip
  fig.colorbar(image, ax=ax, label="share of the row")
  fig.tight_layout()
  fig.savefig(path, dpi=90)
  plt.close(fig)
  return {
    "class_accuracy": float(np.mean(logits.argmax(-1) == asked)),
    "classifier_test_accuracy": clf.test_accuracy,
    "confusion": matrix.round(4).tolist(),
    "confusion_picture": path,
  }


def _pyplot():
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  return plt


def class_histogram(run, state, cfg, num_samples, seed, classifier_steps, data_dir, out) -> dict:
  """The classifier's predicted class shares of ``num_samples`` samples against the test
  split's true ones, drawn side by side; empty for a dataset without labels."""
  clf = _classifier(cfg, classifier_steps, data_dir)
  if clf is None:
    return {}
  _, labels = data_lib.load_labeled(
    cfg.dataset,
    data_lib.reference_split(cfg.dataset),
    data_dir or cfg.data_dir,
    cfg.image_size,
    cfg.channels,
  )
  logits = quality.classifier_outputs(
    clf.params, run.samples(state, num_samples, seed), clf.num_classes
  )[1]
  made = np.bincount(logits.argmax(-1), minlength=clf.num_classes) / len(logits)
  data = np.bincount(labels, minlength=clf.num_classes) / len(labels)
  plt = _pyplot()
  fig, ax = plt.subplots(figsize=(6, 3.2))
  x = np.arange(clf.num_classes)
  ax.bar(x - 0.2, data, 0.4, label=f"test split (n={len(labels)})")
  ax.bar(x + 0.2, made, 0.4, label=f"G's samples, classified (n={len(logits)})")
  ax.set(
    xticks=x,
    xlabel="class",
    ylabel="share",
    title=f"{cfg.dataset}: classes, step {int(state.step)}",
  )
  ax.legend(fontsize=7)
  path = os.path.join(out, f"classes_{int(state.step)}.png")
  fig.tight_layout()
  fig.savefig(path, dpi=90)
  plt.close(fig)
  return {
    "class_shares": made.round(4).tolist(),
    "data_class_shares": data.round(4).tolist(),
    "classifier_test_accuracy": clf.test_accuracy,
    "histogram": path,
  }


def main(argv: list[str]) -> int:
  if (bad := bad_workdir_command(argv, FLAGS.workdir)) is not None:
    return bad
  logging.set_verbosity(logging.WARNING)

  try:
    record = draw(
      FLAGS.workdir, FLAGS.step, FLAGS.num_samples, FLAGS.seed, FLAGS.classifier_steps,
      FLAGS.data_dir,
    )  # fmt: skip
  except (RunError, CorruptCheckpoint, DatasetUnavailable) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  print(json.dumps(record))
  return 0


if __name__ == "__main__":
  app.run(main, flags_parser=parse_flags)
