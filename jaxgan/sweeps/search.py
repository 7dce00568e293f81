"""Search spaces of a sweep: grids, random draws, and the presets of Lucic et al. 2018.

An axis is a config field's set of values: a :class:`Choice`, a :class:`Uniform` or a
:class:`LogUniform` (``10^U[a, b]``). :func:`grid` crosses lists of values; :func:`draw` draws
random points from axes with Python's ``random.Random(seed)``, in a fixed order, so the same
seed gives the same members on any machine.

The presets follow "Are GANs Created Equal?" (Lucic et al. 2018, arXiv:1711.10337) as their
code states it (google/compare_gan, branch ``v1``, ``compare_gan/src/params.py`` and
``generate_tasks_lib.py``): each loss has its recommended setting (``lucic_defaults``, the
first member of every search) and a wide and a narrow search space. compare_gan draws a
discrete axis by ``random.choice`` of its listed values (so D steps are 1 or 5) and a
continuous one uniformly, in log10 where marked.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from typing import Any


@dataclasses.dataclass(frozen=True)
class Choice:
  values: tuple

  def draw(self, rng: random.Random):
    return rng.choice(self.values)


@dataclasses.dataclass(frozen=True)
class Uniform:
  low: float
  high: float

  def draw(self, rng: random.Random) -> float:
    return rng.uniform(self.low, self.high)


@dataclasses.dataclass(frozen=True)
class LogUniform:
  """10^u with u ~ U[low_exp, high_exp] (compare_gan's log-scale ranges)."""

  low_exp: float
  high_exp: float

  def draw(self, rng: random.Random) -> float:
    return math.pow(10, rng.uniform(self.low_exp, self.high_exp))


def grid(axes: dict[str, list]) -> list[dict[str, Any]]:
  """Every combination of the axes' values, the last axis varying fastest."""
  names = list(axes)
  return [dict(zip(names, values)) for values in itertools.product(*axes.values())]


def draw(axes: dict[str, Any], num: int, seed: int) -> list[dict[str, Any]]:
  """``num`` random points; axes are drawn in sorted name order, as compare_gan does."""
  rng = random.Random(seed)
  return [{name: axes[name].draw(rng) for name in sorted(axes)} for _ in range(num)]


# Each loss's recommended setting (compare_gan v1 ``UpdateDefaults``): β1, learning rate, D steps,
# batch norm in D, and the loss's own parameters, under jaxgan's config names (compare_gan's
# ``lambda`` is the penalty weight of WGAN-GP and DRAGAN and BEGAN's λ_k; ``weight_clipping``
# is ``clip``). "GAN" there is the NS and the minimax GAN.
_DEFAULTS = {
  "ns": dict(beta1=0.0, lr=5e-5, n_disc=1, bn=True),
  "mm": dict(beta1=0.0, lr=5e-5, n_disc=1, bn=True),
  "lsgan": dict(beta1=0.5, lr=2e-4, n_disc=1, bn=True),
  "wgan": dict(beta1=0.5, lr=5e-5, n_disc=5, bn=True, clip=0.01),
  "wgan_gp": dict(beta1=0.5, lr=1e-4, n_disc=5, bn=False, penalty_weight=10.0),
  "dragan": dict(beta1=0.5, lr=1e-4, n_disc=1, bn=True, penalty_weight=10.0),
  "began": dict(beta1=0.5, lr=1e-4, n_disc=5, bn=False, began_lambda_k=0.001, began_gamma=0.75),
}
LUCIC_LOSSES = tuple(_DEFAULTS)


def _space(loss: str, wide: bool) -> dict[str, Any]:
  """compare_gan v1's search space of ``loss`` (``GetDefaultWideRange`` / ``...NarrowRange``
  and the per-GAN additions)."""
  if wide:
    space = {
      "beta1": Uniform(0.0, 1.0),
      "lr": LogUniform(-5.0, -2.0),
      "n_disc": Choice((1, 5)),
      "bn": Choice((True, False)),
    }
  else:
    space = {
      "beta1": Choice((0.5,)),
      "lr": LogUniform(-4.0, -3.0),
      "n_disc": Choice((1,)),
      "bn": Choice((False,) if loss in ("wgan_gp", "dragan") else (True, False)),
    }
  if loss == "wgan":
    space["clip"] = LogUniform(-3.0, 0.0) if wide else LogUniform(-2.0, 0.0)
  if loss in ("wgan_gp", "dragan"):
    space["penalty_weight"] = LogUniform(-1.0, 2.0) if wide else LogUniform(-1.0, 1.0)
  if loss == "began":
    space["began_lambda_k"] = LogUniform(-4.0, -2.0) if wide else LogUniform(-3.0, -3.0)
    space["began_gamma"] = Uniform(0.0, 1.0) if wide else Uniform(0.6, 0.9)
  return space


def lucic(preset: str, loss: str, samples: int, seed: int, batch_norm_ok: bool) -> list[dict]:
  """The settings of ``samples`` points of a Lucic et al. preset for ``loss``: the loss's
  defaults first, then draws from the wide or narrow space (``lucic_defaults``: the defaults
  only). ``bn`` (batch norm in D) becomes ``d_norm``, or is dropped when the architecture's D
  takes no batch norm (``batch_norm_ok`` false, e.g. the mlp)."""
  if loss not in _DEFAULTS:
    raise ValueError(
      f"the {preset} preset covers the losses of Lucic et al. "
      f"({', '.join(LUCIC_LOSSES)}), not {loss!r}"
    )
  points = [dict(_DEFAULTS[loss])]
  if preset != "lucic_defaults":
    space = _space(loss, wide=preset == "lucic_wide")
    points += draw(space, samples - 1, seed)
  return [_to_config(p, batch_norm_ok) for p in points]


def _to_config(point: dict, batch_norm_ok: bool) -> dict:
  point = dict(point)
  bn = point.pop("bn")
  if batch_norm_ok:
    point["d_norm"] = "batch" if bn else "none"
  return point


PRESETS = ("lucic_wide", "lucic_narrow", "lucic_defaults")
