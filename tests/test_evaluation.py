"""experiments.evaluate, experiments.sample and experiments.floors on a tiny class-conditional
Fashion-MNIST run (AC-GAN: so every unconditional metric and picture, and the conditional ones
beside them): every metric per checkpoint, the pictures, the floors table."""

import json
import os

import numpy as np
import pytest

from jaxgan.eval.interpolation import slerp

from conftest import CLASSIFIER_STEPS
from helpers import run_module

CLASSIFIER = f"--classifier_steps={CLASSIFIER_STEPS}"  # one cached training a session
SAME_WORKER = pytest.mark.xdist_group("evaluation")  # they share the session's tiny run


@pytest.fixture(scope="session")
def tiny_run(fashion_env, tmp_path_factory):
  workdir = tmp_path_factory.mktemp("eval") / "run"
  run_module(
    "experiments.mnist",
    ["--dataset=fashion_mnist", "--steps=40", "--ckpt_every=20", "--log_every=20",
     "--sample_every=0", "--progress=false", f"--workdir={workdir}", "--conditional=acgan",
     "--eval_every=20", "--eval_samples=200", CLASSIFIER],
    fashion_env,
  )  # fmt: skip
  return workdir


@SAME_WORKER
def test_a_run_logs_every_metric_every_eval_every_steps(tiny_run):
  records = [json.loads(line) for line in open(tiny_run / "metrics.jsonl")]
  assert [r["step"] for r in records] == [20, 40]
  for r in records:  # 200 samples from the same latents each time, every metric
    assert r["n_fake"] == 200 and r["fd"] > 0 and 0 <= r["recall"] <= 1
    assert {"kid", "kid_std", "classifier_score", "precision", "density", "coverage"} <= set(r)
    # a conditional run's: 20 samples generated for each class, and AC-GAN's class losses
    assert 0 <= r["class_accuracy"] <= 1 and r["intra_class_fd"] > 0
    assert r["d_class"] > 0 and r["g_class"] > 0
  assert records[0]["fd"] != records[1]["fd"]
  config = json.load(open(tiny_run / "config.json"))
  assert config["num_classes"] == 10 and config["conditional"] == "acgan"
  from PIL import Image  # one row of 10 per class: 28 px + 1 px borders, drawn ×2

  assert Image.open(tiny_run / "samples_final.png").size == (2 * (10 * 29 + 1),) * 2
  assert (tiny_run / "eval_metrics.png").stat().st_size > 0


@SAME_WORKER
def test_evaluate_scores_every_checkpoint_with_every_metric(tiny_run, fashion_env):
  proc = run_module(
    "experiments.evaluate", [f"--workdir={tiny_run}", "--num_samples=500", CLASSIFIER], fashion_env
  )
  records = [json.loads(line) for line in open(tiny_run / "evaluation.jsonl")]
  assert [r["step"] for r in records] == [20, 40]
  for r in records:
    assert r["n_real"] == 10000 and r["n_fake"] == 500
    assert r["reference"] == "fashion_mnist test split" and "classifier" in r["feature_space"]
    assert r["fd"] > 0 and 1 <= r["classifier_score"] <= 10 and r["kid_std"] >= 0
    assert all(0 <= r[k] <= 1 for k in ("precision", "recall", "coverage"))
    assert r["density"] >= 0
    assert 0 <= r["class_accuracy"] <= 1 and r["intra_class_fd"] > 0
    assert r["class_accuracy_real"] > 0.5  # the classifier's test accuracy: the ceiling
  assert sum(bool(r.get("best")) for r in records) == 1
  best = next(r for r in records if r.get("best"))
  assert best["fd"] == min(r["fd"] for r in records)
  assert "| 20 |" in proc.stdout and "best |" in proc.stdout and "intra_class_fd" in proc.stdout
  assert (tiny_run / "evaluation.png").exists()


@SAME_WORKER
def test_sample_writes_the_grid_interpolations_and_confusion_of_a_conditional_run(
  tiny_run, fashion_env
):
  proc = run_module(
    "experiments.sample", [f"--workdir={tiny_run}", "--num_samples=500", CLASSIFIER], fashion_env
  )
  record = json.loads(proc.stdout.strip().splitlines()[-1])
  assert record["step"] == 40
  for name in ("grid_40.png", "interpolation_40.png", "confusion_40.png"):
    assert (tiny_run / "samples" / name).stat().st_size > 0
  matrix = np.array(record["confusion"])  # rows: the class asked for, 50 samples each
  assert matrix.shape == (10, 10) and np.allclose(matrix.sum(axis=1), 1)
  assert record["class_accuracy"] == pytest.approx(np.mean(np.diag(matrix)))
  missing = run_module(
    "experiments.sample", [f"--workdir={tiny_run}", "--step=30"], fashion_env, check=False
  )
  assert missing.returncode == 1 and "no checkpoint at step 30" in missing.stderr
  assert "Traceback" not in missing.stderr


