r"""The Dirac-GAN of Mescheder et al. 2018 ("Which Training Methods for GANs do actually
Converge?", arXiv:1801.04406, section 2 and figure 1-3), trained with jaxgan's own losses,
penalties and update function.

The generator is p_θ = δ_θ (it outputs θ whatever z is), the discriminator is linear,
D(x) = ψ·x (its logit), and the data distribution is δ_0; the unique equilibrium is
(θ, ψ) = (0, 0). The "images" are one-dimensional. Plain gradient descent (optax SGD, step
size 0.2) starts at (θ, ψ) = (1, 1) and runs 500 steps, simultaneously or alternating with 1
or 5 D steps per G step. Consensus optimization (Mescheder et al. 2017, arXiv:1705.10461) is
defined as a simultaneous update and runs only that way.

  python -m experiments.dirac [--workdir=runs/dirac] [--steps=500]

writes ``dirac.png`` (one panel per configuration: the gradient vector field with the three
trajectories) and ``dirac.md`` / ``dirac.json`` (the final distance to the equilibrium).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.core import losses, optimizers, penalties
from jaxgan.core.gan import GAN, UpdateOptions


class DiracGenerator(nn.Module):
  """G(z) = θ for every z: the generator distribution δ_θ."""

  theta0: float = 1.0

  @nn.compact
  def __call__(self, z, train: bool = True):
    theta = self.param("theta", lambda key: jnp.asarray(self.theta0, jnp.float32))
    return jnp.broadcast_to(theta, (z.shape[0], 1))


class LinearCritic(nn.Module):
  """D(x) = ψ·x, the logit of a linear discriminator."""

  psi0: float = 1.0

  @nn.compact
  def __call__(self, x, train: bool = True):
    psi = self.param("psi", lambda key: jnp.asarray(self.psi0, jnp.float32))
    return psi * x[:, 0]


@dataclasses.dataclass(frozen=True)
class Method:
  name: str
  loss: str
  options: UpdateOptions = UpdateOptions()
  simultaneous_only: bool = False  # defined for simultaneous updates only (consensus)


# The configurations of Mescheder et al.'s figures 1-3 that the library's update covers.
METHODS = (
  Method("GAN", "mm"),
  Method("NS-GAN", "ns"),
  Method("WGAN (clip 1)", "wgan", UpdateOptions(clip=1.0)),
  Method("WGAN-GP (λ=1)", "wgan_gp", UpdateOptions(penalty="gp", penalty_weight=1.0)),
  Method("Instance noise (σ=0.7)", "mm", UpdateOptions(instance_noise=0.7)),
  Method("R1 (γ=0.3)", "mm", UpdateOptions(penalty="r1", penalty_weight=0.3)),
  Method("R1 (γ=1)", "mm", UpdateOptions(penalty="r1", penalty_weight=1.0)),
  Method(
    "Consensus (γ=1)", "mm", UpdateOptions(consensus=1.0, simultaneous=True), simultaneous_only=True
  ),
)
MODES = {
  "simultaneous": dict(simultaneous=True, n_disc=1),
  "alternating, 1 D step": dict(simultaneous=False, n_disc=1),
  "alternating, 5 D steps": dict(simultaneous=False, n_disc=5),
}
LR = 0.2
BATCH = 4  # the data and the generator are point masses: any batch gives the same gradients


def dirac_gan(loss: str, options: UpdateOptions, start=(1.0, 1.0), lr: float = LR) -> GAN:
  """The Dirac-GAN with jaxgan's loss ``loss`` and update ``options``, SGD for both players."""
  tx = optimizers.sgd(lr)
  return GAN(
    DiracGenerator(start[0]),
    LinearCritic(start[1]),
    losses.LOSSES.get(loss),
    tx,
    tx,
    image_shape=(1,),
    z_dim=1,
    options=options,
  )


def trajectory(
  method: Method, mode: str, steps: int = 500, start=(1.0, 1.0), seed: int = 0
) -> np.ndarray:
  """(θ, ψ) after each of ``steps`` updates, starting at ``start``: array (steps + 1, 2)."""
  options = dataclasses.replace(method.options, **MODES[mode])
  gan = dirac_gan(method.loss, options, start)
  state = gan.init(jax.random.key(seed))
  shape = (BATCH, 1) if options.n_disc == 1 else (options.n_disc, BATCH, 1)
  data = jnp.zeros(shape)  # δ_0
  key = jax.random.key(seed + 1)

  def step(state, _):
    state, _ = gan.update(state, data, jax.random.fold_in(key, state.step))
    return state, jnp.stack([state.g_params["theta"], state.d_params["psi"]])

  _, path = jax.jit(lambda s: jax.lax.scan(step, s, None, length=steps))(state)
  return np.concatenate([np.array([start], np.float32), np.asarray(path)])


