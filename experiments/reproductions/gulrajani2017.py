"""gulrajani2017: Figure 1 of Gulrajani et al. 2017, "Improved Training of Wasserstein GANs"
(arXiv:1704.00028): (a) value surfaces of WGAN critics with weight clipping and with the
gradient penalty on three toy distributions, (b) the critic loss's gradient norms through the
layers of deep critics (:mod:`experiments.wgan_critic` has the setup).

  python -m experiments.reproduce gulrajani2017 [--budget=cpu|paper]
"""

from __future__ import annotations

import datetime
import os

import jax
import numpy as np

from experiments import wgan_critic as wc

PAPER = "Gulrajani et al. 2017, Improved Training of Wasserstein GANs (arXiv:1704.00028)"
WHAT = "Figure 1: critic value surfaces (clipping vs gradient penalty) and gradient norms per layer"

# Per budget: critic updates for the surfaces (a), and width and updates of the 12-layer
# GANs (b). gan_toy.py runs 100,000 updates; the paper does not give (b)'s width or length.
BUDGETS = {
  "cpu": dict(surface_updates=1000, surface_width=512, deep_updates=200, deep_width=128),
  "paper": dict(surface_updates=100_000, surface_width=512, deep_updates=10_000, deep_width=512),
}
DEEP_METHODS = ("clip 0.1", "clip 0.01", "clip 0.001", "GP (λ=0.1)")


def methods():

  return {
    m.name: m for m in (wc.clipping(0.1), wc.clipping(0.01), wc.clipping(0.001), wc.penalty())
  }


def surfaces(updates: int, width: int) -> dict:
  """{(method, toy): (surface, real samples, fixed-G samples)} for clip 0.01 and GP."""
  out = {}
  for method in (methods()["clip 0.01"], methods()["GP (λ=0.1)"]):
    for name, make in wc.TOYS.items():
      toy = make()
      gan = wc.fixed_generator_gan(toy, method, width=width)
      state = wc.train(gan, toy, updates)
      real = np.asarray(toy.sample(jax.random.key(7), 256))
      fake = np.asarray(
        gan.sample(state.g_params, state.g_state, gan.latents(jax.random.key(8), 256))
      )
      bound = wc.critic_bound(gan, state, toy)
      out[method.name, name] = (wc.value_surface(gan, state), real, fake, bound)
  return out


def gradient_norms(updates: int, width: int) -> dict:
  """{method: per-layer norms (12,)} of 12-layer WGANs trained ``updates`` updates."""
  toy = wc.TOYS["Swiss roll"]()
  out = {}
  for name in DEEP_METHODS:
    gan = wc.mlp_gan(methods()[name], depth=12, width=width)
    out[name] = wc.layer_gradient_norms(gan, wc.train(gan, toy, updates), toy)
  return out


def plot(surf: dict, norms: dict, path: str) -> None:
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  toys = list(wc.TOYS)
  fig = plt.figure(figsize=(13, 6.5))
  axis = np.linspace(-wc.RANGE, wc.RANGE, 128)
  for row, method in enumerate(("clip 0.01", "GP (λ=0.1)")):
    for col, toy in enumerate(toys):
      ax = fig.add_subplot(2, 4, 4 * row + col + 1)
      surface, real, fake, _ = surf[method, toy]
      ax.contour(axis, axis, surface.T, levels=12, linewidths=0.8)
      ax.scatter(*real.T, c="orange", marker="+", s=8)
      ax.scatter(*fake.T, c="green", marker="+", s=4, alpha=0.4)
      ax.set_xlim(-wc.RANGE, wc.RANGE), ax.set_ylim(-wc.RANGE, wc.RANGE)
      ax.set_xticks([]), ax.set_yticks([])
      ax.set_title(f"{toy}: {'weight clipping' if row == 0 else 'gradient penalty'}", fontsize=9)
  ax = fig.add_subplot(1, 4, 4)
  for name, values in norms.items():
    ax.semilogy(np.arange(1, len(values) + 1), values, marker="o", ms=3, label=name)
  ax.set_xlabel("critic layer (1 = nearest the input)")
  ax.set_ylabel("‖∂L/∂activations‖")
  ax.set_title("(b) Swiss roll, 12-layer critics", fontsize=9)
  ax.legend(fontsize=8)
  fig.suptitle("(a) critic value surfaces, G fixed at data + N(0, I)", x=0.38, fontsize=10)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def growth_per_layer(values: np.ndarray) -> float:
  """Geometric mean factor by which the norm grows from the last layer to the first."""
  return float(np.exp(np.log(values[0] / values[-1]) / (len(values) - 1)))


