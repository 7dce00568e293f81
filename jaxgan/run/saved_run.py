"""A finished (or running) run read back from its workdir: config, GAN, checkpoints, samples.

``SavedRun.open(workdir)`` reads ``config.json``, builds the run's :class:`~jaxgan.core.gan.GAN`
and lists its orbax checkpoints (the last ``max_to_keep`` a run keeps); ``state(step)``
restores one and ``samples(state, n, seed)`` draws from its generator, the EMA weights when
the run kept them. Used by ``experiments.score``, ``experiments.evaluate`` and
``experiments.sample``.
"""

from __future__ import annotations

import dataclasses
import json
import os

import jax
import numpy as np

from jaxgan import config as config_lib
from jaxgan.backend import xla_options
from jaxgan.config import Config
from jaxgan.core.build import build_gan
from jaxgan.core.gan import GAN, GANState
from jaxgan.data.datasets import load_images
from jaxgan.run import train_steps
from jaxgan.run.checkpoint import Checkpointer
from jaxgan.run.keys import eval_labels
from jaxgan.run.periodic import sample_in_chunks


class RunError(RuntimeError):
  """No run, no checkpoint, or a run that cannot be read, said in words."""


@dataclasses.dataclass
class SavedRun:
  workdir: str
  cfg: Config
  gan: GAN
  steps: list[int]

  @classmethod
  def open(cls, workdir: str, image_shape: tuple[int, ...]) -> SavedRun:
    cfg, steps = cls.config(workdir), cls.checkpoint_steps(workdir)
    recorded = cls.recorded(workdir)
    total = recorded.get("total_steps")  # the length a schedule ran over
    num_classes = recorded.get("num_classes", 0)
    return cls(
      workdir, cfg, build_gan(cfg, tuple(image_shape), total, num_classes=num_classes), steps
    )

  @classmethod
  def checkpoint_steps(cls, workdir: str) -> list[int]:
    """The steps of the run's checkpoints, in order; RunError when it has none."""
    ckpt = Checkpointer(os.path.join(workdir, "checkpoints"))
    try:
      steps = sorted(ckpt.steps())
    finally:
      ckpt.close()
    if not steps:
      raise RunError(f"{workdir} has no checkpoints")
    return steps

  @classmethod
  def config(cls, workdir: str) -> Config:
    """The run's config alone (to load its data before opening it)."""
    path = os.path.join(workdir, "config.json")
    if not os.path.exists(path):
      raise RunError(f"no run in {workdir} (no config.json)")
    try:
      return config_lib.load(path)
    except (config_lib.ConfigError, ValueError) as e:
      raise RunError(f"{path} is not a readable run config ({e})") from e

  @classmethod
  def image_shape(cls, workdir: str, data_dir: str | None = None) -> tuple[int, ...]:
    """The shape of the images the run trained on: recorded in its config.json, or (a run
    from before that) its dataset's as loaded now."""
    shape = cls.recorded(workdir).get("image_shape")
    if shape:
      return tuple(shape)
    cfg = cls.config(workdir)
    images = load_images(
      cfg.dataset, cfg.split, data_dir or cfg.data_dir, cfg.image_size, cfg.channels
    )
    return images.shape[1:]

  @classmethod
  def recorded(cls, workdir: str) -> dict:
    """Everything the run's config.json holds, its facts (``total_steps``, ...) included."""
    with open(os.path.join(workdir, "config.json")) as f:
      return json.load(f)

  def state(self, step: int | None = None) -> GANState:
    """The state of checkpoint ``step`` (default: the latest)."""
    step = self.steps[-1] if step is None else step
    if step not in self.steps:
      raise RunError(f"{self.workdir} has no checkpoint at step {step} (it has {self.steps})")
    ckpt = Checkpointer(os.path.join(self.workdir, "checkpoints"))
    try:
      return ckpt.restore(xla_options.jit_init(self.gan.init)(jax.random.key(0)), step)
    finally:
      ckpt.close()

  def generate(self, state: GANState, z, labels=None) -> np.ndarray:
    """G's images (floats in [-1, 1]) of latents ``z`` (and classes ``labels``, for a
    conditional G), from the EMA weights when kept."""
    chunks = sample_in_chunks(train_steps.make_sampler(self.gan), state, z, labels=labels)
    return np.concatenate([jax.device_get(c) for c in chunks])

  def sample_labels(self, num: int) -> np.ndarray | None:
    """The classes :meth:`samples` asks a conditional G for: 0, 1, …, K−1, 0, 1, … (None:
    unconditional)."""
    labels = eval_labels(self.gan, num)
    return None if labels is None else np.asarray(labels)

  def samples(self, state: GANState, num: int, seed: int = 0) -> np.ndarray:
    """``num`` images from latents drawn with ``seed`` (a conditional G: of the classes
    :meth:`sample_labels`); a :class:`RunError` when they are not finite (the run had
    diverged at that step)."""
    z = self.gan.latents(jax.random.key(seed), num)
    images = self.generate(state, z, self.sample_labels(num))
    if not np.isfinite(images).all():
      raise RunError(f"G's samples at step {int(state.step)} are not finite (the run diverged)")
    return images
