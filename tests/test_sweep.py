"""Sweeps: search spaces, populations equal to their members trained alone, divergence kept
to its member, and `experiments.sweep` end to end (results, re-runs, refusals)."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import make_config
from jaxgan.run import train_steps
from jaxgan.run.driver import Run
from jaxgan.sweeps import population, runner, search
from jaxgan.sweeps import spec as sweep_spec

from conftest import CLASSIFIER_STEPS, REPO
from helpers import assert_trees_close, run_as_processes, run_module

SHAPE = (8, 8, 1)
DATA = np.asarray(jax.random.randint(jax.random.key(1), (256, *SHAPE), 0, 256), np.uint8)


def test_grid_crosses_its_axes_and_draws_repeat_with_their_seed():
  assert search.grid({"lr": [1, 2], "beta1": [0.5]}) == [
    {"lr": 1, "beta1": 0.5},
    {"lr": 2, "beta1": 0.5},
  ]
  space = {
    "lr": search.LogUniform(-4, -3),
    "beta1": search.Uniform(0.2, 0.4),
    "n_disc": search.Choice((1, 5)),
  }
  a, b = search.draw(space, 50, seed=3), search.draw(space, 50, seed=3)
  assert a == b and a != search.draw(space, 50, seed=4)
  assert all(1e-4 <= p["lr"] <= 1e-3 and 0.2 <= p["beta1"] <= 0.4 for p in a)
  assert {p["n_disc"] for p in a} == {1, 5}


def test_lucic_presets_start_at_the_papers_defaults_and_stay_in_their_space():
  """compare_gan v1 (params.py): narrow WGAN-GP: β1 0.5, lr 10^U[-4,-3], 1 D step, no BN,
  λ 10^U[-1,1]; its default (the first member) λ 10, lr 1e-4, 5 D steps."""
  points = search.lucic("lucic_narrow", "wgan_gp", samples=20, seed=0, batch_norm_ok=True)
  assert points[0] == {
    "beta1": 0.5,
    "lr": 1e-4,
    "n_disc": 5,
    "penalty_weight": 10.0,
    "d_norm": "none",
  }
  for p in points[1:]:
    assert p["beta1"] == 0.5 and p["n_disc"] == 1 and p["d_norm"] == "none"
    assert 1e-4 <= p["lr"] <= 1e-3 and 0.1 <= p["penalty_weight"] <= 10
  wide = search.lucic("lucic_wide", "began", samples=30, seed=0, batch_norm_ok=False)
  assert "d_norm" not in wide[1]  # the mlp's D takes no batch norm
  assert {p["n_disc"] for p in wide[1:]} == {1, 5}
  assert all(1e-4 <= p["began_lambda_k"] <= 1e-2 for p in wide)
  assert len(search.lucic("lucic_defaults", "ns", samples=9, seed=0, batch_norm_ok=True)) == 1
  with pytest.raises(ValueError, match="Lucic"):
    search.lucic("lucic_wide", "hinge", samples=2, seed=0, batch_norm_ok=True)


def test_members_group_by_what_is_compiled():
  a = make_config(loss="wgan_gp", lr=1e-4, penalty_weight=1.0, seed=0)
  same = make_config(loss="wgan_gp", lr=3e-4, penalty_weight=5.0, beta1=0.9, seed=4)
  other_steps = make_config(loss="wgan_gp", n_disc=2)
  no_ema, ema = make_config(), make_config(ema_decay=0.99)
  assert population.group_key(a) == population.group_key(same)
  assert population.group_key(a) != population.group_key(other_steps)
  assert population.group_key(no_ema) != population.group_key(ema)  # EMA on is static
  assert list(population.group([a, other_steps, same]).values()) == [[0, 2], [1]]


def test_shards_share_every_group_and_the_whole_evenly():
  """Groups of 3, 1 and 1 members over 2 shards: 3 and 2 members, each group split as evenly
  as it can be (the groups of one fall to different shards), every member in one shard."""
  cfgs = [make_config(loss="ns", lr=lr) for lr in (1e-4, 2e-4, 3e-4)]
  cfgs += [make_config(loss="lsgan"), make_config(loss="hinge")]
  groups = list(population.group(cfgs).values())
  assert sorted(map(len, groups)) == [1, 1, 3]
  shards = [runner.share(cfgs, k, 2) for k in range(2)]
  assert sorted(map(len, shards)) == [2, 3] and sorted(shards[0] + shards[1]) == list(range(5))
  for idx in groups:
    assert sorted(len(set(idx) & set(s)) for s in shards) == [len(idx) // 2, -(-len(idx) // 2)]
  assert (3 in shards[0]) != (4 in shards[0])  # lsgan's and hinge's groups of one
  assert runner.share(cfgs[:1], 1, 2) == []


def train_population(cfgs, steps):
  """The population trained as the sweep runner trains it."""
  gan = Run(cfgs[0], SHAPE).gan
  members, keys = population.init_members(gan, cfgs)
  run = population.make_population_run(gan, cfgs[0].batch_size, len(cfgs), donate=False)
  return run(members, jnp.asarray(DATA), keys, steps)


def train_alone(cfg, steps):
  run = Run(cfg, SHAPE)  # what experiments.mnist builds for this configuration
  return run.run_steps(run.init(), jnp.asarray(DATA), run.train_key, steps)


CFGS = [
  make_config(loss="wgan", lr=2e-4, clip=0.02, ema_decay=0.99, seed=0),
  make_config(loss="wgan", lr=1e-3, beta1=0.9, clip=0.05, ema_decay=0.9, seed=1),
]


def test_a_member_trained_alone_in_its_group_equals_its_run_exactly():
  """One member at a time (the CPU's chunk) runs the single-GAN program with its own
  hyperparameters as data, its member axis dropped once per dispatch: the same bits as the
  run alone."""
  cfg = CFGS[1]  # lr, β1, clip, EMA decay and seed all off their defaults
  members, _ = train_population([cfg], 12)
  alone, _ = train_alone(cfg, 12)
  assert_trees_close(population.member(members, 0).state, alone, rtol=0, atol=0)


NS_CFGS = [
  make_config(loss="ns", lr=2e-4, ema_decay=0.99, seed=0),
  make_config(loss="ns", lr=1e-3, beta1=0.9, ema_decay=0.9, seed=1),
]


@pytest.mark.exact
def test_vmapped_members_equal_their_runs_alone():
  """Two members with different learning rates, β1, EMA decays and seeds, in
  one vmapped program. vmap batches the matrix products, whose summation order differs in
  the last bits, and Adam's step lr·m/(√v + ε) turns that into up to a fraction of lr where a
  gradient coordinate is ~ε (as under pmap, test_parallel): the tolerance is lr/2 (measured
  after 12 steps: 3.6e-5 at lr 1e-3; a wrong learning rate, clip or seed is off by many lr).
  The losses agree to 1e-4 relative."""
  members, metrics = train_population(NS_CFGS, 12)
  for j, cfg in enumerate(NS_CFGS):
    alone, alone_metrics = train_alone(cfg, 12)
    assert_trees_close(population.member(members, j).state, alone, rtol=1e-4, atol=cfg.lr / 2)
    np.testing.assert_allclose(metrics["d_loss"][:, j], alone_metrics["d_loss"], rtol=1e-4)


@pytest.mark.skipif(jax.device_count() < 8, reason="needs 8 (fake CPU) devices; see conftest")
def test_members_sharded_over_8_devices_train_as_on_one():
  """8 members spread over 8 devices (NamedSharding on the member axis) end where the same
  vmapped population on one device ends (tolerance as above, lr/2 of the largest lr;
  measured: 5.6e-5 in one of 8,192 weights at lr 3e-4)."""
  cfgs = [make_config(loss="ns", lr=lr, seed=s) for s, lr in enumerate([1e-4, 3e-4] * 4)]
  gan = Run(cfgs[0], SHAPE).gan
  run = train_steps.make_multi_step(population.make_population_step(gan, 64, 8), donate=False)
  members, keys = population.init_members(gan, cfgs)
  one, _ = run(members, jnp.asarray(DATA), keys, 5)
  sharded, sharded_keys, data = population.shard(members, keys, jnp.asarray(DATA))
  assert len(sharded.alive.sharding.device_set) == 8
  many, _ = run(sharded, data, sharded_keys, 5)
  assert len(many.state.step.sharding.device_set) == 8
  assert_trees_close(many, one, rtol=1e-4, atol=3e-4 / 2)


def test_vmapped_members_clip_to_their_own_values():
  """Weight clipping pins WGAN's critic at ±c, where the last bits decide which side of the
  boundary a weight lands: a chaotic path that the exact test above covers; here each
  member's D is held to its own c."""
  members, _ = train_population(CFGS, 6)
  for j, cfg in enumerate(CFGS):
    peak = max(float(jnp.abs(p[j]).max()) for p in jax.tree.leaves(members.state.d_params))
    assert peak == pytest.approx(cfg.clip)


def test_a_diverging_member_is_frozen_and_does_not_poison_its_group():
  healthy = make_config(loss="lsgan", lr=2e-4, seed=0)
  diverging = make_config(loss="lsgan", lr=1e4, seed=1)  # Adam steps of 1e4: inf, then NaN
  members, metrics = train_population([healthy, diverging], 6)
  assert bool(members.alive[0]) and not bool(members.alive[1])
  assert int(members.diverged_step[1]) == 1 and int(members.diverged_step[0]) == -1
  frozen = population.member(members, 1).state
  assert int(frozen.step) == 0  # the state from before the step that diverged
  assert all(bool(jnp.isfinite(x).all()) for x in jax.tree.leaves(frozen.d_params))
  alone, _ = train_alone(healthy, 6)
  assert_trees_close(population.member(members, 0).state, alone, rtol=1e-4, atol=healthy.lr / 2)


# ---------------------------------------------------------------------------------------------
# experiments.sweep end to end.

SAME_WORKER = pytest.mark.xdist_group("sweep")
COMMON = ["--dataset=fashion_mnist", "--steps=20", "--log_every=10", "--progress=false"]


def sweep(args, env, check=True):
  return run_module("experiments.sweep", [*COMMON, *args], env, check)


@pytest.fixture(scope="session")  # not module: xdist may interleave other modules' tests
def finished(fashion_env, tmp_path_factory):
  workdir = tmp_path_factory.mktemp("sweep") / "s"
  args = [
    "--eval_every=10",
    "--losses=ns,wgan_gp",
    "--grid=lr:1e-4,3e-4",
    "--seeds=1",
    "--eval_samples=200",
    f"--classifier_steps={CLASSIFIER_STEPS}",  # one cached training a session
    f"--workdir={workdir}",
  ]
  proc = sweep(args, fashion_env)
  return workdir, args, proc


@SAME_WORKER  # they share the session-scoped `finished` sweep
def test_a_sweep_writes_its_results_table_and_figures(finished):
  workdir, _, proc = finished
  rows = [json.loads(line) for line in open(workdir / "results.jsonl")]
  assert sorted(r["member"] for r in rows) == list(range(4))
  assert {r["config"]["loss"] for r in rows} == {"ns", "wgan_gp"}
  assert all(r["fcd"] > 0 and not r["diverged"] for r in rows)
  for r in rows:  # scored at steps 10 and 20 (--eval_every=10); the best one is kept
    evals = [
      json.loads(line) for line in open(workdir / "members" / str(r["member"]) / "eval.jsonl")
    ]
    assert [e["step"] for e in evals] == [10, 20] and evals[1]["fcd"] == r["fcd"]
    assert all({"kid", "precision", "recall", "density", "coverage"} <= set(e) for e in evals)
    best = min(evals, key=lambda e: e["fcd"])
    assert (r["best_fcd"], r["best_step"]) == (best["fcd"], best["step"])
  written = {"results.csv", "results.md", "fcd_by_loss.png", "fcd_vs_lr.png", "best_samples.png"}
  assert written | {"sweep.json"} <= set(os.listdir(workdir))
  for r in rows:  # a 10×10 grid at each evaluation: the best one is in best_samples.png
    assert r["config"]["workdir"] == f"members/{r['member']}"  # relative to the sweep
    assert {"samples_10.png", "samples_20.png"} <= set(os.listdir(workdir / r["config"]["workdir"]))
  table = (workdir / "results.md").read_text()
  assert "| ns |" in table and "| wgan_gp |" in table and table in proc.stdout
  assert len((workdir / "results.csv").read_text().splitlines()) == 5


@SAME_WORKER  # they share the session-scoped `finished` sweep
def test_a_member_logs_what_experiments_mnist_logs_for_its_configuration(
  finished, fashion_env, tmp_path
):
  workdir, _, _ = finished
  member = json.loads((workdir / "sweep.json").read_text())[3]  # wgan_gp, lr 3e-4, seed 0
  subprocess.run(
    [
      sys.executable,
      "-m",
      "experiments.mnist",
      *COMMON,
      "--loss=wgan_gp",
      "--lr=3e-4",
      "--seed=0",
      f"--workdir={tmp_path}",
    ],
    cwd=REPO,
    env=fashion_env,
    check=True,
    capture_output=True,
    timeout=600,
  )
  assert member["loss"] == "wgan_gp" and member["lr"] == 3e-4 and member["seed"] == 0
  alone = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
  swept = [json.loads(line) for line in open(workdir / "members" / "3" / "metrics.jsonl")]
  for a, s in zip(alone, swept, strict=True):
    assert {k: a[k] for k in s} == s  # the same numbers, bit for bit


@SAME_WORKER  # they share the session-scoped `finished` sweep
def test_a_rerun_trains_only_what_is_missing_and_a_changed_sweep_is_refused(finished, fashion_env):
  workdir, args, _ = finished
  rows = (workdir / "results.jsonl").read_text().splitlines()
  (workdir / "results.jsonl").write_text("\n".join(rows[:2]) + "\n")  # as if killed
  kept = (workdir / "members" / "0" / "metrics.jsonl").stat().st_mtime_ns
  proc = sweep(args, fashion_env)
  assert sorted(
    json.loads(r)["member"] for r in (workdir / "results.jsonl").read_text().splitlines()
  ) == list(range(4))
  assert (workdir / "members" / "0" / "metrics.jsonl").stat().st_mtime_ns == kept
  assert "nothing to train" not in proc.stderr
  moved = workdir.parent / "moved"  # member folders are recorded relative to the sweep
  shutil.copytree(workdir, moved)
  again = sweep([*args[:-1], f"--workdir={moved}"], fashion_env)
  assert "all 4 members are done; nothing to train" in again.stderr
  changed = sweep([*args[:2], "--grid=lr:1e-4,2e-4", *args[3:]], fashion_env, check=False)
  assert changed.returncode == 2 and "member 1: --lr was 0.0003, now 0.0002" in changed.stderr
  assert "Traceback" not in changed.stderr


def test_list_and_dry_run_print_the_members_and_groups(fashion_env, tmp_path):
  args = [
    "--preset=lucic_narrow",
    "--losses=ns,wgan_gp",
    "--arch=dcgan",
    "--samples=3",
    "--seeds=2",
    f"--workdir={tmp_path / 'w'}",
  ]
  listed = sweep([*args, "--list"], fashion_env).stdout.splitlines()
  assert len(listed) == 12 and "loss=ns" in listed[0] and "seed=1" in listed[1]
  dry = sweep([*args, "--dry_run"], fashion_env).stdout
  assert "12 members in" in dry and not (tmp_path / "w").exists()
  bad = sweep([*args, "--grid=lr:1e-4"], fashion_env, check=False)
  assert bad.returncode == 2 and "Traceback" not in bad.stderr
  assert "drop --grid" in bad.stderr
  typo = sweep(["--grid=nope:1", f"--workdir={tmp_path / 'x'}"], fashion_env, check=False)
  assert typo.returncode == 2 and "'nope' is not a config field" in typo.stderr


def _rows(workdir):
  return {r["member"]: r for r in map(json.loads, open(workdir / "results.jsonl"))}


def _same_results(rows, expected, rtol=0.0):
  """Rows equal but for wall time, workdir and checkpoint period (to ``rtol`` in the numbers)."""
  assert sorted(rows) == sorted(expected)
  for i, row in rows.items():
    want = expected[i]
    ignored = {"workdir": "", "ckpt_every": 0}
    assert {**row["config"], **ignored} == {**want["config"], **ignored}
    assert (row["diverged"], row["best_step"]) == (want["diverged"], want["best_step"])
    for k in ("fcd", "best_fcd"):
      np.testing.assert_allclose(row[k], want[k], rtol=rtol)
    assert row["final"].keys() == want["final"].keys()
    for k, v in row["final"].items():
      np.testing.assert_allclose(v, want["final"][k], rtol=rtol, atol=rtol)


@SAME_WORKER  # they share the session-scoped `finished` sweep
def test_shards_of_a_sweep_one_killed_and_run_again_merge_into_the_results_of_one(
  finished, fashion_env, tmp_path
):
  """--shard=0/2 and 1/2 into one workdir (as two scheduler jobs would), the second SIGKILLed
  once its chunk has checkpointed step 10 of 20 and run again, then --merge: the rows (final
  losses and FCD of every member) of the sweep run as one uninterrupted job, bit for bit;
  --merge before every shard is done says what is missing."""
  workdir, args, _ = finished
  args = [a for a in args if not a.startswith("--workdir")]
  args += [f"--workdir={tmp_path}", "--ckpt_every=10"]
  first = sweep([*args, "--shard=0/2"], fashion_env)
  assert "2 members done; 2 of the sweep's 4 still without results" in first.stderr
  early = sweep([*args, "--merge"], fashion_env, check=False)
  assert early.returncode == 1 and "2 of 4 members have no results" in early.stderr
  assert "--shard=1/2" not in early.stderr and "Traceback" not in early.stderr
  second = [*COMMON, *args, "--shard=1/2"]
  proc = subprocess.Popen(
    [sys.executable, "-m", "experiments.sweep", *second],
    cwd=REPO,
    env=fashion_env,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
  )
  done = set((tmp_path / "chunks").glob("*"))  # the first shard's chunk
  deadline = time.time() + 300
  while not [c for c in (tmp_path / "chunks").glob("*/checkpoints/10") if c.parents[1] not in done]:
    assert proc.poll() is None and time.time() < deadline, "the shard ended before step 10"
    time.sleep(0.1)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  sweep(second[len(COMMON) :], fashion_env)
  merged = sweep([*args, "--merge"], fashion_env)
  _same_results(_rows(tmp_path), _rows(workdir))  # bit for bit: the same chunks of one
  assert merged.stdout == (workdir / "results.md").read_text() + "\n"


@pytest.mark.long  # two processes that each import, compile and train: about 50 s
@SAME_WORKER  # they share the session-scoped `finished` sweep
def test_two_processes_of_one_jax_runtime_give_the_results_of_one(finished, fashion_env, tmp_path):
  """Two CPU processes joined by jax.distributed (coordinator on 127.0.0.1, gloo): each chunk
  of two members sharded over both processes' devices, process 0 writing the results. The
  same table and numbers (to 1e-5) as one process with two devices training the same pairs;
  the same members as the one-process sweep that trains them one by one, whose numbers
  differ by summation order (a vmapped pair against members alone), which a GAN amplifies:
  4e-4 in one member's losses after 20 steps, measured 2026-12-05."""
  workdir, args, _ = finished
  args = [a for a in args if not a.startswith("--workdir")]
  outs = run_as_processes(
    "experiments.sweep", [*COMMON, *args, f"--workdir={tmp_path / 'two'}"], fashion_env
  )
  codes = [code for code, _, _ in outs]
  assert codes == [0, 0], outs[0][2][-2000:] + outs[1][2][-2000:]
  devices = f"{fashion_env['XLA_FLAGS']} --xla_force_host_platform_device_count=2".strip()
  one = dict(fashion_env, XLA_FLAGS=devices)  # the two processes' compile options, two devices
  paired = sweep([*args, "--chunk=2", f"--workdir={tmp_path / 'one'}"], one)
  table = (tmp_path / "one" / "results.md").read_text()
  assert table in paired.stdout and table in outs[0][1] and "| ns |" not in outs[1][1]
  pairs = sorted(d.split("_")[0] for d in os.listdir(tmp_path / "two" / "chunks"))
  assert pairs == ["0-1", "2-3"]  # chunks of two, one member per process
  _same_results(_rows(tmp_path / "two"), _rows(tmp_path / "one"), rtol=1e-5)
  assert {i: r["config"]["lr"] for i, r in _rows(tmp_path / "two").items()} == {
    i: r["config"]["lr"] for i, r in _rows(workdir).items()
  }


def test_a_spec_file_gives_the_sweep_and_flags_replace_its_values(fashion_env, tmp_path):
  spec = tmp_path / "spec.py"
  spec.write_text(
    "from jaxgan.sweeps.search import Choice\n"
    "from jaxgan.sweeps.spec import SweepSpec\n"
    "def get_spec():\n"
    "  return SweepSpec(base={'steps': 50, 'arch': 'mlp'}, losses=('ns', 'lsgan'),\n"
    "                   grid={'lr': [1e-4, 2e-4]}, random={'beta1': Choice((0.0, 0.5))},\n"
    "                   samples=2, seeds=3)\n"
  )
  from jaxgan.sweeps import spec as sweep_spec

  members = sweep_spec.members(sweep_spec.load(str(spec)), str(tmp_path / "w"))
  assert len(members) == 2 * 2 * 2 * 3 and {m.steps for m in members} == {50}
  assert [m.seed for m in members[:3]] == [0, 1, 2] and members[-1].loss == "lsgan"
  assert members[5].workdir == str(tmp_path / "w" / "members" / "5")
  listed = sweep([f"--spec={spec}", "--seeds=1", "--steps=7", "--list"], fashion_env).stdout
  assert len(listed.splitlines()) == 8  # --seeds=1 replaces the spec's 3
  dry = sweep([f"--spec={spec}", "--steps=7", "--dry_run"], fashion_env).stdout
  assert "7 steps" in dry and "50 steps" not in dry
  shipped = sweep(["--spec=lucic_narrow_mlp", "--list"], fashion_env).stdout
  flags = ["--preset=lucic_narrow", "--losses=ns,lsgan,wgan,wgan_gp,dragan,began", "--arch=mlp"]
  flags += ["--samples=4", "--seeds=2", "--steps=300", "--list"]
  assert shipped == sweep(flags, fashion_env).stdout and len(shipped.splitlines()) == 48
  spec.write_text("def get_spec():\n  return {'losses': 'ns'}\n")
  bad = sweep([f"--spec={spec}", "--list"], fashion_env, check=False)
  assert bad.returncode == 2 and "not a SweepSpec" in bad.stderr and "Traceback" not in bad.stderr
  with pytest.raises(sweep_spec.SpecError, match="'nope' is not a config field"):
    sweep_spec.SweepSpec(grid={"nope": [1]})
  for body, says in [
    ("raise RuntimeError('no GPU here')", "failed: RuntimeError: no GPU here"),
    ("return SweepSpec(grids={'lr': [1e-4]})", "unexpected keyword argument 'grids'"),
    ("return SweepSpec(grid={'lr': 1e-4})", "grid['lr']=0.0001: expected a list of values"),
    ("return SweepSpec(grid={'lr': ['fast', 2e-4]})", "--lr='fast': must be float or int"),
    ("return SweepSpec(grid={'lr': [float('nan')]})", "--lr=nan: must be a finite number"),
  ]:
    spec.write_text(f"from jaxgan.sweeps.spec import SweepSpec\ndef get_spec():\n  {body}\n")
    with pytest.raises(sweep_spec.SpecError, match=re.escape(says)) as e:
      sweep_spec.load(str(spec))
    assert str(spec) in str(e.value)


def test_what_a_sweep_does_not_do_is_refused_before_it_starts():
  ok = [make_config(dataset="folder:/data/faces", image_size=32)]
  sweep_spec.check_trainable(ok)  # own images are fine
  sweep_spec.check_trainable([make_config(features="inception")] * 2)  # scored as papers do
  for bad, message in (
    ({"dataset": "ring"}, "2-D toys"),
    ({"features": "inception"}, "one feature space"),
    ({"data_placement": "host"}, "on the device"),
  ):
    with pytest.raises(sweep_spec.SpecError, match=message):
      sweep_spec.check_trainable([*ok, make_config(**bad)])


def test_members_scored_in_inception_features_are_ranked_by_fid(tmp_path):
  """A sweep's score is named for its feature space: ``fid`` in Inception's, in the rows, the
  tables and the figures (the runner names it so: ``runner._scores``)."""
  from jaxgan.config import to_dict
  from jaxgan.sweeps import report, runner

  class Scorer:
    def metrics(self, images):
      return {"fd": float(images.mean()), "kid": 0.5, "reference": "the test split"}

  assert runner._scores(Scorer(), np.ones((4, 2)), "fid") == {"fid": 1.0, "kid": 0.5}
  rows = []
  for i, (loss, lr, fid) in enumerate(
    [("ns", 1e-4, 30.0), ("ns", 2e-4, 20.0), ("lsgan", 1e-4, 25.0)]
  ):
    cfg = to_dict(make_config(loss=loss, lr=lr, features="inception"))
    rows.append(
      {"member": i, "config": {**cfg, "workdir": f"members/{i}"}, "final": {"d_loss": 1.0},
       "fid": fid, "best_fid": fid, "best_step": 10, "diverged": False, "diverged_step": None,
       "steps": 10, "wall_s": 1.0}
    )  # fmt: skip
  table = report.write_report(rows, str(tmp_path))
  assert "best FID (its step)" in table and "| ns | 20.00 (step 10) |" in table
  assert "| lsgan | 25.00 (step 10) |" in table
  header = (tmp_path / "results.csv").read_text().splitlines()[0].split(",")
  assert {"fid", "best_fid"} <= set(header) and "fcd" not in header
  assert {"fid_by_loss.png", "fid_vs_lr.png"} <= set(os.listdir(tmp_path))