def table(surf: dict, norms: dict, budget: dict) -> str:

  share = {k: v[3][0] / v[3][1] for k, v in surf.items()}
  w1 = {toy: surf["clip 0.01", toy][3][1] for toy in wc.TOYS}
  lines = [
    f"# gulrajani2017 (measured {datetime.date.today().isoformat()}, budget: "
    f"{budget['surface_updates']:,} critic updates for (a); 12-layer GANs of width "
    f"{budget['deep_width']}, {budget['deep_updates']:,} updates, for (b))",
    "",
    "## (a) How much of W₁(data, data + noise) each critic captures",
    "",
    'The paper (Figure 1a, a picture): clipped critics "fail to capture higher moments of the '
    'data distribution", penalized ones follow it. Our number for it: the Kantorovich lower '
    "bound (E_real D − E_fake D) / Lip(D) that the trained critic gives, as a share of W₁ "
    "(exact optimal transport between 1,024 points of each).",
    "",
    "| toy | W₁ estimate | weight clipping (c = 0.01) | gradient penalty (λ = 0.1) |",
    "| --- | ---: | ---: | ---: |",
  ]
  for toy in wc.TOYS:
    lines.append(
      f"| {toy} | {w1[toy]:.3f} | {share['clip 0.01', toy]:.1%} | {share['GP (λ=0.1)', toy]:.1%} |"
    )
  lines += [
    "",
    "## (b) Gradient norms through 12 critic layers, Swiss roll",
    "",
    "The paper (Figure 1b): with clipping the norms explode (c = 0.1) or vanish (c = 0.01, "
    "0.001) through the layers; with the penalty they stay level.",
    "",
    "| critic | ‖∂L/∂h‖ at layer 12 (output side) | at layer 1 (input side) | growth per layer, toward the input |",
    "| --- | ---: | ---: | ---: |",
  ]
  for name, values in norms.items():
    lines.append(
      f"| {name} | {values[-1]:.3g} | {values[0]:.3g} | {growth_per_layer(values):.2f}× |"
    )
  return "\n".join(lines) + "\n"


SETUP = """# gulrajani2017: how this run differs from the paper's

- The setup is read from the authors' `gan_toy.py` (igul222/improved_wgan_training): data and
  its scaling, the critic (2 → 3×512 ReLU → 1, He initialization, no normalization), batch
  256, 5 critic steps per update, RMSProp 5e-5 with clipping at 0.01 and Adam (1e-4, β₁ 0.5,
  β₂ 0.9) with the penalty. λ = 0.1 as in that file (the paper's main experiments use 10; the
  file notes that a smaller λ only makes toy runs faster).
- The fixed "generator" draws the data plus N(0, I) from three Gaussian latents (the data's
  quantile from one, the noise from the others); theirs adds noise to the very batch the
  critic sees as real. The same distribution, independent draws.
- optax's RMSProp (decay 0.9, ε 1e-8) for TensorFlow's (0.9, 1e-10).
- "Trained to optimality": at the cpu budget 1,000 critic updates (5,000 critic steps) per
  panel, against gan_toy.py's 100,000 updates; the paper budget runs those.
- (b): the paper gives 12-layer ReLU MLPs for G and D without batch norm but not their width,
  learning rates or length. We use gan_toy.py's optimizers, G's input 2-D Gaussian noise, and
  width 128 for 200 updates at the cpu budget (512 for 10,000 at the paper budget); the norms
  are taken at the end of training on one batch of 256, real and generated together, for the
  WGAN critic loss without the penalty term.
- (a) is a picture in the paper; the share of W₁ that each critic's Kantorovich bound reaches
  is our own summary of it (its Lipschitz constant estimated on the sampled points only, so
  the bound can overstate slightly).
"""


def run(budget: str, outdir: str) -> str:
  sizes = BUDGETS[budget]
  surf = surfaces(sizes["surface_updates"], sizes["surface_width"])
  norms = gradient_norms(sizes["deep_updates"], sizes["deep_width"])
  plot(surf, norms, os.path.join(outdir, "figure1.png"))
  text = table(surf, norms, sizes)
  with open(os.path.join(outdir, "table.md"), "w") as f:
    f.write(text)
  with open(os.path.join(outdir, "setup.md"), "w") as f:
    f.write(SETUP)
  return text
