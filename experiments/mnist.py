r"""Train a GAN on MNIST, Fashion-MNIST, CIFAR-10 or CelebA (64×64).

  python -m experiments.mnist --loss=ns
  python -m experiments.mnist --loss=wgan_gp --arch=infogan --n_disc=5
  python -m experiments.mnist --loss=hinge --arch=sndcgan --dataset=fashion_mnist --epochs=5

Every flag of experiments/flags.py applies. Exit codes: 0 done; 1 missing data, unreadable
checkpoint or a workdir conflict; 2 bad flags; 3 the run diverged (non-finite losses).
"""
from __future__ import annotations

import sys

from absl import app, flags, logging

from experiments import flags as train_flags

flags.DEFINE_enum("dataset", "mnist", ["mnist", "fashion_mnist", "cifar10", "celeb_a"],
                  "TFDS dataset (cifar10 32×32×3; celeb_a cropped and resized to 64×64×3).")
FLAGS = flags.FLAGS


def main(argv: list[str]) -> int:
  if len(argv) > 1:
    print(f"error: unexpected arguments {argv[1:]}", file=sys.stderr)
    return 2
  logging.set_verbosity(logging.WARNING)  # orbax logs every save at INFO
  from jaxgan.checkpoint import CorruptCheckpoint
  from jaxgan.data import DatasetUnavailable
  from jaxgan.loop import WorkdirError, train_run
  try:
    return train_run(train_flags.config_from_flags(dataset=FLAGS.dataset))
  except (DatasetUnavailable, CorruptCheckpoint, WorkdirError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1


if __name__ == "__main__":
  app.run(main, flags_parser=train_flags.parse_flags)
