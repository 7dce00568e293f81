"""The configuration of a training run: one dataclass, the single source of every setting.

:class:`Config` lists every field with its default, its help text and its bounds or choices;
the command-line flags of the experiment scripts are generated from it
(``experiments/flags.py``). Make one with :func:`make_config`, which fills in what the loss and
the architecture imply (``wgan_gp`` brings ``penalty="gp"``, ``infogan`` its 64-dimensional
z) unless the caller sets those fields, and validates the result once (:func:`validate`, one
error type, :class:`ConfigError`). "Off" has one spelling per field: ``penalty="none"``,
``clip=0``, ``ema_decay=0``, ``consensus=0``, ``instance_noise=0``, ``d_norm="none"``.
``save`` and ``load`` write and read ``config.json``.

    cfg = make_config(loss="wgan_gp", arch="dcgan", n_disc=5)
    cfg.penalty, cfg.penalty_weight   # ("gp", 10.0)
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import re
import typing
from collections.abc import Callable
from typing import Any

from jaxgan.core import losses, optimizers, penalties, precision
from jaxgan.core.gan import UpdateOptions
from jaxgan.io import write_atomic
from jaxgan.nets import conditional as conditional_lib
from jaxgan.nets import models

IMAGE_DATASETS = ("mnist", "fashion_mnist", "cifar10", "celeb_a")
TOY_DATASETS = ("ring", "grid", "swissroll")
# Dataset values beyond the named ones: a prefix and what follows it.
OPEN_DATASETS = ("tfds:NAME[/CONFIG]", "folder:PATH")


def is_image_dataset(name: str) -> bool:
  return name in IMAGE_DATASETS or name.startswith(
    tuple(p.split(":")[0] + ":" for p in OPEN_DATASETS)
  )


# The Fréchet distance's name in records, per --features: FCD in the dataset classifier's
# features, FID in Inception-v3's (as papers report it).
DISTANCE_NAMES = {"classifier": "fcd", "inception": "fid"}


def distance_name(features: str) -> str:
  return DISTANCE_NAMES[features]


def dataset_tag(name: str) -> str:
  """A dataset's name as a file name: ``folder:~/photos/cats`` is ``folder-cats``,
  ``tfds:lsun/church_outdoor`` is ``lsun-church_outdoor``."""
  if name.startswith("folder:"):
    name = "folder-" + (os.path.basename(os.path.normpath(name[len("folder:") :])) or "root")
  return re.sub(r"[^A-Za-z0-9_.-]", "-", name.removeprefix("tfds:"))


class ConfigError(ValueError):
  """A setting that is out of range or contradicts another; the message names the flag."""


# What a setting is to a population of GANs trained by one program (jaxgan.sweeps.population):
# STATIC changes the compiled program, so members must share it; MEMBER is data that may
# differ between members (a learning rate, a seed); LENGTH is the run's length (shared by a
# group, the scan lengths compiled; a run alone may extend it on resume); DRIVER changes how the
# run is driven and what it writes, not what a step computes.
STATIC, MEMBER, LENGTH, DRIVER = "static", "member", "length", "driver"


@dataclasses.dataclass(frozen=True)
class Param:
  """What a setting sets besides itself: parameter ``name`` of ``owner`` (a loss or an
  optimizer) named ``of`` (``Param("loss", "began", "gamma")``)."""

  owner: str
  of: str
  name: str


def _field(
  default,
  help: str,
  role: str = STATIC,
  choices: Callable[[], tuple] | None = None,
  lower: float | None = None,
  upper: float | None = None,
  switch: bool = False,
  resumable: bool | None = None,
  sets: Param | None = None,
  patterns: tuple[str, ...] = (),
):
  """A setting, declared once: its default, its flag's help text, its role (STATIC, MEMBER,
  LENGTH or DRIVER), its choices (a function, so the registries are read when flags are made)
  and inclusive bounds. ``switch``: a MEMBER value whose being on (non-zero) changes the
  program, so members share whether it is on. ``resumable``: a resumed run may change it
  (default: LENGTH and DRIVER settings). ``sets``: the loss's or optimizer's own parameter it
  is. ``patterns``: values taken besides the choices, each a prefix ending in ``:`` and a
  placeholder (``folder:PATH``)."""
  meta = {
    "help": help,
    "role": role,
    "choices": choices,
    "lower": lower,
    "upper": upper,
    "switch": switch,
    "resumable": role in (LENGTH, DRIVER) if resumable is None else resumable,
    "sets": sets,
    "patterns": patterns,
  }
  return dataclasses.field(default=default, metadata=meta)


# Training steps of the feature classifier that scores samples (jaxgan.eval.quality); its test
# accuracy at this length is in BENCHMARKS.md, "The feature classifier".
CLASSIFIER_STEPS = 6000


def _penalty_choices() -> tuple:
  return ("none",) + penalties.PENALTIES.names()


@dataclasses.dataclass(frozen=True)
class Config:
  """Every setting of a run. Build it with :func:`make_config`, not ``Config(...)``: only
  that fills in what the loss and architecture imply, and validates."""

  # What to train.
  loss: str = _field("ns", "GAN objective.", choices=lambda: losses.LOSSES.names())
  arch: str = _field("mlp", "G and D architecture.", choices=lambda: models.ARCHS.names())
  dataset: str = _field(
    "mnist",
    "Dataset: TFDS images (cifar10 32×32×3; celeb_a cropped and resized to 64×64×3), any TFDS "
    "image dataset (tfds:NAME[/CONFIG]), a folder of images (folder:PATH; its first-level "
    "subfolders are the classes) or a 2-D toy.",
    choices=lambda: IMAGE_DATASETS + TOY_DATASETS,
    patterns=OPEN_DATASETS,
  )
  image_size: int = _field(
    0,
    "Side S of the images trained on: each is centre-cropped to a square and resized to S×S "
    "(antialiased bilinear; 0: the dataset's own size).",
    lower=0,
  )
  channels: int = _field(
    0,
    "Channels of the images trained on: 1 (grey) or 3 (colour); 0: the dataset's own.",
    lower=0,
    upper=3,
  )
  split: str = _field("train", "TFDS split to train on, e.g. train, test, train[:10%].")
  batch_size: int = _field(64, "Batch size.", lower=1)
  z_dim: int = _field(
    100,
    "Latent dimension (default: the architecture's own, 100; infogan 64; sndcgan and resnet 128).",
    lower=1,
  )
  d_norm: str = _field(
    "none",
    "D normalization (default: the architecture's own; sndcgan and resnet: spectral).",
    choices=lambda: models.D_NORMS,
  )
  compute_dtype: str = _field(
    "float32",
    "Dtype of G's and D's matrix products and "
    "convolutions; parameters, optimizer and model states stay "
    "float32 (bfloat16: mixed precision).",
    choices=lambda: tuple(sorted(precision.DTYPES)),
  )
  # Optimizers.
  optimizer: str = _field(
    "adam", "Optimizer of G and D (optax).", choices=lambda: optimizers.OPTIMIZERS.names()
  )
  lr: float = _field(2e-4, "Learning rate of G and D.", MEMBER, lower=0.0)
  g_lr: float | None = _field(None, "G's learning rate (default --lr).", MEMBER, lower=0.0)
  d_lr: float | None = _field(None, "D's learning rate (default --lr).", MEMBER, lower=0.0)
  beta1: float = _field(
    0.5, "Adam β1.", MEMBER, lower=0.0, upper=1.0, sets=Param("optimizer", "adam", "b1")
  )
  beta2: float = _field(
    0.999, "Adam β2.", MEMBER, lower=0.0, upper=1.0, sets=Param("optimizer", "adam", "b2")
  )
  rmsprop_decay: float = _field(
    0.9,
    "RMSProp's decay of its mean squared gradient.",
    MEMBER,
    lower=0.0,
    upper=1.0,
    sets=Param("optimizer", "rmsprop", "decay"),
  )
  grad_clip: float = _field(
    0.0,
    "Clip each player's gradient to this global norm before its optimizer "
    "(optax.clip_by_global_norm; 0: off).",
    MEMBER,
    lower=0.0,
  )
  lr_schedule: str = _field(
    "constant",
    "Learning-rate schedule of G and D over the run's steps: constant, linear decay to 0, or "
    "cosine decay to 0 (optax).",
    choices=lambda: optimizers.SCHEDULES.names(),
  )
  conditional: str = _field(
    "none",
    "Class-conditional G and D (labelled image datasets): concat (an embedding of y joined to "
    "z and to D's input; Mirza & Osindero 2014), projection (a projection D and class-"
    "conditional batch norm in G; Miyato & Koyama 2018; dcgan, sndcgan, resnet) or acgan (an "
    "auxiliary classifier D; Odena et al. 2017); none: unconditional.",
    choices=lambda: ("none",) + conditional_lib.CONDITIONALS,
  )
  acgan_weight: float = _field(
    1.0,
    "With --conditional=acgan: weight of the auxiliary classifier's cross-entropy in both "
    "players' losses (1 in Odena et al. 2017).",
    lower=0.0,
  )
  # Training controls.
  penalty: str = _field(
    "none",
    "D regularizer (default: the loss's own; wgan_gp: gp, dragan: dragan).",
    choices=_penalty_choices,
  )
  penalty_weight: float = _field(10.0, "λ of gp/dragan or γ of r1/r2.", MEMBER, lower=0.0)
  n_disc: int = _field(1, "D steps per G step.", lower=1)
  clip: float = _field(
    0.0,
    "Clip D's weights to [-c, c] (default: wgan 0.01; 0: off).",
    MEMBER,
    lower=0.0,
    switch=True,
  )
  ema_decay: float = _field(
    0.0,
    "Decay of the EMA of G's weights used for samples (0: off).",
    MEMBER,
    lower=0.0,
    upper=1.0,
    switch=True,
  )
  instance_noise: float = _field(
    0.0, "Std of Gaussian noise on D's inputs (0: off).", MEMBER, lower=0.0, switch=True
  )
  simultaneous: bool = _field(
    False, "Simultaneous instead of alternating G and D steps (needs --n_disc=1)."
  )
  began_gamma: float = _field(
    0.5,
    "BEGAN's diversity ratio γ (Berthelot et al. 2017).",
    MEMBER,
    lower=0.0,
    upper=1.0,
    sets=Param("loss", "began", "gamma"),
  )
  began_lambda_k: float = _field(
    0.001,
    "BEGAN's learning rate λ_k of k_t.",
    MEMBER,
    lower=0.0,
    sets=Param("loss", "began", "lambda_k"),
  )
  unroll: int = _field(
    0,
    "Unrolled GAN: G's loss against D advanced by this many optimizer steps, differentiated "
    "through them (Metz et al. 2017); 0: off.",
    lower=0,
  )
  pack: int = _field(
    1,
    "PacGAN: D judges packs of this many samples, all real or all generated (Lin et al. "
    "2018); --batch_size counts samples and must be a multiple of it. 1: off.",
    lower=1,
  )
  consensus: float = _field(
    0.0,
    "γ of consensus optimization (Mescheder et al. 2017; 0: off); needs --simultaneous.",
    MEMBER,
    lower=0.0,
    switch=True,
  )
  # Length and randomness.
  steps: int | None = _field(None, "Number of G updates (overrides --epochs).", LENGTH, lower=1)
  epochs: float = _field(
    100.0, "Epochs of (examples // batch_size) sampled batches each.", LENGTH, lower=0.0
  )
  seed: int = _field(0, "Random seed.", MEMBER)
  # Outputs and the loop.
  workdir: str | None = _field(
    None,
    "Output folder (default runs/<dataset>_<arch>_<loss>_s<seed>).",
    MEMBER,
    resumable=True,
  )
  sample_every: int = _field(
    1000, "Write a sample grid every N steps (0: only at the end).", DRIVER, lower=0
  )
  ckpt_every: int = _field(5000, "Checkpoint every N steps (0: only at the end).", DRIVER, lower=0)
  log_every: int = _field(100, "Read and log metrics every N steps.", DRIVER, lower=1)
  eval_every: int = _field(
    0,
    "Score G every N steps: a run logs every metric of jaxgan.eval.quality into metrics.jsonl, a "
    "sweep each member's FCD into its eval.jsonl, keeping the best (0: a sweep scores at the "
    "end only, a run not at all).",
    DRIVER,
    lower=0,
  )
  eval_samples: int = _field(
    5000, "Samples of G per evaluation (0: a sweep scores nothing).", DRIVER, lower=0
  )
  features: str = _field(
    "classifier",
    "Feature space of the scores (--eval_every, sweeps, experiments.score and evaluate): the "
    "dataset's own classifier (trained once, cached) or the FID Inception-v3 (as papers; needs "
    "its weights: --inception_weights).",
    DRIVER,
    choices=lambda: tuple(DISTANCE_NAMES),
  )
  inception_weights: str | None = _field(
    None,
    "The FID Inception weight file (pt_inception-2015-12-05-6726825d.pth; default: downloaded "
    "once into $JAXGAN_CACHE/inception where online).",
    DRIVER,
  )
  classifier_steps: int = _field(
    CLASSIFIER_STEPS,
    "Training steps of the evaluations' feature classifier (cached).",
    DRIVER,
    lower=1,
  )
  steps_per_call: int | None = _field(
    None,
    "Updates per device dispatch (one lax.scan); default: the measured best for the platform.",
    DRIVER,
    lower=1,
  )
  devices: int = _field(
    0,
    "Local devices one run's batch is split over (data parallel; 1: off; 0: all of them when "
    "the batch divides by their number, else 1). config.json records the number used.",
    DRIVER,
    lower=0,
  )
  data_placement: str = _field(
    "auto",
    "Where the dataset lives while training: on the device (each step samples its batch "
    "there), on the host (each dispatch's batches gathered there and sent one dispatch "
    "ahead: the same batches and numbers), or auto (host when it takes over a quarter of the "
    "device's memory). config.json records the one used.",
    DRIVER,
    choices=lambda: ("auto", "device", "host"),
  )
  resume: bool = _field(False, "Continue from the latest checkpoint in --workdir.", DRIVER)
  data_dir: str | None = _field(
    None, "TFDS data directory (default $TFDS_DATA_DIR or ~/tensorflow_datasets).", DRIVER
  )
  progress: bool = _field(True, "Show a progress bar.", DRIVER)
  compilation_cache: bool = _field(
    True,
    "Keep compiled executables in JAX's persistent "
    "compilation cache ($JAXGAN_CACHE/xla, default "
    "~/.cache/jaxgan/xla), so a rerun skips compiling.",
    DRIVER,
  )


FIELDS = tuple(f.name for f in dataclasses.fields(Config))


def fields_where(**meta) -> tuple[str, ...]:
  """The settings whose declaration has these metadata values, e.g.
  ``fields_where(role=MEMBER)`` or ``fields_where(resumable=True)``."""
  return tuple(
    f.name for f in dataclasses.fields(Config) if all(f.metadata[k] == v for k, v in meta.items())
  )


# Fields that may differ between a run and its resumption: they change how the run is
# driven and what it writes, not what it computes.
RESUMABLE_CHANGES = fields_where(resumable=True)


def params_of(cfg: Config, owner: str, of: str) -> dict[str, Any]:
  """{parameter: value} of the settings that set ``owner`` ``of``'s own parameters
  (``params_of(cfg, "loss", "began") == {"gamma": 0.5, "lambda_k": 0.001}``)."""
  found = {}
  for f in dataclasses.fields(Config):
    sets = f.metadata["sets"]
    if sets is not None and (sets.owner, sets.of) == (owner, of):
      found[sets.name] = getattr(cfg, f.name)
  return found


def total_steps(cfg: Config, num_examples: int) -> int:
  """The run's number of updates: ``steps``, or ``epochs`` of the data's full batches."""
  if cfg.steps is not None:
    return cfg.steps
  return int(round(cfg.epochs * (num_examples // cfg.batch_size)))


def implied(loss: str, arch: str) -> dict[str, Any]:
  """The settings a loss and an architecture bring unless a configuration sets them."""
  spec = models.ARCHS.get(arch)
  return {"z_dim": spec.z_dim, "d_norm": spec.d_norm, **losses.LOSSES.get(loss).implies}


def make_config(**overrides) -> Config:
  """A validated :class:`Config`: the defaults, then what ``loss`` and ``arch`` imply, then
  ``overrides``. Raises :class:`ConfigError` naming the first bad setting."""
  unknown = sorted(set(overrides) - set(FIELDS))
  if unknown:
    raise ConfigError(f"unknown setting(s) {', '.join(unknown)}")
  base = Config()
  loss, arch = overrides.get("loss", base.loss), overrides.get("arch", base.arch)
  for name, value, registry in (("loss", loss, losses.LOSSES), ("arch", arch, models.ARCHS)):
    if value not in registry:
      raise ConfigError(f"--{name}={value}: choose one of {'|'.join(registry.names())}")
  cfg = dataclasses.replace(base, **{**implied(loss, arch), **overrides})
  if cfg.workdir is None:
    name = dataset_tag(cfg.dataset)
    cfg = dataclasses.replace(cfg, workdir=f"runs/{name}_{cfg.arch}_{cfg.loss}_s{cfg.seed}")
  validate(cfg)
  return cfg


def validate(cfg: Config) -> None:
  """Checks every field's choices and bounds, then the rules that tie fields together."""
  values = dataclasses.asdict(cfg)
  for f in dataclasses.fields(Config):
    value, meta = values[f.name], f.metadata
    _check_type(f.name, value)
    if value is None or isinstance(value, bool):
      continue
    if isinstance(value, float) and not math.isfinite(value):
      raise ConfigError(f"--{f.name}={value}: must be a finite number")
    if meta["choices"] is not None and not _chosen(value, meta):
      shown = meta["choices"]() + meta["patterns"]
      raise ConfigError(f"--{f.name}={value}: choose one of {'|'.join(shown)}")
    if meta["lower"] is not None and value < meta["lower"]:
      raise ConfigError(f"--{f.name}={value}: must be at least {meta['lower']}")
    if meta["upper"] is not None and value > meta["upper"]:
      raise ConfigError(f"--{f.name}={value}: must be at most {meta['upper']}")
  _validate_combination(cfg)


