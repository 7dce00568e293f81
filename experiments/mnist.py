r"""Train a GAN on MNIST, Fashion-MNIST, CIFAR-10 or CelebA (64×64).

  python -m experiments.mnist --loss=ns
  python -m experiments.mnist --loss=wgan_gp --arch=infogan --n_disc=5
  python -m experiments.mnist --loss=hinge --arch=sndcgan --dataset=fashion_mnist --epochs=5

Every field of jaxgan.config.Config is a flag (experiments/flags.py); one run over several
processes' devices (hosts): experiments/runtime.py. Exit codes: 0 done;
1 missing data, unreadable checkpoint or a workdir conflict; 2 bad flags; 3 the run diverged
(non-finite losses).
"""

from __future__ import annotations

import sys

from absl import app, flags, logging

from experiments import flags as config_flags
from experiments import runtime
from jaxgan.config import IMAGE_DATASETS, OPEN_DATASETS, is_image_dataset
from jaxgan.data.datasets import DatasetUnavailable
from jaxgan.eval.inception_scorer import WeightsUnavailable
from jaxgan.run.checkpoint import CorruptCheckpoint
from jaxgan.run.driver import WorkdirError, train_run

config_flags.define_config_flags()
flags.adopt_module_key_flags(config_flags)  # --help lists them as this command's
flags.adopt_module_key_flags(runtime)


def main(argv: list[str]) -> int:
  if len(argv) > 1:
    print(f"error: unexpected arguments {argv[1:]}", file=sys.stderr)
    return 2
  logging.set_verbosity(logging.WARNING)  # orbax logs every save at INFO
  cfg = config_flags.config_from_flags()
  if not is_image_dataset(cfg.dataset):
    print(
      f"error: --dataset={cfg.dataset} is a 2-D toy: train it with experiments.toy2d; "
      f"image datasets: {'|'.join(IMAGE_DATASETS + OPEN_DATASETS)}",
      file=sys.stderr,
    )
    return 2
  if runtime.flag_error():
    print(f"error: {runtime.flag_error()}", file=sys.stderr)
    return 2
  runtime.start()
  try:
    return train_run(cfg)
  except (DatasetUnavailable, CorruptCheckpoint, WorkdirError, WeightsUnavailable) as e:
    print(f"error: {e}", file=sys.stderr)
    return getattr(e, "exit_code", 1)


if __name__ == "__main__":
  app.run(main, flags_parser=config_flags.parse_flags)
