r"""Three losses over a grid of learning rates and Adam's β1, three seeds each.

  python -m experiments.sweep --spec=lr_grid --workdir=runs/lr_grid

3 losses × 3 learning rates × 2 β1 × 3 seeds = 54 members of the MLP GAN on Fashion-MNIST,
1,000 steps each, scored every 500 steps. Shows how sensitive each loss is to the learning
rate (``fcd_vs_lr.png``). Not yet run at this size; its small version is tested.
"""

from jaxgan.sweeps.spec import SweepSpec


def get_spec() -> SweepSpec:
  return SweepSpec(
    base={"arch": "mlp", "dataset": "fashion_mnist", "steps": 1000, "eval_every": 500},
    losses=("ns", "lsgan", "wgan_gp"),
    grid={"lr": [1e-4, 2e-4, 5e-4], "beta1": [0.0, 0.5]},
    seeds=3,
  )
