r"""Train a GAN on MNIST or Fashion-MNIST.

  python -m experiments.mnist --loss=ns
  python -m experiments.mnist --loss=mm --arch=dcgan --dataset=fashion_mnist --epochs=5

Exit codes: 0 done; 1 missing data, unreadable checkpoint or a workdir conflict;
2 bad flags; 3 the run diverged (non-finite losses).
"""
from __future__ import annotations

import sys

from absl import app, flags, logging

from jaxgan import losses, models
from jaxgan.loop import TrainConfig

DEFAULTS = TrainConfig()

flags.DEFINE_enum("loss", DEFAULTS.loss, losses.LOSSES.names(), "GAN objective.")
flags.DEFINE_enum("arch", DEFAULTS.arch, models.ARCHS.names(), "G and D architecture.")
flags.DEFINE_enum("dataset", DEFAULTS.dataset, ["mnist", "fashion_mnist"], "TFDS dataset.")
flags.DEFINE_string("split", DEFAULTS.split, "TFDS split to train on, e.g. train or test.")
flags.DEFINE_integer("batch_size", DEFAULTS.batch_size, "Batch size.", lower_bound=1)
flags.DEFINE_float("lr", DEFAULTS.lr, "Adam learning rate of G and D.", lower_bound=0.0)
flags.DEFINE_float("beta1", DEFAULTS.beta1, "Adam β1.", lower_bound=0.0, upper_bound=1.0)
flags.DEFINE_float("beta2", DEFAULTS.beta2, "Adam β2.", lower_bound=0.0, upper_bound=1.0)
flags.DEFINE_integer("z_dim", DEFAULTS.z_dim, "Latent dimension.", lower_bound=1)
flags.DEFINE_integer("steps", None, "Number of updates (overrides --epochs).", lower_bound=1)
flags.DEFINE_float("epochs", DEFAULTS.epochs,
                   "Epochs of (examples // batch_size) sampled batches each.", lower_bound=0.0)
flags.DEFINE_integer("seed", DEFAULTS.seed, "Random seed.")
flags.DEFINE_string("workdir", None, "Output folder (default runs/<dataset>_<arch>_<loss>_s<seed>).")
flags.DEFINE_integer("sample_every", DEFAULTS.sample_every, "Write a sample grid every N steps "
                     "(0: only at the end).", lower_bound=0)
flags.DEFINE_integer("ckpt_every", DEFAULTS.ckpt_every, "Checkpoint every N steps "
                     "(0: only at the end).", lower_bound=0)
flags.DEFINE_integer("log_every", DEFAULTS.log_every, "Read and log metrics every N steps.",
                     lower_bound=1)
flags.DEFINE_integer("steps_per_call", None, "Updates per device dispatch (one lax.scan); "
                     "default: the measured best for the platform.", lower_bound=1)
flags.DEFINE_boolean("resume", False, "Continue from the latest checkpoint in --workdir.")
flags.DEFINE_string("data_dir", None, "TFDS data directory (default $TFDS_DATA_DIR or "
                    "~/tensorflow_datasets).")
flags.DEFINE_boolean("progress", True, "Show a progress bar.")
FLAGS = flags.FLAGS


def parse_flags(argv: list[str]) -> list[str]:
  """Parses flags; a bad value prints the reason (with the choices) and exits with code 2."""
  try:
    return FLAGS(argv)
  except flags.Error as e:
    print(f"error: {e}\nRun with --helpshort for the flags.", file=sys.stderr)
    sys.exit(2)


def config_from_flags() -> TrainConfig:
  workdir = FLAGS.workdir or f"runs/{FLAGS.dataset}_{FLAGS.arch}_{FLAGS.loss}_s{FLAGS.seed}"
  return TrainConfig(
      loss=FLAGS.loss, arch=FLAGS.arch, dataset=FLAGS.dataset, split=FLAGS.split,
      batch_size=FLAGS.batch_size, lr=FLAGS.lr, beta1=FLAGS.beta1, beta2=FLAGS.beta2,
      z_dim=FLAGS.z_dim, steps=FLAGS.steps, epochs=FLAGS.epochs, seed=FLAGS.seed,
      workdir=workdir, sample_every=FLAGS.sample_every, ckpt_every=FLAGS.ckpt_every,
      log_every=FLAGS.log_every, steps_per_call=FLAGS.steps_per_call, resume=FLAGS.resume,
      data_dir=FLAGS.data_dir, progress=FLAGS.progress)


def main(argv: list[str]) -> int:
  if len(argv) > 1:
    print(f"error: unexpected arguments {argv[1:]}", file=sys.stderr)
    return 2
  logging.set_verbosity(logging.WARNING)  # orbax logs every save at INFO
  from jaxgan.checkpoint import CorruptCheckpoint
  from jaxgan.data import DatasetUnavailable
  from jaxgan.loop import WorkdirError, train_run
  try:
    return train_run(config_from_flags())
  except (DatasetUnavailable, CorruptCheckpoint, WorkdirError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1


if __name__ == "__main__":
  app.run(main, flags_parser=parse_flags)