def vector_field(
  method: Method, theta: np.ndarray, psi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
  """(−∂L_G/∂θ, −∂L_D/∂ψ) on a grid, from the same loss and penalty functions (no noise);
  with consensus optimization each component also gets −γ ∂(½‖v‖²)."""
  loss_fn = losses.LOSSES.get(method.loss)
  pen = penalties.PENALTIES.get(method.options.penalty) if method.options.penalty else None
  real = jnp.zeros((BATCH, 1))

  def l_d(t, p):
    critic = lambda x: p * x[:, 0]
    fake = jnp.full((BATCH, 1), t)
    value = loss_fn(critic(real), critic(fake)).d
    if pen is not None:
      keys = penalties.example_keys(jax.random.key(0), BATCH)
      value = value + method.options.penalty_weight * pen(critic, real, fake, keys)
    return value

  def l_g(t, p):
    return loss_fn(jnp.zeros(BATCH), p * jnp.full((BATCH,), t)).g

  def players(t, p):  # v = (∂L_G/∂θ, ∂L_D/∂ψ)
    return jnp.stack([jax.grad(l_g, 0)(t, p), jax.grad(l_d, 1)(t, p)])

  def descent(t, p):  # −v, or −(v + γ∇½‖v‖²) with consensus optimization
    v = players(t, p)
    if method.options.consensus:
      reg = jax.grad(lambda t, p: 0.5 * jnp.sum(players(t, p) ** 2), (0, 1))(t, p)
      v = v + method.options.consensus * jnp.stack(reg)
    return -v

  field = jax.jit(jax.vmap(descent))
  out = np.asarray(field(jnp.asarray(theta.ravel()), jnp.asarray(psi.ravel())))
  return out[:, 0].reshape(theta.shape), out[:, 1].reshape(theta.shape)


# The linearization at the equilibrium (Mescheder et al. 2018, §2-3): with D's logit ψθ on
# fake samples, the descent field w = (θ̇, ψ̇) of every loss here has the Jacobian
#   J = [[0, a], [−a, −γ]],  a = |f'(0)| (1/2 for mm and ns, 1 for wgan), γ the R1 weight,
# (R1 = γ/2 ‖∇ₓD‖² = γ/2 ψ² for a linear D); consensus optimization adds −γ_c JᵀJ.
SLOPE = {"mm": 0.5, "ns": 0.5, "wgan": 1.0}


def closed_form_update(method: Method, mode: str, h: float = LR) -> np.ndarray | None:
  """The update operator's matrix at the equilibrium from the closed form above: I + hJ for a
  simultaneous step; F_G F_Dⁿ for n D steps then a G step that sees the new ψ. None where the
  closed form does not apply (instance noise: a random update; WGAN-GP: ‖∇D‖ = |ψ| is not
  differentiable at ψ = 0)."""
  o = dataclasses.replace(method.options, **MODES[mode])
  if method.loss not in SLOPE or o.instance_noise or o.penalty not in (None, "r1"):
    return None
  a, g = SLOPE[method.loss], o.penalty_weight if o.penalty == "r1" else 0.0
  jac = np.array([[0.0, a], [-a, -g]])
  if o.consensus:
    jac = jac - o.consensus * jac.T @ jac
  if o.simultaneous:
    return np.eye(2) + h * jac
  f_d = np.array([[1.0, 0.0], [h * jac[1, 0], 1.0 + h * jac[1, 1]]])
  f_g = np.array([[1.0 + h * jac[0, 0], h * jac[0, 1]], [0.0, 1.0]])
  return f_g @ np.linalg.matrix_power(f_d, o.n_disc)


def update_jacobian(method: Method, mode: str, eps: float = 1e-3) -> np.ndarray:
  """∂(θ', ψ')/∂(θ, ψ) of one ``GAN.update`` at the equilibrium (0, 0), by central
  differences of jaxgan's own update (losses, penalties, optimizer). Not by ``jax.jacfwd``:
  D's step stops the gradient through G's samples, and ``stop_gradient`` stops forward-mode
  tangents too, which would drop D's dependence on θ. The update is smooth at (0, 0), so the
  error is O(eps²) plus float32 rounding (about 1e-7 here)."""
  options = dataclasses.replace(method.options, **MODES[mode])
  gan = dirac_gan(method.loss, options)
  state = gan.init(jax.random.key(0))
  shape = (BATCH, 1) if options.n_disc == 1 else (options.n_disc, BATCH, 1)
  data = jnp.zeros(shape)

  @jax.jit
  def step(point):
    s = state.replace(g_params={"theta": point[0]}, d_params={"psi": point[1]})
    new, _ = gan.update(s, data, jax.random.key(1))
    return jnp.stack([new.g_params["theta"], new.d_params["psi"]])

  columns = [
    (np.asarray(step(jnp.asarray(e * eps))) - np.asarray(step(jnp.asarray(-e * eps)))) / (2 * eps)
    for e in np.eye(2, dtype=np.float32)
  ]
  return np.stack(columns, axis=1)


def spectral_radius(matrix: np.ndarray) -> float:
  return float(np.abs(np.linalg.eigvals(matrix)).max())


def eigenvalue_table(h: float = LR) -> tuple[str, float]:
  """The largest |eigenvalue| of the update operator at the equilibrium per method and mode,
  from jaxgan's update and from the closed form (< 1: locally convergent); and the largest
  difference between the two."""
  lines = [
    "| method | update | max abs eigenvalue, jaxgan | closed form | locally convergent |",
    "| --- | --- | ---: | ---: | --- |",
  ]
  worst = 0.0
  for method in METHODS:
    for mode in modes(method):
      if method.options.penalty not in (None, "r1", "r2"):  # ‖∇ₓD‖ = |ψ|: a kink at ψ = 0
        lines.append(f"| {method.name} | {mode} | no Jacobian (‖∇D‖ = \\|ψ\\|) | n/a | no |")
        continue
      ours = spectral_radius(update_jacobian(method, mode))
      closed = closed_form_update(method, mode, h)
      if closed is None:
        cell = "n/a"
      else:
        cell = f"{spectral_radius(closed):.6f}"
        worst = max(worst, abs(ours - spectral_radius(closed)))
      verdict = "yes" if ours < 1 - 1e-6 else ("no (|λ| = 1)" if ours <= 1 + 1e-6 else "no")
      lines.append(f"| {method.name} | {mode} | {ours:.6f} | {cell} | {verdict} |")
  return "\n".join(lines), worst


def modes(method: Method) -> list[str]:
  return ["simultaneous"] if method.simultaneous_only else list(MODES)


def run_all(steps: int = 500) -> dict:
  return {m.name: {mode: trajectory(m, mode, steps) for mode in modes(m)} for m in METHODS}


def plot(results: dict, path: str) -> None:
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  cols = 4
  rows = -(-len(METHODS) // cols)
  fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 4.2 * rows))
  grid = np.linspace(-2, 2, 17)
  theta, psi = np.meshgrid(grid, grid)
  colors = {
    "simultaneous": "tab:red",
    "alternating, 1 D step": "tab:blue",
    "alternating, 5 D steps": "tab:green",
  }
  for ax, method in zip(axes.ravel(), METHODS):
    u, v = vector_field(method, theta, psi)
    ax.quiver(theta, psi, u, v, color="0.6", angles="xy")
    for mode, points in results[method.name].items():
      ax.plot(points[:, 0], points[:, 1], color=colors[mode], lw=1.2, label=mode)
    ax.plot([1], [1], "ko", ms=4)
    ax.plot([0], [0], "k*", ms=9)
    ax.set(xlim=(-2, 2), ylim=(-2, 2), xlabel="θ", ylabel="ψ", title=method.name)
  for ax in axes.ravel()[len(METHODS) :]:
    ax.axis("off")
  axes.ravel()[0].legend(loc="lower left", fontsize=7)
  steps = len(next(iter(results[METHODS[0].name].values()))) - 1
  fig.suptitle(f"Dirac-GAN, SGD step {LR}, start (1, 1), {steps} steps; ★ equilibrium")
  fig.tight_layout()
  fig.savefig(path, dpi=90)
  plt.close(fig)


