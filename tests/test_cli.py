"""`python -m experiments.mnist` end to end on the real MNIST test split from ../shared/data."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from helpers import run_module

# One worker runs this whole module, so the module-scoped run below is made once.
pytestmark = pytest.mark.xdist_group("cli")

COMMON = [
  "--dataset=mnist",
  "--split=test",
  "--log_every=10",
  "--ckpt_every=20",
  "--sample_every=20",
  "--steps_per_call=10",
  "--progress=false",
]


def cli(args, env, check=True, **kw):
  return run_module("experiments.mnist", args, env, check, **kw)


def final_params(workdir):
  from jaxgan.run.checkpoint import Checkpointer

  ckpt = Checkpointer(str(Path(workdir) / "checkpoints"))
  step = ckpt.latest_step()
  restored = ckpt.manager.restore(step)  # raw pytree, no template needed
  ckpt.close()
  return step, restored


def losses_by_step(workdir):
  rows = [json.loads(l) for l in open(Path(workdir) / "metrics.jsonl")]
  return {r["step"]: (r["d_loss"], r["g_loss"], r["d_real"], r["d_fake"]) for r in rows}


@pytest.fixture(scope="session")  # not module: xdist may interleave other modules' tests
def full_run(offline_env, tmp_path_factory):
  workdir = tmp_path_factory.mktemp("run") / "full"
  cli(["--loss=ns", "--steps=60", f"--workdir={workdir}", *COMMON], offline_env)
  return workdir


def test_run_writes_every_output(full_run):
  import PIL.Image

  names = set(os.listdir(full_run))
  assert {
    "config.json",
    "metrics.jsonl",
    "losses.png",
    "samples_final.png",
    "samples_0000020.png",
    "samples_0000040.png",
    "samples_0000060.png",
    "checkpoints",
  } <= names
  config = json.load(open(full_run / "config.json"))
  assert config["loss"] == "ns" and config["batch_size"] == 64 and config["lr"] == 2e-4
  assert config["total_steps"] == 60 and config["num_examples"] == 10000
  rows = [json.loads(l) for l in open(full_run / "metrics.jsonl")]
  assert [r["step"] for r in rows] == [10, 20, 30, 40, 50, 60]
  for r in rows:
    assert {"d_loss", "g_loss", "d_real", "d_fake", "steps_per_sec", "wall_time"} <= set(r)
    assert np.isfinite([r["d_loss"], r["g_loss"]]).all()
  grid = PIL.Image.open(full_run / "samples_final.png")
  assert grid.size == (2 * (10 * 29 + 1),) * 2  # 10×10 tiles of 28 px, 1 px gaps, 2× scale
  assert np.asarray(grid).std() > 1  # not a blank image
  assert sorted(os.listdir(full_run / "checkpoints")) == ["20", "40", "60"]


def test_resume_after_a_kill_equals_an_uninterrupted_run(full_run, offline_env, tmp_path):
  """Also the compilation cache: the killed run compiles with the cache off (and writes
  none), the resumed one loads what the uninterrupted run stored; all three agree bit for bit."""
  assert os.listdir(Path(offline_env["JAXGAN_CACHE"]) / "xla")  # full_run filled it
  workdir = tmp_path / "killed"
  args = [f"--workdir={workdir}", *COMMON]
  no_cache = dict(offline_env, JAXGAN_CACHE=str(tmp_path / "cache"))
  proc = subprocess.Popen(
    [
      sys.executable,
      "-m",
      "experiments.mnist",
      "--loss=ns",
      "--steps=100000",
      "--nocompilation_cache",
      *args,
    ],
    cwd=REPO,
    env=no_cache,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
  )
  deadline = time.time() + 300
  while not (workdir / "checkpoints" / "40").exists():
    assert proc.poll() is None and time.time() < deadline, "run ended before its checkpoint 40"
    time.sleep(0.2)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  assert not (tmp_path / "cache").exists()
  # Resume the killed run and finish it at step 60 like the uninterrupted one.
  cli(["--loss=ns", "--steps=60", "--resume", *args], offline_env)
  step_a, a = final_params(full_run)
  step_b, b = final_params(workdir)
  assert step_a == step_b == 60
  import jax

  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_array_equal(x, y)  # bit for bit
  full, resumed = losses_by_step(full_run), losses_by_step(workdir)
  assert full == resumed


def test_existing_checkpoints_are_never_overwritten(full_run, offline_env):
  before = sorted(os.listdir(full_run / "checkpoints"))
  proc = cli(["--steps=60", f"--workdir={full_run}", *COMMON], offline_env, check=False)
  assert proc.returncode == 1
  assert "--resume" in proc.stderr and "Traceback" not in proc.stderr
  assert sorted(os.listdir(full_run / "checkpoints")) == before


def test_corrupt_checkpoint_on_resume(full_run, offline_env, tmp_path):
  import shutil

  workdir = tmp_path / "corrupt"
  shutil.copytree(full_run, workdir)
  # The arrays' data files truncated, their metadata intact: orbax starts every read, one
  # fails, and the others are abandoned (test_checkpoint damages every file).
  data = [p for p in (workdir / "checkpoints" / "60").rglob("d/*") if p.is_file()]
  assert data
  for p in data:
    p.write_bytes(p.read_bytes()[:10])
  proc = cli(["--steps=80", "--resume", f"--workdir={workdir}", *COMMON], offline_env, check=False)
  assert proc.returncode == 1, proc.stderr[-2000:]
  assert "checkpoint 60" in proc.stderr and "could not be restored" in proc.stderr
  assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
  assert sorted(os.listdir(workdir / "checkpoints")) == ["20", "40", "60"]


@pytest.mark.parametrize(
  "flag,expect",
  [
    ("--loss=foo", "mm|ns"),
    ("--arch=vgg", "mlp|dcgan|infogan|sndcgan|resnet"),
    ("--dataset=cifar", "mnist|fashion_mnist"),
    ("--batch_size=0", "batch_size"),
    ("--compute_dtype=float16", "bfloat16|float32"),
  ],
)
def test_bad_flags_exit_2_with_choices(flag, expect, offline_env):
  proc = cli([flag], offline_env, check=False)
  assert proc.returncode == 2
  assert expect in proc.stderr and "Traceback" not in proc.stderr


def test_missing_offline_dataset_is_explained(offline_env, tmp_path):
  env = dict(
    offline_env,
    JAXGAN_IDX_DIR=str(tmp_path / "empty"),
    TFDS_DATA_DIR=str(tmp_path),
    JAXGAN_OFFLINE="1",
  )
  proc = cli(["--dataset=mnist", "--split=train", f"--workdir={tmp_path / 'w'}"], env, check=False)
  assert proc.returncode == 1
  assert "not available offline" in proc.stderr and "JAXGAN_IDX_DIR" in proc.stderr
  assert "Traceback" not in proc.stderr


def test_score_says_when_the_classifier_data_is_missing(
  full_run, offline_env, mnist_without_train, tmp_path
):
  """MNIST's train images (the classifier's training data) are not available offline."""
  offline_env = dict(
    offline_env, JAXGAN_IDX_DIR=str(mnist_without_train), TFDS_DATA_DIR=str(tmp_path / "tfds")
  )
  proc = subprocess.run(
    [sys.executable, "-m", "experiments.score", f"--workdir={full_run}", "--num_samples=100"],
    cwd=REPO,
    capture_output=True,
    text=True,
    env=dict(offline_env, JAXGAN_OFFLINE="1"),
    timeout=300,
  )
  assert proc.returncode == 1
  assert "not available offline" in proc.stderr and "Traceback" not in proc.stderr
  assert not (full_run / "score.json").exists()


@pytest.mark.parametrize("command", ["score", "evaluate"])
def test_scoring_a_run_without_checkpoints_exits_1_before_any_work(offline_env, tmp_path, command):
  (tmp_path / "config.json").write_text("{}")
  proc = subprocess.run(
    [sys.executable, "-m", f"experiments.{command}", f"--workdir={tmp_path}"],
    cwd=REPO,
    capture_output=True,
    text=True,
    env=offline_env,
    timeout=300,
  )
  assert proc.returncode == 1 and "no checkpoints" in proc.stderr
  assert "Traceback" not in proc.stderr and "classifier" not in proc.stderr


@pytest.mark.parametrize(
  "flags,expect",
  [
    (["--penalty=l2"], "gp|gp_one_sided|dragan|r1|r2"),
    (["--simultaneous", "--n_disc=2"], "--n_disc=1"),
    (["--d_norm=batch"], "--arch=mlp"),
  ],
)
def test_bad_training_controls_exit_2(flags, expect, offline_env):
  proc = cli(flags, offline_env, check=False)
  assert proc.returncode == 2
  assert expect in proc.stderr and "Traceback" not in proc.stderr
