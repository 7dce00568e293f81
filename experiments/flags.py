"""The training flags shared by every experiment script, and their parsing.

A bad value prints the reason (with the choices) and exits with code 2.
"""
from __future__ import annotations

import sys

from absl import flags

from jaxgan import losses, models, penalties, precision
from jaxgan.loop import TrainConfig

D = TrainConfig()

flags.DEFINE_enum("loss", D.loss, losses.LOSSES.names(), "GAN objective.")
flags.DEFINE_enum("arch", D.arch, models.ARCHS.names(), "G and D architecture.")
flags.DEFINE_string("split", D.split, "TFDS split to train on, e.g. train, test, train[:10%].")
flags.DEFINE_integer("batch_size", D.batch_size, "Batch size.", lower_bound=1)
flags.DEFINE_float("lr", D.lr, "Adam learning rate of G and D.", lower_bound=0.0)
flags.DEFINE_float("g_lr", None, "G's learning rate (default --lr).", lower_bound=0.0)
flags.DEFINE_float("d_lr", None, "D's learning rate (default --lr).", lower_bound=0.0)
flags.DEFINE_float("beta1", D.beta1, "Adam β1.", lower_bound=0.0, upper_bound=1.0)
flags.DEFINE_float("beta2", D.beta2, "Adam β2.", lower_bound=0.0, upper_bound=1.0)
flags.DEFINE_integer("z_dim", None, "Latent dimension (default: the architecture's own, "
                     "100; infogan 64; sndcgan 128).", lower_bound=1)
flags.DEFINE_enum("penalty", None, ("none",) + penalties.PENALTIES.names(),
                  "D regularizer (default: the loss's own, wgan_gp: gp, dragan: dragan).")
flags.DEFINE_float("penalty_weight", None, "λ of gp/dragan or γ of r1/r2 (default 10).",
                   lower_bound=0.0)
flags.DEFINE_integer("n_disc", D.n_disc, "D steps per G step.", lower_bound=1)
flags.DEFINE_float("clip", None, "Clip D's weights to [-c, c] (default: wgan 0.01, else off; "
                   "0 turns it off).", lower_bound=0.0)
flags.DEFINE_float("ema_decay", D.ema_decay, "Decay of the EMA of G's weights used for "
                   "samples (0: off).", lower_bound=0.0, upper_bound=1.0)
flags.DEFINE_float("instance_noise", D.instance_noise, "Std of Gaussian noise on D's inputs.",
                   lower_bound=0.0)
flags.DEFINE_boolean("simultaneous", D.simultaneous, "Simultaneous instead of alternating "
                     "G and D steps (needs --n_disc=1).")
flags.DEFINE_float("consensus", D.consensus, "γ of consensus optimization (Mescheder et "
                   "al. 2017); needs --simultaneous.", lower_bound=0.0)
flags.DEFINE_enum("d_norm", None, models.D_NORMS, "D normalization (default: the "
                  "architecture's own; sndcgan: spectral, others none).")
flags.DEFINE_enum("compute_dtype", D.compute_dtype, sorted(precision.DTYPES),
                  "Dtype of G's and D's matrix products and convolutions; parameters, optimizer "
                  "and model states stay float32 (bfloat16: mixed precision).")
flags.DEFINE_integer("steps", None, "Number of G updates (overrides --epochs).", lower_bound=1)
flags.DEFINE_float("epochs", D.epochs,
                   "Epochs of (examples // batch_size) sampled batches each.", lower_bound=0.0)
flags.DEFINE_integer("seed", D.seed, "Random seed.")
flags.DEFINE_string("workdir", None, "Output folder (default runs/<dataset>_<arch>_<loss>_s<seed>).")
flags.DEFINE_integer("sample_every", D.sample_every, "Write a sample grid every N steps "
                     "(0: only at the end).", lower_bound=0)
flags.DEFINE_integer("ckpt_every", D.ckpt_every, "Checkpoint every N steps "
                     "(0: only at the end).", lower_bound=0)
flags.DEFINE_integer("log_every", D.log_every, "Read and log metrics every N steps.",
                     lower_bound=1)
flags.DEFINE_integer("steps_per_call", None, "Updates per device dispatch (one lax.scan); "
                     "default: the measured best for the platform.", lower_bound=1)
flags.DEFINE_boolean("resume", False, "Continue from the latest checkpoint in --workdir.")
flags.DEFINE_string("data_dir", None, "TFDS data directory (default $TFDS_DATA_DIR or "
                    "~/tensorflow_datasets).")
flags.DEFINE_boolean("progress", True, "Show a progress bar.")
flags.DEFINE_boolean("compilation_cache", True, "Keep compiled executables in JAX's "
                     "persistent compilation cache ($JAXGAN_CACHE/xla, default "
                     "~/.cache/jaxgan/xla), so a rerun or a sweep's next run skips compiling.")
FLAGS = flags.FLAGS

_FIELDS = ("loss", "arch", "split", "batch_size", "lr", "g_lr", "d_lr", "beta1", "beta2",
           "z_dim", "penalty", "penalty_weight", "n_disc", "clip", "ema_decay",
           "instance_noise", "simultaneous", "consensus", "d_norm", "compute_dtype", "steps",
           "epochs", "seed", "sample_every", "ckpt_every", "log_every", "steps_per_call", "resume",
           "data_dir", "progress")


def parse_flags(argv: list[str]) -> list[str]:
  """Parses flags; a bad value prints the reason (with the choices) and exits with code 2."""
  try:
    rest = FLAGS(argv)
  except flags.Error as e:
    print(f"error: {e}\nRun with --helpshort for the flags.", file=sys.stderr)
    sys.exit(2)
  if FLAGS.simultaneous and FLAGS.n_disc != 1:
    print("error: --simultaneous needs --n_disc=1", file=sys.stderr)
    sys.exit(2)
  if FLAGS.consensus and not FLAGS.simultaneous:
    print("error: --consensus is a simultaneous update: add --simultaneous", file=sys.stderr)
    sys.exit(2)
  if FLAGS.arch == "mlp" and FLAGS.d_norm not in (None, "none"):
    print("error: --arch=mlp is the classic network without D normalization; "
          "use --arch=dcgan, infogan or sndcgan for --d_norm", file=sys.stderr)
    sys.exit(2)
  if FLAGS.compilation_cache:
    from jaxgan.cache import enable_compilation_cache
    enable_compilation_cache()
  return rest


def config_from_flags(**extra) -> TrainConfig:
  """A TrainConfig from the parsed flags, plus ``extra`` fields (e.g. dataset)."""
  values = {name: getattr(FLAGS, name) for name in _FIELDS}
  values.update(extra)
  if not FLAGS.workdir:
    values["workdir"] = (f"runs/{values.get('dataset', 'data')}_{FLAGS.arch}_{FLAGS.loss}"
                         f"_s{FLAGS.seed}")
  else:
    values["workdir"] = FLAGS.workdir
  return TrainConfig(**values)
