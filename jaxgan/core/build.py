"""Building the :class:`~jaxgan.core.gan.GAN` a :class:`~jaxgan.config.Config` describes.

    gan = build_gan(make_config(loss="hinge", arch="sndcgan"), (32, 32, 3), total_steps=10_000)

Each piece comes from its registry by name (architecture, loss, optimizer, schedule) with the
parameters that the config's settings declare as theirs (:func:`jaxgan.config.params_of`), so
adding a loss or optimizer parameter is one setting in ``Config`` and nothing here.
"""

from __future__ import annotations

import math

from jaxgan import config as config_lib
from jaxgan.config import Config
from jaxgan.core import optimizers, precision
from jaxgan.core.gan import GAN
from jaxgan.core.losses import LOSSES
from jaxgan.nets import conditional, models

PLAYERS = ("g", "d")


def optimizer_hyperparams(cfg: Config, player: str) -> dict[str, float]:
  """The hyperparameters that player ``"g"`` or ``"d"``'s optimizer keeps in its state: the
  learning rate, the optimizer's own (Adam's ``b1``, ``b2``) and, with gradient clipping, its
  ``max_norm`` (inf where a population member clips while this one does not: the identity)."""
  lr = {"g": cfg.g_lr, "d": cfg.d_lr}[player] or cfg.lr
  hp = {"learning_rate": lr, **config_lib.params_of(cfg, "optimizer", cfg.optimizer)}
  return hp | {"max_norm": cfg.grad_clip or math.inf}


def optimizer(cfg: Config, player: str, total_steps: int | None = None):
  """Player ``"g"`` or ``"d"``'s optax optimizer (:func:`jaxgan.core.optimizers.make`). A schedule
  runs over the player's optimizer steps: ``total_steps`` updates, ``n_disc`` D steps each."""
  schedule = None
  if cfg.lr_schedule != "constant":
    if total_steps is None:
      raise ValueError(f"--lr_schedule={cfg.lr_schedule} needs the run's total_steps")
    steps = total_steps * (cfg.n_disc if player == "d" else 1)
    schedule = optimizers.SCHEDULES.get(cfg.lr_schedule)(steps)
  hp = optimizer_hyperparams(cfg, player)
  lr, _ = hp.pop("learning_rate"), hp.pop("max_norm")
  return optimizers.make(cfg.optimizer, lr, cfg.grad_clip, schedule, **hp)


def build_gan(
  cfg: Config,
  image_shape,
  total_steps: int | None = None,
  axis_name: str | None = None,
  num_classes: int = 0,
) -> GAN:
  """The GAN a :class:`~jaxgan.config.Config` describes, for data of ``image_shape``: its
  architecture (an autoencoder D when the loss needs one; conditioned on ``num_classes``
  classes as ``cfg.conditional`` says), both computing in ``cfg.compute_dtype``, the loss
  with its own parameters, the optimizers of G and D with their hyperparameters in their
  states (a learning-rate schedule over ``total_steps``), and the update's options.
  ``axis_name``: the pmap axis of the update and batch norm."""
  loss = LOSSES.get(cfg.loss)
  loss = loss.with_params(**config_lib.params_of(cfg, "loss", cfg.loss))
  if cfg.conditional == "none":
    num_classes = 0
    g, d = models.build(
      cfg.arch, image_shape, cfg.z_dim, axis_name, cfg.d_norm,
      autoencoder=loss.needs_autoencoder, pack=cfg.pack,
    )  # fmt: skip
  else:
    g, d = conditional.build(
      cfg.arch,
      image_shape,
      cfg.conditional,
      num_classes,
      cfg.z_dim,
      axis_name,
      cfg.d_norm,
      cfg.pack,
    )
  return GAN(
    generator=precision.with_compute_dtype(g, cfg.compute_dtype),
    discriminator=precision.with_compute_dtype(d, cfg.compute_dtype),
    loss=loss,
    g_tx=optimizer(cfg, "g", total_steps),
    d_tx=optimizer(cfg, "d", total_steps),
    image_shape=tuple(image_shape),
    z_dim=cfg.z_dim,
    z_prior=models.ARCHS.get(cfg.arch).z_prior,
    options=config_lib.update_options(cfg),
    axis_name=axis_name,
    num_classes=num_classes,
  )
