r"""Reproduce a paper's figure or table with one command, beside the paper's numbers.

  python -m experiments.reproduce --list
  python -m experiments.reproduce mescheder2018 [--budget=cpu|paper] [--outdir=results]

Writes ``<outdir>/<name>/``: the figure(s), ``table.md`` (the paper's result beside ours) and
``setup.md`` (every way our run differs from the paper's). ``--budget=cpu`` is what runs on a
2-core CPU in minutes, ``paper`` the paper's own scale (for an accelerator). Exit codes: 0
done; 2 an unknown or not yet built reproduction, bad flags.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys

# name -> (paper, what it reproduces, built)
REPRODUCTIONS = {
  "mescheder2018": (
    "Mescheder et al. 2018, Which Training Methods for GANs do actually Converge? "
    "(arXiv:1801.04406)",
    "the Dirac-GAN figure and the eigenvalues of the update operator at the equilibrium",
    True,
  ),
  "gulrajani2017": ("Gulrajani et al. 2017 (arXiv:1704.00028)", "Figure 1", False),
  "pacgan2018": ("Lin et al. 2018 (arXiv:1712.04086)", "Table 1, 2-D ring and grid", False),
  "veegan2017": ("Srivastava et al. 2017 (arXiv:1705.07761)", "Table 1, 2-D rows", False),
  "lucic2018": ("Lucic et al. 2018 (arXiv:1711.10337)", "Figure 4 and best-per-loss", False),
  "goodfellow2014": ("Goodfellow et al. 2014 (arXiv:1406.2661)", "Table 1, Parzen", False),
}

# Mescheder et al. 2018's verdicts on the Dirac-GAN (sections 2-3): which methods are
# locally convergent with gradient descent at a small enough step.
PAPER_VERDICTS = {
  "GAN": "not convergent (simultaneous: |λ| > 1, Lemma 2.2; alternating: |λ| = 1, Lemma 2.3)",
  "NS-GAN": "not convergent (as GAN: the same linearization)",
  "WGAN (clip 1)": "not convergent (§3.1)",
  "WGAN-GP (λ=1)": "not convergent (§3.2)",
  "Instance noise (σ=0.7)": "convergent (§3.3)",
  "R1 (γ=0.3)": "convergent (§4, zero-centered gradient penalty)",
  "R1 (γ=1)": "convergent (§4)",
  "Consensus (γ=1)": "convergent for a small step (§3.4)",
}

MESCHEDER_SETUP = """# mescheder2018: how this run differs from the paper's

- Losses, penalties and the update are jaxgan's own (`GAN.update` with `experiments.dirac`'s
  δ_θ generator and linear critic D(x) = ψx), not a separate Dirac-GAN implementation: the
  GAN and NS-GAN losses act on D's logit ψθ, so |f'(0)| = 1/2; WGAN's f(t) = t.
- Gradient descent with step h = 0.2 (our choice) from (θ, ψ) = (1, 1) for 500 steps; the
  eigenvalue comparison uses the same h on both sides. The paper's figures use their own step
  sizes; its verdicts concern small steps.
- Instance noise: one draw of the noise (σ = 0.7) per step; the paper analyses the expected
  update, so our eigenvalues for it are those of one noisy update and have no closed form here.
- WGAN-GP: ‖∇ₓD‖ = |ψ| is not differentiable at ψ = 0, so the update has no Jacobian at the
  equilibrium; the table says so instead of printing a finite-difference number.
- The update operator's Jacobian is taken by central differences (step 1e-3) of jaxgan's
  update, not by forward-mode autodiff: D's step stops gradients through G's samples, and
  `stop_gradient` stops tangents too.
"""


def mescheder2018(budget: str, outdir: str) -> str:
  from experiments import dirac

  steps = 500  # tiny either way: the cpu and paper budgets are the same run
  results = dirac.run_all(steps)
  dirac.plot(results, os.path.join(outdir, "dirac.png"))
  eigen, worst = dirac.eigenvalue_table()
  rows = [
    "| method | the paper | ours: ‖(θ, ψ)‖ after 500 steps from 1.41 (simultaneous / alternating 1 / alternating 5) |",
    "| --- | --- | --- |",
  ]
  for name, verdict in PAPER_VERDICTS.items():
    finals = dirac.table(results).split("\n")
    ours = next(line for line in finals if line.startswith(f"| {name} |"))
    cells = " / ".join(c.strip() for c in ours.split("|")[2:-1])
    rows.append(f"| {name} | {verdict} | {cells} |")
  text = (
    f"# mescheder2018 (measured {datetime.date.today().isoformat()})\n\n"
    "## Convergence of the Dirac-GAN\n\n" + "\n".join(rows) + "\n\n"
    "## Update operator at the equilibrium: largest |eigenvalue|, jaxgan against the closed "
    "form\n\n" + eigen + "\n\n"
    f"Largest difference between jaxgan's and the closed-form spectral radius: {worst:.1e}. "
    "Instance noise's are those of one noisy update (setup.md).\n\n"
    "## What matches\n\n"
    "Every closed-form spectral radius is matched by jaxgan's own update to about 1e-7, and "
    "the verdicts follow: the unregularized losses and WGAN sit on or outside the unit circle, "
    "R1 and consensus inside it. The 500-step trajectories agree for GAN (it moves away), "
    "WGAN (it keeps circling), R1, consensus and instance noise (they converge). NS-GAN's "
    "distance shrinks from 1.41 to 0.64 / 0.28 / 0.27: far from the equilibrium its "
    "nonsaturating loss pulls inward, while near it the linearization (|λ| > 1 simultaneous, "
    "= 1 alternating) rules out convergence at a linear rate, the paper's sense of local "
    "convergence; we have not run it long enough to "
    "tell a slow spiral from a limit cycle.\n"
  )
  with open(os.path.join(outdir, "table.md"), "w") as f:
    f.write(text)
  with open(os.path.join(outdir, "setup.md"), "w") as f:
    f.write(MESCHEDER_SETUP)
  return text


RUNNERS = {"mescheder2018": mescheder2018}


def main(argv: list[str] | None = None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("name", nargs="?")
  p.add_argument("--list", action="store_true", help="name the reproductions and exit")
  p.add_argument("--budget", choices=["cpu", "paper"], default="cpu")
  p.add_argument("--outdir", default="results")
  args = p.parse_args(argv)
  if args.list or not args.name:
    for name, (paper, what, built) in REPRODUCTIONS.items():
      print(f"{name:16s} {'built' if built else 'not yet built':14s} {what}; {paper}")
    return 0 if args.list else 2
  if args.name not in REPRODUCTIONS:
    print(f"error: no reproduction {args.name!r}; --list names them", file=sys.stderr)
    return 2
  if args.name not in RUNNERS:
    print(f"error: {args.name} is not built yet (--list)", file=sys.stderr)
    return 2
  outdir = os.path.join(args.outdir, args.name)
  os.makedirs(outdir, exist_ok=True)
  print(RUNNERS[args.name](args.budget, outdir))
  print(f"wrote {outdir}/", file=sys.stderr)
  return 0


if __name__ == "__main__":
  sys.exit(main())