def test_slerp_keeps_the_norm_between_equal_norm_latents():
  rng = np.random.default_rng(0)
  z0, z1 = rng.normal(size=(4, 64)), rng.normal(size=(4, 64))
  z1 *= np.linalg.norm(z0, axis=1, keepdims=True) / np.linalg.norm(z1, axis=1, keepdims=True)
  path = slerp(z0, z1, np.linspace(0, 1, 7))
  np.testing.assert_allclose(path[:, 0], z0, atol=1e-12)
  np.testing.assert_allclose(path[:, -1], z1, atol=1e-12)
  norms = np.linalg.norm(path, axis=-1)
  np.testing.assert_allclose(norms, norms[:, :1].repeat(7, 1), rtol=1e-12)


@pytest.mark.long  # its own unconditional run (the suite's tiny run is conditional): ~25 s
def test_sample_draws_the_class_histogram_of_an_unconditional_run(fashion_env, tmp_path):
  workdir = tmp_path / "run"
  run_module(
    "experiments.mnist",
    ["--dataset=fashion_mnist", "--steps=20", "--sample_every=0", "--progress=false",
     f"--workdir={workdir}"],
    fashion_env,
  )  # fmt: skip
  proc = run_module(
    "experiments.sample", [f"--workdir={workdir}", "--num_samples=500", CLASSIFIER], fashion_env
  )
  record = json.loads(proc.stdout.strip().splitlines()[-1])
  for name in ("grid_20.png", "interpolation_20.png", "classes_20.png"):
    assert (workdir / "samples" / name).stat().st_size > 0
  assert sum(record["class_shares"]) == pytest.approx(1, abs=1e-3)
  assert record["data_class_shares"] == [0.1] * 10  # Fashion-MNIST's test split is balanced


@pytest.mark.long  # trains and scores for about 15 s; the metrics themselves: test_quality
def test_floors_of_real_and_collapsed_images(fashion_env):
  proc = run_module(
    "experiments.floors", ["--datasets=fashion_mnist", "--num=1000", CLASSIFIER], fashion_env
  )
  rows = [l for l in proc.stdout.splitlines() if l.startswith("| fashion_mnist")]
  assert len(rows) == 4  # two of every metric, then two of class-conditional generation
  cells = [[c.strip() for c in row.split("|")[1:-1]] for row in rows[:2]]
  shown = ("fd", "kid", "classifier_score", "precision", "recall", "density", "coverage")
  col = lambda k: [float(c[3 + shown.index(k)].split(" ")[0]) for c in cells]
  fd, score, recall, coverage = col("fd"), col("classifier_score"), col("recall"), col("coverage")
  assert fd[1] > 20 * fd[0] and score[1] < 2 < score[0]  # one class: the score of one class
  assert recall[1] < recall[0] - 0.2 and coverage[1] < 0.5 * coverage[0]
  (_, _, acc_real, intra_real), (_, _, acc_one, intra_one) = (
    [c.strip() for c in row.split("|")[1:-1]] for row in rows[2:]
  )
  assert float(acc_real.rstrip("%")) > 70 and 5 < float(acc_one.rstrip("%")) < 15  # 1 of 10
  assert float(intra_one) > 20 * float(intra_real)


def read_events(folder):
  """Every event in the TFRecord files of ``folder`` (length, crc, payload, crc)."""
  import struct

  from tensorboardX.proto import event_pb2

  events = []
  for name in sorted(os.listdir(folder)):
    data = open(os.path.join(folder, name), "rb").read()
    i = 0
    while i < len(data):
      (n,) = struct.unpack("<Q", data[i : i + 8])
      event = event_pb2.Event()
      event.ParseFromString(data[i + 12 : i + 12 + n])
      events.append(event)
      i += 12 + n + 4
  return events


@SAME_WORKER
def test_a_run_writes_tensorboard_events_of_its_scalars_and_samples(tiny_run):
  events = read_events(tiny_run / "tensorboard")
  scalars = {
    (v.tag, e.step): v.simple_value
    for e in events
    for v in e.summary.value
    if v.HasField("simple_value")
  }
  logged = [json.loads(line) for line in open(tiny_run / "metrics.jsonl")]
  assert [r["step"] for r in logged] == [20, 40]
  for r in logged:  # the same numbers as metrics.jsonl, the source of truth
    for k in ("d_loss", "g_loss", "steps_per_sec"):
      assert scalars[(k, r["step"])] == pytest.approx(r[k], rel=1e-6)
  images = [
    (v.tag, e.step, v.image) for e in events for v in e.summary.value if v.HasField("image")
  ]
  assert [(tag, step) for tag, step, _ in images] == [("samples", 40)]
  assert images[0][2].height > 280 and images[0][2].encoded_image_string[:4] == b"\x89PNG"


@SAME_WORKER
def test_inception_features_without_their_weights_are_refused_in_one_message(
  tiny_run, fashion_env, tmp_path
):
  env = dict(fashion_env, JAXGAN_OFFLINE="1", JAXGAN_CACHE=str(tmp_path / "empty-cache"))
  for module in ("experiments.evaluate", "experiments.score"):
    proc = run_module(module, [f"--workdir={tiny_run}", "--features=inception"], env, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "needs the FID Inception weights" in proc.stderr and "--inception_weights" in proc.stderr
  proc = run_module(
    "experiments.score", [f"--workdir={tiny_run}", "--features=inception",
                          f"--inception_weights={tmp_path / 'none.pth'}"], env, check=False,
  )  # fmt: skip
  assert proc.returncode == 2 and "no such file" in proc.stderr