def _chosen(value, meta) -> bool:
  prefixes = tuple(p.split(":")[0] + ":" for p in meta["patterns"])
  if isinstance(value, str) and value.startswith(prefixes):
    return len(value) > len(next(p for p in prefixes if value.startswith(p)))
  return value in meta["choices"]()


@functools.cache
def _types() -> dict[str, tuple[type, ...]]:
  """Each field's accepted Python types, from its annotation (an int is a float too)."""
  out = {}
  for name, hint in typing.get_type_hints(Config).items():
    kinds = typing.get_args(hint) or (hint,)
    out[name] = kinds + ((int,) if float in kinds else ())
  return out


def _check_type(name: str, value) -> None:
  """Refuses a value of the wrong type (a spec file's ``"fast"`` for ``lr``, say); a bool is
  no int here, nor an int a bool."""
  kinds = _types()[name]
  if not isinstance(value, kinds) or isinstance(value, bool) != (bool in kinds):
    want = " or ".join(dict.fromkeys("None" if k is type(None) else k.__name__ for k in kinds))
    raise ConfigError(f"--{name}={value!r}: must be {want}, not {type(value).__name__}")


def _validate_combination(cfg: Config) -> None:
  spec = models.ARCHS.get(cfg.arch)
  if cfg.d_norm not in spec.d_norms:
    raise ConfigError(
      f"--arch={cfg.arch} takes --d_norm={' or '.join(spec.d_norms)}, not "
      f"{cfg.d_norm}"
      + (
        " (the classic network has no D normalization; use --arch=dcgan, infogan or sndcgan)"
        if cfg.arch == "mlp"
        else ""
      )
    )
  try:
    update_options(cfg)  # the update's own rules, checked where they are written
  except ValueError as e:
    raise ConfigError(str(e)) from None
  if cfg.channels not in (0, 1, 3):
    raise ConfigError(
      f"--channels={cfg.channels}: choose 1 (grey), 3 (colour) or 0 (the dataset's own)"
    )
  _validate_conditional(cfg, spec)
  if cfg.batch_size % cfg.pack:
    raise ConfigError(
      f"--pack={cfg.pack} must divide --batch_size={cfg.batch_size} (D sees batch_size/pack packs)"
    )


