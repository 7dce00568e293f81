"""pacgan2018: Table 1 of Lin et al. 2018, "PacGAN: The power of two samples in generative
adversarial networks" (arXiv:1712.04086): modes captured, share of high-quality samples and
reverse KL on the 2-D ring and grid, for GAN and PacGAN2/3/4, mean ± standard error over
trials, in the setup of the authors' code (fjxmlzn/PacGAN, synthetic_data_experiments).

  python -m experiments.reproduce pacgan2018 [--budget=cpu|paper]
"""

from __future__ import annotations

import datetime
import os

from experiments import mode_collapse
from experiments.reproductions import write_results
from jaxgan.config import make_config

PAPER = "Lin et al. 2018, PacGAN: The power of two samples in GANs (arXiv:1712.04086)"
WHAT = "Table 1: modes, high-quality samples and reverse KL on the 2-D ring and grid"

# Table 1 of the paper: (modes, high-quality %, reverse KL), each (mean, standard error).
PAPER_TABLE = {
  ("ring", 1): ((6.3, 0.5), (98.2, 0.2), (0.45, 0.09)),
  ("ring", 2): ((7.9, 0.1), (95.6, 2.0), (0.07, 0.03)),
  ("ring", 3): ((7.8, 0.1), (97.7, 0.3), (0.10, 0.02)),
  ("ring", 4): ((7.8, 0.1), (95.9, 1.4), (0.07, 0.02)),
  ("grid", 1): ((17.3, 0.8), (94.8, 0.7), (0.70, 0.07)),
  ("grid", 2): ((23.8, 0.7), (91.3, 0.8), (0.13, 0.04)),
  ("grid", 3): ((24.6, 0.4), (94.2, 0.4), (0.06, 0.02)),
  ("grid", 4): ((24.8, 0.2), (93.6, 0.6), (0.04, 0.01)),
}
PACKS = (1, 2, 3, 4)
# The paper's code: 400 epochs of 1,000 batches (100,000 points, 100 packs a batch), Adam
# 1e-4. The cpu budget trains 5 trials for 2,500 updates at 10× the learning rate.
BUDGETS = {
  "cpu": dict(trials=5, steps=2_500, lr=1e-3),
  "paper": dict(trials=10, steps=400_000, lr=1e-4),
}


def config(data: str, pack: int, lr: float):
  """PacGAN's setup for packing degree ``pack``: their G and maxout D (``pacgan_mlp``), the
  non-saturating loss, Adam (lr, β₁ 0.8), 100 packs of ``pack`` samples per batch."""
  return make_config(
    arch="pacgan_mlp",
    dataset=data,
    loss="ns",
    lr=lr,
    beta1=0.8,
    beta2=0.999,
    batch_size=100 * pack,
    pack=pack,
  )


def measure(budget: dict) -> tuple[dict, dict]:
  """({(data, pack): per-trial results}, {(data, pack): first trial's samples})."""
  results, samples = {}, {}
  for data, toy in mode_collapse.toys().items():
    for pack in PACKS:
      cfg = config(data, pack, budget["lr"])
      r, s = mode_collapse.train_trials(cfg, toy, range(budget["trials"]), budget["steps"])
      results[data, pack], samples[data, pack] = r, s[0]
  return results, samples


def _cell(mean_se, scale=1.0, digits=1, suffix="") -> str:
  mean, se = mean_se
  return f"{mean * scale:.{digits}f} ± {se * scale:.{digits}f}{suffix}"


def table(results: dict, budget: dict) -> str:

  lines = [
    f"# pacgan2018 (measured {datetime.date.today().isoformat()}; {budget['trials']} trials "
    f"of {budget['steps']:,} updates at learning rate {budget['lr']:g} each)",
    "",
    "Mean ± standard error over trials; paper: 10 trials of 400,000 updates at 1e-4.",
    "",
    "| data | model | modes (paper) | modes (ours) | high quality (paper) | high quality (ours) | reverse KL (paper) | reverse KL (ours) |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ]
  for (data, pack), trials in results.items():
    ours = mode_collapse.summary(trials)
    modes, hq, kl = PAPER_TABLE[data, pack]
    name = "GAN" if pack == 1 else f"PacGAN{pack}"
    lines.append(
      f"| {data} | {name} | {_cell(modes)} | {_cell(ours['modes_covered'])} "
      f"| {_cell(hq, suffix=' %')} | {_cell(ours['high_quality_fraction'], 100, 1, ' %')} "
      f"| {_cell(kl, digits=2)} | {_cell(ours['mode_kl'], digits=2)} |"
    )
  diverged = [
    f"{data} pack {pack} trial {i}"
    for (data, pack), trials in results.items()
    for i, t in enumerate(trials)
    if t["diverged_step"] is not None
  ]
  if diverged:
    lines += ["", f"Diverged (frozen at the step named in the run): {', '.join(diverged)}."]
  return "\n".join(lines) + "\n"


SETUP = """# pacgan2018: how this run differs from the paper's

- The setup is read from the authors' code (fjxmlzn/PacGAN, `synthetic_data_experiments/
  2DRing_GAN&PacGAN` and `2DGrid_GAN&PacGAN`, `pacgan/bricks.py`, `pacgan/extensions.py`):
  ring of 8 Gaussians (radius 1, std 0.01) and 5×5 grid (spacing 2, std 0.05); 100,000
  training points; z ~ N(0, I₂); G 2 → 4×400 (batch norm, ReLU, no bias) → 2; D (2·m) → 3
  maxout layers of 200 units × 5 pieces → 1; weights N(0, 0.02²), biases 0; the
  non-saturating loss; Adam (1e-4, β₁ 0.8); 100 packs per batch, each of m samples
  concatenated (jaxgan's `--pack=m`, `batch_size` = 100·m samples); the metrics of their
  `MetricLogger` on 2,500 samples (a mode is captured when one sample lies within 3σ of it,
  a sample is of high quality within 3σ of its nearest mode; the reverse KL is that of the
  high-quality samples' mode histogram from the uniform one).
- **Length and learning rate** (the large difference): the cpu budget trains each
  configuration for 2,500 updates at learning rate 1e-3, 5 trials; the paper 400 epochs of
  1,000 updates (400,000) at 1e-4, 10 trials. Samples then are still far from the 3σ balls
  (0.03 on the ring), so the high-quality share and with it the modes and KL are not the
  converged values. `--budget=paper` runs the paper's length (about 160× the cpu budget's
  updates; for an accelerator).
- The trials of one configuration train together (a population, `jax.vmap`), sharing one
  training set drawn with the run's seed; theirs draw a new set per trial. Batches are
  drawn uniformly with replacement; theirs go through the set in shuffled epochs, and build
  a real pack from points drawn independently from the set (the same law).
- Batch normalization: flax's BatchNorm with momentum 0.95 and ε 1e-4 (blocks': population
  statistics 0.95·old + 0.05·batch); samples are drawn in inference mode, as their logger
  draws them with the population statistics.
- Monitoring batches, checkpoints and the per-epoch logs of their main loop are not kept;
  the metrics are taken once, after the last update, on a fixed draw of 2,500 latents.
"""


def run(budget: str, outdir: str) -> str:

  sizes = BUDGETS[budget]
  results, samples = measure(sizes)
  labels = {m: "GAN" if m == 1 else f"PacGAN{m}" for m in PACKS}
  mode_collapse.plot_samples(samples, labels, os.path.join(outdir, "samples.png"))
  text = table(results, sizes)
  return write_results(outdir, text, SETUP)
