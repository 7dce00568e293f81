r"""Score a trained run: the FCD of its generator's samples against the dataset's test split.

  python -m experiments.score --workdir=runs/fashion_mnist_dcgan_ns_s0

Reads the run's config.json and latest checkpoint, draws --num_samples images from G (its EMA
when the run kept one; in the run's compute dtype), and compares their features with the test
split's in a classifier trained on the train split (jaxgan.eval.quality: Fréchet distance, lower
is better). For scale it also reports the score of --num_samples real train images, the floor
a perfect generator would reach. With ``--features=inception`` the same in the FID Inception-v3's
features (``fid``, as papers report it; unlabelled datasets too). Prints one JSON line and
writes it to <workdir>/score.json.

Exit codes: 0 done; 1 no run or checkpoint there, an unreadable checkpoint, missing data, a
dataset without class labels (for the classifier), no Inception weights (for Inception), or
non-finite samples; 2 bad flags.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys

from absl import app, flags, logging

from experiments.flags import (
  bad_workdir_command,
  define_feature_flags,
  feature_overrides,
  parse_flags,
)
from jaxgan.config import CLASSIFIER_STEPS, distance_name
from jaxgan.data.datasets import DatasetUnavailable, load_images
from jaxgan.eval import scoring
from jaxgan.eval.inception_scorer import WeightsUnavailable
from jaxgan.run.checkpoint import CorruptCheckpoint
from jaxgan.run.saved_run import RunError, SavedRun

flags.DEFINE_string("workdir", None, "The run's output folder (holds config.json).")
flags.DEFINE_integer(
  "num_samples",
  10000,
  "Generated images to score (FCD is biased at small N: compare runs at the same N).",
  lower_bound=2,
)
flags.DEFINE_integer(
  "classifier_steps", CLASSIFIER_STEPS, "Training steps of the feature classifier.", lower_bound=1
)
flags.DEFINE_integer("classifier_seed", 0, "Seed of the feature classifier.")
flags.DEFINE_integer("seed", 0, "Seed of the latent vectors.")
flags.DEFINE_string("data_dir", None, "TFDS data directory (default: the run's).")
define_feature_flags()
FLAGS = flags.FLAGS


class ScoreError(RuntimeError):
  pass


def score_workdir(
  workdir: str,
  num_samples: int = 10000,
  classifier_steps: int = CLASSIFIER_STEPS,
  classifier_seed: int = 0,
  seed: int = 0,
  data_dir=None,
  **features,
) -> dict:
  """The score record of the run in ``workdir`` (see the module docstring). ``features``:
  ``features`` and ``inception_weights`` replacing the run's."""
  try:
    cfg = SavedRun.config(workdir)
    cfg = dataclasses.replace(cfg, **{k: v for k, v in features.items() if v is not None})
    if not os.path.isdir(os.path.join(workdir, "checkpoints")):
      raise RunError(f"{workdir} has no checkpoints to score")
    try:
      scorer = scoring.for_config(cfg, data_dir, classifier_steps, classifier_seed=classifier_seed)
    except ValueError as e:  # a dataset without labels
      raise RunError(f"cannot score {cfg.dataset}: {e}") from e
    run = SavedRun.open(workdir, SavedRun.image_shape(workdir, data_dir))
    state = run.state()
    images = run.samples(state, num_samples, seed)
    real = load_images(cfg.dataset, "train", data_dir or cfg.data_dir, cfg.image_size, cfg.channels)
  except RunError as e:
    raise ScoreError(str(e)) from e
  name = distance_name(cfg.features)
  record = {
    "workdir": workdir,
    "step": int(state.step),
    "dataset": cfg.dataset,
    "arch": cfg.arch,
    "loss": cfg.loss,
    "compute_dtype": cfg.compute_dtype,
    "num_samples": num_samples,
    "feature_space": scorer.feature_space,
    "reference": scorer.reference_name,
    name: scorer(images),
    f"{name}_real_train": scorer(real[:num_samples]),
  }
  if cfg.features == "classifier":
    record["classifier"] = {
      "steps": classifier_steps,
      "seed": classifier_seed,
      "test_accuracy": scorer.test_accuracy,
    }
  return record


def main(argv: list[str]) -> int:
  if (bad := bad_workdir_command(argv, FLAGS.workdir)) is not None:
    return bad
  logging.set_verbosity(logging.WARNING)

  try:
    record = score_workdir(
      FLAGS.workdir,
      FLAGS.num_samples,
      FLAGS.classifier_steps,
      FLAGS.classifier_seed,
      FLAGS.seed,
      FLAGS.data_dir,
      **feature_overrides(),
    )
  except (ScoreError, CorruptCheckpoint, DatasetUnavailable, WeightsUnavailable) as e:
    print(f"error: {e}", file=sys.stderr)
    return getattr(e, "exit_code", 1)
  with open(os.path.join(FLAGS.workdir, "score.json"), "w") as f:
    json.dump(record, f, indent=2)
  print(json.dumps(record))
  return 0


if __name__ == "__main__":
  app.run(main, flags_parser=parse_flags)