def _validate_conditional(cfg: Config, spec: models.ArchSpec) -> None:
  if cfg.conditional == "none":
    return
  if not is_image_dataset(cfg.dataset):
    raise ConfigError(
      f"--conditional={cfg.conditional} needs a labelled image dataset, not --dataset={cfg.dataset}"
    )
  if cfg.conditional not in spec.conditionals:
    takes = " or ".join(spec.conditionals) or "no class conditioning"
    raise ConfigError(f"--arch={cfg.arch} takes --conditional={takes}, not {cfg.conditional}")
  if losses.LOSSES.get(cfg.loss).needs_autoencoder:
    raise ConfigError(
      f"--loss={cfg.loss}'s D is an autoencoder, which takes no class: no --conditional"
    )


def update_options(cfg: Config) -> UpdateOptions:
  """The update's options of a :class:`Config` (whose "off" is none or 0)."""
  penalty = None if cfg.penalty == "none" else cfg.penalty
  return UpdateOptions(
    penalty=penalty,
    penalty_weight=cfg.penalty_weight if penalty else 0.0,
    n_disc=cfg.n_disc,
    clip=cfg.clip or None,
    simultaneous=cfg.simultaneous,
    ema_decay=cfg.ema_decay or None,
    instance_noise=cfg.instance_noise,
    consensus=cfg.consensus,
    unroll=cfg.unroll,
    pack=cfg.pack,
    conditional=None if cfg.conditional == "none" else cfg.conditional,
    class_weight=cfg.acgan_weight,
  )


