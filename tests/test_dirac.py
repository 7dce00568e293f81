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
