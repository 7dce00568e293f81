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


def test_reproduce_lists_its_reproductions_and_writes_mescheder2018(tmp_path, capsys, monkeypatch):
  from experiments import reproduce

  assert reproduce.main(["--list"]) == 0
  listed = capsys.readouterr().out
  for name in ("mescheder2018", "gulrajani2017", "pacgan2018", "veegan2017", "lucic2018"):
    assert f"{name:16s} built" in listed
  monkeypatch.setitem(reproduce.REPRODUCTIONS, "later2030", None)
  monkeypatch.setitem(reproduce.PLANNED, "later2030", ("Someone 2030", "Table 9"))
  assert (
    reproduce.main(["--list"]) == 0 and "later2030        not yet built" in capsys.readouterr().out
  )
  assert reproduce.main(["later2030"]) == 2 and reproduce.main(["nope"]) == 2
  assert reproduce.main(["pacgan2018", "--dataset=mnist"]) == 2  # a 2-D reproduction
  assert reproduce.main(["veegan2017", "--features=inception"]) == 2  # scores 2-D modes
  # lucic2018 in Inception's features: without the weights, said before anything trains.
  monkeypatch.setenv("JAXGAN_CACHE", str(tmp_path / "cache"))
  monkeypatch.setenv("JAXGAN_OFFLINE", "1")
  assert reproduce.main(["lucic2018", "--features=inception", f"--outdir={tmp_path}"]) == 1
  assert "--features=inception needs the FID Inception weights" in capsys.readouterr().err
  assert not (tmp_path / "lucic2018").exists()
  # No MNIST anywhere: goodfellow2014 says so (exit 1) and leaves no empty results folder.
  monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
  monkeypatch.setenv("JAXGAN_IDX_DIR", str(tmp_path / "no_idx"))
  assert reproduce.main(["goodfellow2014", f"--outdir={tmp_path}"]) == 1
  err = capsys.readouterr().err
  assert "'mnist' split 'train' is not available" in err and "--dataset=fashion_mnist" in err
  assert not (tmp_path / "goodfellow2014").exists()
  assert reproduce.main(["mescheder2018", f"--outdir={tmp_path}"]) == 0
  out = tmp_path / "mescheder2018"
  table = (out / "table.md").read_text()
  assert "| R1 (γ=1) | convergent" in table and "no Jacobian" in table
  assert (out / "dirac.png").stat().st_size > 10_000 and "differs" in (out / "setup.md").read_text()


def test_goodfellow2014_sgd_is_pylearn2s_momentum_with_decaying_rate():
  """v ← μv − lr·g, θ ← θ + v with lr = lr₀/1.000004^t and μ from 0.5 (epoch 1) to 0.7
  (epoch 250), here over steps of an epoch of 2 updates, for a constant gradient 1."""
  import jax.numpy as jnp
  import optax

  from experiments.reproductions import goodfellow2014 as gf

  tx = gf.optimizer(steps_per_epoch=2, lr0=0.1)
  theta, state, v, want = jnp.float32(0.0), None, 0.0, 0.0
  state = tx.init(theta)
  for t in range(6):
    updates, state = tx.update(jnp.float32(1.0), state, theta)
    theta = optax.apply_updates(theta, updates)
    mu = 0.5 + 0.2 * min(max((t // 2 - 1) / 249, 0.0), 1.0)
    v = mu * v - 0.1 / 1.000004**t * 1.0
    want += v
    assert float(theta) == pytest.approx(want, rel=1e-5)


def test_lucic2018_expected_best_score_of_a_budget_is_the_bootstrap_mean():
  from experiments.reproductions import lucic2018

  values = np.array([5.0, 1.0, 3.0, 9.0])
  rng = np.random.default_rng(0)
  for k in (1, 2, 5):
    draws = rng.choice(values, size=(200_000, k)).min(axis=1)
    assert lucic2018.expected_minimum(values, k) == pytest.approx(draws.mean(), rel=0.01)
  assert lucic2018.expected_minimum(values, 1) == pytest.approx(values.mean())
  assert lucic2018.expected_minimum(values, 200) == pytest.approx(1.0)


def test_lucic2018_names_its_score_for_its_features():
  """Scored in Inception's features the table says FID and has no collapse floor (measured in
  the classifier's features only); in the classifier's, the floor is the dataset's own."""
  from experiments.reproductions import lucic2018
  from jaxgan.config import make_config, to_dict

  def rows(features, name):
    return [
      {"member": i, "config": {**to_dict(make_config(loss=loss, features=features)), "workdir": "m"},
       "final": {}, name: v, f"best_{name}": v, "best_step": 300, "diverged": False,
       "diverged_step": None, "steps": 300, "wall_s": 1.0}
      for i, (loss, v) in enumerate([("ns", 40.0), ("ns", 50.0), ("wgan_gp", 1300.0)])
    ]  # fmt: skip

  budget = lucic2018.BUDGETS["cpu"]
  fid = rows("inception", "fid")
  text = lucic2018.table(fid, lucic2018.scores(fid), budget, "mnist")
  assert "its best FID over the run" in text and "Ordering by best FID: ns (40)" in text
  assert "ours are FIDs too" in text and "one-class collapse" not in text
  fcd = rows("classifier", "fcd")
  text = lucic2018.table(fcd, lucic2018.scores(fcd), budget, "mnist")
  assert "one-class collapse (FCD 1250, docs/evaluation.md floors): wgan_gp." in text
