r"""Lucic et al. 2018's narrow search on Fashion-MNIST with the MLP, at a CPU smoke-test budget.

  python -m experiments.sweep --spec=lucic_narrow_mlp --workdir=runs/lucic

6 losses × 4 points of the narrow space (each loss's recommended setting first) × 2 seeds =
48 members, 300 steps each, scored by the FCD at the end. Expected (2-core CPU, 2026-11-30):
about 6 minutes; no member diverges; WGAN-GP's best FCD about 177, every other loss's best
between 400 and 470 (300 steps is far from converged; README, "Sweeps"). Any flag given on
the command line replaces the spec's value, e.g. ``--steps=3000 --seeds=5``.
"""

from jaxgan.sweeps.spec import SweepSpec


def get_spec() -> SweepSpec:
  return SweepSpec(
    base={"arch": "mlp", "dataset": "fashion_mnist", "steps": 300},
    losses=("ns", "lsgan", "wgan", "wgan_gp", "dragan", "began"),
    preset="lucic_narrow",
    samples=4,
    seeds=2,
  )
