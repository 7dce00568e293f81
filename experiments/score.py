r"""Score a trained run: the FCD of its generator's samples against the dataset's test split.

  python -m experiments.score --workdir=runs/fashion_mnist_dcgan_ns_s0

Reads the run's config.json and latest checkpoint, draws --num_samples images from G (its EMA
when the run kept one; in the run's compute dtype), and compares their features with the test
split's in a classifier trained on the train split (jaxgan.quality: Fréchet distance, lower
is better). For scale it also reports the score of --num_samples real train images, the floor
a perfect generator would reach. Prints one JSON line and writes it to <workdir>/score.json.

Exit codes: 0 done; 1 no run or checkpoint there, an unreadable checkpoint, missing data, a
dataset without class labels, or non-finite samples; 2 bad flags.
"""

from __future__ import annotations

import json
import os
import sys

from absl import app, flags, logging

flags.DEFINE_string("workdir", None, "The run's output folder (holds config.json).")
flags.DEFINE_integer(
  "num_samples",
  10000,
  "Generated images to score (FCD is biased at small N: compare runs at the same N).",
  lower_bound=2,
)
flags.DEFINE_integer(
  "classifier_steps", 3000, "Training steps of the feature classifier.", lower_bound=1
)
flags.DEFINE_integer("classifier_seed", 0, "Seed of the feature classifier.")
flags.DEFINE_integer("seed", 0, "Seed of the latent vectors.")
flags.DEFINE_string("data_dir", None, "TFDS data directory (default: the run's).")
FLAGS = flags.FLAGS


class ScoreError(RuntimeError):
  pass


def score_workdir(
  workdir: str,
  num_samples: int = 10000,
  classifier_steps: int = 3000,
  classifier_seed: int = 0,
  seed: int = 0,
  data_dir=None,
) -> dict:
  """The score record of the run in ``workdir`` (see the module docstring)."""
  import jax
  import numpy as np

  from jaxgan import config as config_lib
  from jaxgan import quality, train, xla_options
  from jaxgan.checkpoint import Checkpointer
  from jaxgan.gan import build_gan

  config_path = os.path.join(workdir, "config.json")
  if not os.path.exists(config_path):
    raise ScoreError(f"no run in {workdir} (no config.json)")
  try:
    cfg = config_lib.load(config_path)
  except (config_lib.ConfigError, ValueError) as e:
    raise ScoreError(f"{config_path} is not a readable run config ({e})") from e
  checkpoints = os.path.join(workdir, "checkpoints")
  if not os.path.isdir(checkpoints):
    raise ScoreError(f"{workdir} has no checkpoints to score")
  try:
    scorer = quality.FrechetClassifierDistance.for_dataset(
      cfg.dataset, data_dir or cfg.data_dir, steps=classifier_steps, seed=classifier_seed
    )
  except ValueError as e:  # a dataset without labels
    raise ScoreError(f"cannot score {cfg.dataset}: {e}") from e
  gan = build_gan(cfg, scorer.image_shape)
  ckpt = Checkpointer(checkpoints)
  try:
    if ckpt.latest_step() is None:
      raise ScoreError(f"{workdir} has no checkpoints to score")
    state = ckpt.restore(xla_options.jit_init(gan.init)(jax.random.key(0)))
  finally:
    ckpt.close()
  g_params = state.g_params if state.g_ema is None else state.g_ema
  z = gan.latents(jax.random.key(seed), num_samples)
  sample = train.make_sampler(gan)
  images = np.concatenate(
    [
      jax.device_get(sample(g_params, state.g_state, z[i : i + 1000]))
      for i in range(0, num_samples, 1000)
    ]
  )
  if not np.isfinite(images).all():
    raise ScoreError(f"G's samples at step {int(state.step)} are not finite (the run diverged)")
  return {
    "workdir": workdir,
    "step": int(state.step),
    "dataset": cfg.dataset,
    "arch": cfg.arch,
    "loss": cfg.loss,
    "compute_dtype": cfg.compute_dtype,
    "num_samples": num_samples,
    "fcd": scorer(images),
    "fcd_real_train": scorer.train_split_fcd(num_samples),
    "classifier": {
      "steps": classifier_steps,
      "seed": classifier_seed,
      "test_accuracy": scorer.test_accuracy,
    },
  }


def main(argv: list[str]) -> int:
  if len(argv) > 1:
    print(f"error: unexpected arguments {argv[1:]}", file=sys.stderr)
    return 2
  if not FLAGS.workdir:
    print("error: --workdir is required (a run's output folder)", file=sys.stderr)
    return 2
  logging.set_verbosity(logging.WARNING)
  from jaxgan.checkpoint import CorruptCheckpoint
  from jaxgan.data import DatasetUnavailable

  try:
    record = score_workdir(
      FLAGS.workdir,
      FLAGS.num_samples,
      FLAGS.classifier_steps,
      FLAGS.classifier_seed,
      FLAGS.seed,
      FLAGS.data_dir,
    )
  except (ScoreError, CorruptCheckpoint, DatasetUnavailable) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  with open(os.path.join(FLAGS.workdir, "score.json"), "w") as f:
    json.dump(record, f, indent=2)
  print(json.dumps(record))
  return 0


def parse_flags(argv: list[str]) -> list[str]:
  try:
    return FLAGS(argv)
  except flags.Error as e:
    print(f"error: {e}\nRun with --helpshort for the flags.", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
  app.run(main, flags_parser=parse_flags)
