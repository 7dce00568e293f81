"""The randomness of a run, named: every key a run uses derives from its seed here.

A run's keys depend only on its seed, so a population member (:mod:`jaxgan.sweeps.population`)
draws exactly what the same configuration draws alone, and a resumed run what an uninterrupted
one draws (the train key is folded with the step inside the compiled step).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class RunKeys(NamedTuple):
  init: jax.Array  # G's and D's initial parameters
  sample: jax.Array  # the fixed latents of the sample pictures
  train: jax.Array  # batches and the update's noise, folded with the step count
  toy_data: jax.Array  # the points of a 2-D toy dataset


def run_keys(seed: int) -> RunKeys:
  """The keys of a run with this seed: ``fold_in(key(seed), i)`` for i = 0, 1, 2, 3."""
  root = jax.random.key(seed)
  return RunKeys(*(jax.random.fold_in(root, i) for i in range(len(RunKeys._fields))))


def eval_latents(gan, num: int) -> jax.Array:
  """The latents every evaluation draws G's samples from, the same for every run and every
  step, so that scores compare like with like."""
  return gan.latents(jax.random.key(0), num)


def eval_labels(gan, num: int) -> jax.Array | None:
  """The classes every evaluation asks a class-conditional G for with :func:`eval_latents`:
  0, 1, …, K−1, 0, 1, … (each class num/K times when K divides num); None when unconditional."""
  return jnp.arange(num, dtype=jnp.int32) % gan.num_classes if gan.num_classes else None


def class_rows(gan, key: jax.Array, columns: int) -> tuple[jax.Array, jax.Array]:
  """A class-conditional G's picture inputs: one row per class, the same ``columns`` latents
  (drawn with ``key``) in every row, so a column shows one z across the classes.
  Returns z (K·columns, z_dim) and their classes (K·columns,), row by row."""
  z = gan.latents(key, columns)
  labels = jnp.repeat(jnp.arange(gan.num_classes, dtype=jnp.int32), columns)
  return jnp.tile(z, (gan.num_classes, 1)), labels
