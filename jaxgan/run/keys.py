"""The randomness of a run, named: every key a run uses derives from its seed here.

A run's keys depend only on its seed, so a population member (:mod:`jaxgan.sweeps.population`)
draws exactly what the same configuration draws alone, and a resumed run what an uninterrupted
one draws (the train key is folded with the step inside the compiled step).
"""

from __future__ import annotations

from typing import NamedTuple

import jax


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
