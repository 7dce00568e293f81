"""The optimizer controls, each one setting of the config: --optimizer, --grad_clip and
--lr_schedule, against hand-computed updates, in a population, and across a resume."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import make_config
from jaxgan.core import build, optimizers
from jaxgan.run.checkpoint import Checkpointer
from jaxgan.run.driver import Run
from jaxgan.sweeps import population

from helpers import assert_trees_close

SHAPE = (8, 8, 1)
DATA = np.asarray(jax.random.randint(jax.random.key(1), (256, *SHAPE), 0, 256), np.uint8)
GRAD = {"w": jnp.array([3.0, -4.0])}  # global norm 5


def first_update(cfg, player="g", total_steps=10, grads=GRAD, steps=1):
  tx = build.optimizer(cfg, player, total_steps)
  state, params = tx.init(grads), jax.tree.map(jnp.zeros_like, grads)
  for _ in range(steps):
    updates, state = tx.update(grads, state, params)
  return updates["w"]


def test_optimizer_chooses_the_optax_rule():
  """SGD: −lr·g. RMSProp (optax: ν = 0.9ν + 0.1g², step g/√(ν + ε)): its first step is
  −lr·g/√(0.1g² + ε). Adam's first step is −lr·sign(g) (bias-corrected m/√v)."""
  lr = 0.1
  g = GRAD["w"]
  sgd = first_update(make_config(optimizer="sgd", lr=lr))
  np.testing.assert_allclose(sgd, -lr * g, rtol=1e-6)
  rms = first_update(make_config(optimizer="rmsprop", lr=lr))
  np.testing.assert_allclose(rms, -lr * g / np.sqrt(0.1 * g**2 + 1e-8), rtol=1e-5)
  adam = first_update(make_config(optimizer="adam", lr=lr))
  np.testing.assert_allclose(adam, -lr * np.sign(g), rtol=1e-5)


def test_grad_clip_bounds_the_global_norm_of_each_players_gradient():
  """Norm 5 clipped to C = 1 is g/5; C = 10 leaves it; an infinite C (a population member
  that does not clip) is the identity, bit for bit."""
  cfg = make_config(optimizer="sgd", lr=1.0, grad_clip=1.0)
  np.testing.assert_allclose(first_update(cfg), -GRAD["w"] / 5, rtol=1e-6)
  np.testing.assert_allclose(first_update(cfg, "d"), -GRAD["w"] / 5, rtol=1e-6)
  loose = dataclasses.replace(cfg, grad_clip=10.0)
  np.testing.assert_array_equal(first_update(loose), -GRAD["w"])
  tx = build.optimizer(cfg, "g")
  state = optimizers.set_hyperparams(tx.init(GRAD), max_norm=math.inf)
  updates, _ = tx.update(GRAD, state)
  np.testing.assert_array_equal(updates["w"], -GRAD["w"])


@pytest.mark.parametrize(
  "schedule,factor",
  [
    ("constant", lambda k, t: 1.0),
    ("linear", lambda k, t: 1 - k / t),
    ("cosine", lambda k, t: 0.5 * (1 + math.cos(math.pi * k / t))),
  ],
)
def test_lr_schedule_scales_the_kth_step_over_the_run(schedule, factor):
  """SGD's k-th step (from 0) is −lr·s(k/T)·g over T = total steps for G and n_disc·T for D."""
  cfg = make_config(optimizer="sgd", lr=0.5, lr_schedule=schedule, n_disc=2)
  for k in (0, 3, 7):
    g = first_update(cfg, "g", total_steps=10, steps=k + 1)
    np.testing.assert_allclose(g, -0.5 * factor(k, 10) * GRAD["w"], rtol=1e-5, atol=1e-7)
    d = first_update(cfg, "d", total_steps=10, steps=k + 1)
    np.testing.assert_allclose(d, -0.5 * factor(k, 20) * GRAD["w"], rtol=1e-5, atol=1e-7)


CONTROLS = {"optimizer": "rmsprop", "lr_schedule": "cosine", "steps": 12, "batch_size": 16}
CLIPS = [make_config(grad_clip=c, seed=s, lr=1e-3, **CONTROLS) for s, c in enumerate([0.0, 0.05])]


