"""The Dirac-GAN outcomes Mescheder et al. 2018 prove, reproduced with the library's update."""

import numpy as np
import pytest

from experiments import dirac

METHOD = {m.name: m for m in dirac.METHODS}


def distance(points):
  return float(np.hypot(*points[-1]))


def test_unregularized_simultaneous_descent_moves_away():
  points = dirac.trajectory(METHOD["GAN"], "simultaneous", steps=500)
  d = np.hypot(points[:, 0], points[:, 1])
  assert d[0] == pytest.approx(np.sqrt(2))
  assert d[-1] > 2 * d[0]  # spirals outwards
  assert np.all(np.diff(d[::50]) > 0)  # monotonically, checked every 50 steps


@pytest.mark.parametrize("mode", list(dirac.MODES))
@pytest.mark.parametrize("name", ["R1 (γ=0.3)", "R1 (γ=1)"])
def test_r1_converges_to_the_equilibrium(name, mode):
  assert distance(dirac.trajectory(METHOD[name], mode, steps=500)) < 1e-3


def test_consensus_optimization_converges_with_simultaneous_descent():
  points = dirac.trajectory(METHOD["Consensus (γ=1)"], "simultaneous", steps=500)
  assert distance(points) < 1e-3
  assert METHOD["Consensus (γ=1)"].simultaneous_only


def test_wgan_clip_does_not_converge():
  points = dirac.trajectory(METHOD["WGAN (clip 1)"], "simultaneous", steps=500)
  assert distance(points) > 0.5
  assert np.abs(points[:, 1]).max() <= 1.0 + 1e-6  # ψ stays within the clip


def test_vector_field_of_wgan_is_a_rotation():
  """L_D = ψθ, L_G = −ψθ: the field (−∂L_G/∂θ, −∂L_D/∂ψ) is (ψ, −θ)."""
  theta, psi = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 5))
  u, v = dirac.vector_field(dirac.Method("wgan", "wgan"), theta, psi)
  np.testing.assert_allclose(u, psi, atol=1e-6)
  np.testing.assert_allclose(v, -theta, atol=1e-6)


def test_command_writes_figure_and_table(tmp_path):
  assert dirac.main([f"--workdir={tmp_path}", "--steps=50"]) == 0
  assert (tmp_path / "dirac.png").stat().st_size > 10_000
  table = (tmp_path / "dirac.md").read_text()
  for m in dirac.METHODS:
    assert m.name in table


@pytest.mark.parametrize(
  "name,mode",
  [
    ("GAN", "simultaneous"),  # |λ| = √(1 + h²/4) > 1
    ("WGAN (clip 1)", "alternating, 1 D step"),  # |λ| = 1
    ("R1 (γ=1)", "alternating, 5 D steps"),
    ("Consensus (γ=1)", "simultaneous"),
  ],
)
def test_update_operator_at_the_equilibrium_matches_the_closed_form(name, mode):
  """jaxgan's update, differentiated numerically at (0, 0), against the closed-form
  linearization of Mescheder et al. 2018 (§2-3) with the same step: same eigenvalues."""
  ours = np.linalg.eigvals(dirac.update_jacobian(METHOD[name], mode))
  closed = np.linalg.eigvals(dirac.closed_form_update(METHOD[name], mode))
  np.testing.assert_allclose(np.sort_complex(ours), np.sort_complex(closed), atol=1e-5)


def test_closed_forms_of_the_simple_cases():
  h, a = dirac.LR, 0.5
  gan = dirac.closed_form_update(METHOD["GAN"], "simultaneous")
  assert dirac.spectral_radius(gan) == pytest.approx(np.sqrt(1 + h**2 * a**2))  # Lemma 2.2
  alternating = dirac.closed_form_update(METHOD["NS-GAN"], "alternating, 1 D step")
  assert dirac.spectral_radius(alternating) == pytest.approx(1.0)  # det 1, |trace| < 2
  r1 = dirac.closed_form_update(METHOD["R1 (γ=1)"], "simultaneous")  # 1 + h(−γ/2 ± √(γ²/4 − a²))
  np.testing.assert_allclose(np.linalg.eigvals(r1), [1 - h / 2] * 2, atol=1e-6)
  assert dirac.closed_form_update(METHOD["WGAN-GP (λ=1)"], "simultaneous") is None


def test_reproduce_lists_its_reproductions_and_writes_mescheder2018(tmp_path, capsys):
  from experiments import reproduce

  assert reproduce.main(["--list"]) == 0
  listed = capsys.readouterr().out
  assert "mescheder2018    built" in listed and "pacgan2018       not yet built" in listed
  assert "gulrajani2017    built" in listed
  assert reproduce.main(["pacgan2018"]) == 2 and reproduce.main(["nope"]) == 2
  assert reproduce.main(["mescheder2018", f"--outdir={tmp_path}"]) == 0
  out = tmp_path / "mescheder2018"
  table = (out / "table.md").read_text()
  assert "| R1 (γ=1) | convergent" in table and "no Jacobian" in table
  assert (out / "dirac.png").stat().st_size > 10_000 and "differs" in (out / "setup.md").read_text()