def table(results: dict) -> str:
  lines = ["| method | " + " | ".join(MODES) + " |", "| --- |" + " --- |" * len(MODES)]
  for name, paths in results.items():
    cells = [
      "n/a"
      if m not in paths
      else f"{np.hypot(*paths[m][-1]):.3g}"
      if np.isfinite(paths[m][-1]).all()
      else "diverged"
      for m in MODES
    ]
    lines.append(f"| {name} | " + " | ".join(cells) + " |")
  return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:

  p = argparse.ArgumentParser(
    description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
  )
  p.add_argument("--workdir", default="runs/dirac")
  p.add_argument("--steps", type=int, default=500)
  args = p.parse_args(argv)
  if args.steps < 1:
    p.error("--steps must be >= 1")
  os.makedirs(args.workdir, exist_ok=True)
  results = run_all(args.steps)
  plot(results, os.path.join(args.workdir, "dirac.png"))
  md = (
    "Final distance ‖(θ, ψ)‖ to the equilibrium after "
    f"{args.steps} steps from (1, 1) (start: 1.41)\n\n" + table(results) + "\n\n"
    "n/a: consensus optimization is a simultaneous update.\n"
  )
  with open(os.path.join(args.workdir, "dirac.md"), "w") as f:
    f.write(md)
  with open(os.path.join(args.workdir, "dirac.json"), "w") as f:
    json.dump(
      {
        name: {mode: path[-1].tolist() for mode, path in paths.items()}
        for name, paths in results.items()
      },
      f,
      indent=1,
    )
  print(md)
  print(f"wrote {args.workdir}/dirac.png, dirac.md, dirac.json", file=sys.stderr)
  return 0


if __name__ == "__main__":
  sys.exit(main())