def train_population(cfgs, steps, group=CLIPS):
  """``cfgs`` trained by the program of the group ``group`` (its clipping on: one member clips)."""
  gan = build.build_gan(population.group_config(group), SHAPE, total_steps=12)
  members, keys = population.init_members(gan, cfgs)
  run = population.make_population_run(gan, cfgs[0].batch_size, len(cfgs), donate=False)
  return run(members, jnp.asarray(DATA), keys, steps)[0]


def run_alone(cfg):
  run = Run(cfg, SHAPE, total_steps=12)
  return run.run_steps(run.init(), jnp.asarray(DATA), run.train_key, 12)[0]


@pytest.mark.exact
@pytest.mark.parametrize(
  "control", [{"optimizer": "rmsprop"}, {"lr_schedule": "cosine", "grad_clip": 0.05}]
)
def test_each_control_in_a_population_of_one_equals_its_run_alone_exactly(control):
  """Adam's schedule and clipping together; RMSProp with clipping ends a few last bits off
  its run alone (docs/sweeps.md)."""
  cfg = make_config(lr=1e-3, steps=12, batch_size=16, seed=1, **control)
  member = population.member(train_population([cfg], 12, [cfg]), 0).state
  assert_trees_close(member, run_alone(cfg), rtol=0, atol=0)


def test_members_with_and_without_clipping_share_one_group():
  """grad_clip 0 and 0.05 (with RMSProp and a cosine schedule) share one group, whose program
  clips (the member that does not clips at an infinite norm: the identity; trained:
  the long test below)."""
  assert len(population.group(CLIPS)) == 1
  max_norms = [build.optimizer_hyperparams(c, "d")["max_norm"] for c in CLIPS]
  assert max_norms == [math.inf, 0.05]


@pytest.mark.long  # two vmapped members and each alone: about 20 s of compiling
def test_members_with_and_without_clipping_train_as_one_population():
  """Vmapped together, each member of that group ends near its run alone (vmap's last bits;
  tolerance as in tests/test_sweep.py)."""
  both = train_population(CLIPS, 12)
  for j, cfg in enumerate(CLIPS):
    alone, many = run_alone(cfg), population.member(both, j).state
    for name in ("g_params", "d_params", "g_state", "d_state"):  # optimizer layouts differ
      assert_trees_close(getattr(many, name), getattr(alone, name), rtol=1e-4, atol=cfg.lr / 2)


def test_a_resumed_run_with_every_control_equals_an_uninterrupted_one(tmp_path):
  """RMSProp, clipping at 0.05 and a cosine schedule: 6 steps, a checkpoint, its restore and
  6 more steps end bit for bit where 6 + 6 steps without the checkpoint end (one compiled
  program; scans of different lengths agree: tests/test_train.py)."""
  cfg = CLIPS[1]
  run = Run(cfg, SHAPE, total_steps=12)
  data = jnp.asarray(DATA)
  half, _ = run.run_steps(run.init(), data, run.train_key, 6)
  ckpt = Checkpointer(str(tmp_path / "checkpoints"))
  ckpt.save(half, 6)
  restored = ckpt.restore(run.init())
  ckpt.close()
  straight, _ = run.run_steps(half, data, run.train_key, 6)
  resumed, _ = run.run_steps(restored, data, run.train_key, 6)
  assert_trees_close(resumed, straight, rtol=0, atol=0)
  assert int(resumed.step) == 12


def test_rmsprop_decay_is_rmsprops_own_and_a_members_own():
  """ν = ρν + (1 − ρ)g²: the first step with ρ = 0.5 is −lr·g/√(0.5g² + ε); a population holds
  one ρ per member in its optimizer states."""
  cfg = make_config(optimizer="rmsprop", lr=0.1, rmsprop_decay=0.5)
  g = GRAD["w"]
  np.testing.assert_allclose(first_update(cfg), -0.1 * g / np.sqrt(0.5 * g**2 + 1e-8), rtol=1e-5)
  cfgs = [dataclasses.replace(cfg, rmsprop_decay=r, steps=12) for r in (0.5, 0.99)]
  members, _ = population.init_members(build.build_gan(cfgs[0], SHAPE, 12), cfgs)
  np.testing.assert_allclose(
    optimizers.hyperparams(members.state.d_opt_state)["decay"], [0.5, 0.99]
  )