def to_dict(cfg: Config) -> dict[str, Any]:
  return dataclasses.asdict(cfg)


def save(cfg: Config, path: str, **extra) -> None:
  """Writes ``config.json`` (atomically): every field, plus ``extra`` facts of the run
  (platform, ...)."""
  text = json.dumps({**to_dict(cfg), **extra}, indent=2, allow_nan=False).encode()
  write_atomic(path, lambda f: f.write(text))


# How configs written before the single Config spelled "the default" and "off".
_LEGACY_DEFAULTS = ("penalty", "penalty_weight", "clip", "z_dim", "d_norm")


def load(path: str) -> Config:
  """The config saved at ``path`` (extra facts ignored). A config.json written before the
  single :class:`Config` wrote None for "the loss's or architecture's default"; that reads
  as the value it meant."""
  with open(path) as f:
    saved = json.load(f)
  values = {k: v for k, v in saved.items() if k in FIELDS}
  for name in _LEGACY_DEFAULTS:
    if values.get(name, 0) is None:
      del values[name]
  return make_config(**values)


def differences(saved: Config, current: Config) -> dict[str, tuple[Any, Any]]:
  """{field: (saved, current)} of the fields that a resumed run may not change."""
  old, new = dataclasses.asdict(saved), dataclasses.asdict(current)
  free = set(RESUMABLE_CHANGES)
  if saved.lr_schedule != "constant":  # the schedule spans the run's length: keep it
    free -= set(fields_where(role=LENGTH))
  return {
    name: (old[name], new[name]) for name in FIELDS if name not in free and old[name] != new[name]
  }
