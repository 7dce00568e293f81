"""2-D toy distributions for mode-collapse studies, sampled on the device.

Every sampler has the signature ``sample(key, n) -> (n, 2)`` floats; ``modes`` lists the
mixture centres (for counting covered modes). Parameters: centre positions and spread.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.registry import Registry


@dataclasses.dataclass(frozen=True)
class Toy:
  """``sample(key, n)`` draws; ``locate(u)`` maps quantiles u ∈ [0, 1) of shape (n,) to the
  noiseless points, so that ``locate(U) + std · N(0, I)`` with U uniform has the law of
  ``sample`` (a generator built from Gaussian latents can reproduce the distribution)."""

  sample: Callable[[jax.Array, int], jax.Array]
  modes: np.ndarray  # (k, 2) centres, or empty for a continuous distribution
  std: float  # spread of each mode (for the 3σ quality radius)
  locate: Callable[[jax.Array], jax.Array]


TOYS: Registry[Callable[..., Toy]] = Registry("toy distribution")


def _mixture(centres: np.ndarray, std: float) -> Toy:
  centres_j = jnp.asarray(centres, jnp.float32)

  def sample(key, n):
    k_c, k_n = jax.random.split(key)
    which = jax.random.randint(k_c, (n,), 0, len(centres))
    return centres_j[which] + std * jax.random.normal(k_n, (n, 2))

  def locate(u):  # mode ⌊uK⌋, each with probability 1/K as randint draws them
    return centres_j[jnp.minimum((u * len(centres)).astype(jnp.int32), len(centres) - 1)]

  return Toy(sample, np.asarray(centres, np.float32), std, locate)


def ring_centres(num_modes: int = 8, radius: float = 2.0) -> np.ndarray:
  """Centres at angles 2πk/K, k = 0…K−1. (linspace(0, 2π, K) would put the first and the
  last on top of each other: endpoint=False is the fix.)"""
  angles = np.linspace(0.0, 2 * math.pi, num_modes, endpoint=False)
  return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


@TOYS.register("ring")
def ring(num_modes: int = 8, radius: float = 2.0, std: float = 0.02) -> Toy:
  """A ring of ``num_modes`` Gaussians of std ``std`` at distance ``radius`` from 0."""
  return _mixture(ring_centres(num_modes, radius), std)


@TOYS.register("grid")
def grid(side: int = 5, spacing: float = 2.0, std: float = 0.02) -> Toy:
  """A side×side grid of Gaussians, ``spacing`` apart, centred on 0 (5×5 = 25 modes)."""
  axis = (np.arange(side) - (side - 1) / 2) * spacing
  xx, yy = np.meshgrid(axis, axis)
  return _mixture(np.stack([xx.ravel(), yy.ravel()], axis=1), std)


@TOYS.register("swissroll")
def swiss_roll(scale: float = 0.25, std: float = 0.05) -> Toy:
  """The 2-D Swiss roll: t ~ U[1.5π, 4.5π], x = scale·(t cos t, t sin t) + N(0, std²)."""

  def locate(u):
    t = 1.5 * math.pi + 3 * math.pi * u
    return scale * jnp.stack([t * jnp.cos(t), t * jnp.sin(t)], axis=1)

  def sample(key, n):
    k_t, k_n = jax.random.split(key)
    return locate(jax.random.uniform(k_t, (n,))) + std * jax.random.normal(k_n, (n, 2))

  return Toy(sample, np.zeros((0, 2), np.float32), std, locate)


def mode_coverage(samples: np.ndarray, toy: Toy, min_count: int = 1) -> dict:
  r"""The mode metrics of VEEGAN (Srivastava et al. 2017, arXiv:1705.07761) and PacGAN (Lin et
  al. 2018, arXiv:1712.04086), as PacGAN's code computes them (``MetricLogger`` in
  fjxmlzn/PacGAN): each sample is assigned to its nearest centre and is *high quality* when
  it lies within 3σ of it; a mode is *covered* when at least ``min_count`` high-quality
  samples are assigned to it (their code: 1). With q the histogram of the high-quality samples
  over the K modes, normalized, the reverse KL from the uniform mode distribution is

      KL(q ‖ U) = Σ_k q_k log(q_k K)   (0 when every mode gets as many, log K for one mode),

  None when no sample is of high quality."""
  if len(toy.modes) == 0:
    return {}
  d = np.linalg.norm(samples[:, None, :] - toy.modes[None, :, :], axis=2)
  nearest, dist = d.argmin(axis=1), d.min(axis=1)
  good = dist <= 3 * toy.std
  counts = np.bincount(nearest[good], minlength=len(toy.modes))
  q = counts / max(counts.sum(), 1)
  kl = float(np.sum(q[q > 0] * np.log(q[q > 0] * len(q)))) if counts.sum() else None
  return {
    "modes_covered": int((counts >= min_count).sum()),
    "num_modes": len(toy.modes),
    "high_quality_fraction": float(good.mean()),
    "mode_kl": kl,
  }
