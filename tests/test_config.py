"""One configuration: defaults, what losses and architectures imply, validation, files, flags."""

import dataclasses
import json
import subprocess
import sys

import pytest

from jaxgan import config as config_lib
from jaxgan.config import ConfigError, make_config

from conftest import REPO


def test_losses_and_architectures_bring_their_settings_unless_set():
  assert make_config().penalty == "none" and make_config().clip == 0.0
  gp = make_config(loss="wgan_gp", arch="infogan")
  assert (gp.penalty, gp.penalty_weight, gp.z_dim, gp.d_norm) == ("gp", 10.0, 64, "none")
  assert make_config(loss="wgan").clip == 0.01
  assert make_config(loss="wgan", clip=0.0).clip == 0.0  # off, explicitly
  assert make_config(loss="wgan_gp", penalty="none").penalty == "none"
  assert make_config(arch="sndcgan").d_norm == "spectral"
  assert make_config(arch="sndcgan", z_dim=7).z_dim == 7
  assert make_config(seed=3, loss="hinge").workdir == "runs/mnist_mlp_hinge_s3"


@pytest.mark.parametrize(
  "overrides,message",
  [
    ({"loss": "foo"}, "--loss=foo: choose one of mm|ns"),
    ({"batch_size": 0}, "--batch_size=0: must be at least 1"),
    ({"beta1": 1.5}, "--beta1=1.5: must be at most 1"),
    ({"penalty": "l2"}, "gp|gp_one_sided"),
    ({"simultaneous": True, "n_disc": 2}, "--n_disc=1"),
    ({"consensus": 1.0}, "--simultaneous"),
    ({"d_norm": "batch"}, "--arch=mlp takes --d_norm=none"),
    ({"arch": "resnet", "d_norm": "batch"}, "spectral or none"),
    ({"nope": 1}, "unknown setting(s) nope"),
  ],
)
def test_bad_settings_raise_one_error_type_naming_the_flag(overrides, message):
  with pytest.raises(
    ConfigError, match=message.replace("|", r"\|").replace("(", r"\(").replace(")", r"\)")
  ):
    make_config(**overrides)


def test_save_and_load_round_trip(tmp_path):
  cfg = make_config(loss="dragan", arch="dcgan", lr=1e-3, steps=7, workdir=str(tmp_path))
  path = str(tmp_path / "config.json")
  config_lib.save(cfg, path, platform="cpu")
  assert json.load(open(path))["platform"] == "cpu"
  assert config_lib.load(path) == cfg


def test_a_config_written_before_the_single_config_reads_as_it_meant(tmp_path):
  """Older config.json files wrote None for "the loss's or architecture's default"."""
  path = tmp_path / "config.json"
  path.write_text(
    json.dumps(
      {
        "loss": "wgan_gp",
        "arch": "infogan",
        "penalty": None,
        "penalty_weight": None,
        "clip": None,
        "z_dim": None,
        "d_norm": None,
        "ema_decay": 0.0,
        "z_dim_used": 64,
      }
    )
  )
  cfg = config_lib.load(str(path))
  assert (cfg.penalty, cfg.penalty_weight, cfg.clip, cfg.z_dim) == ("gp", 10.0, 0.0, 64)


def test_resuming_may_change_only_how_a_run_is_driven():
  a = make_config(steps=10)
  assert config_lib.differences(a, dataclasses.replace(a, steps=20, resume=True)) == {}
  assert config_lib.differences(a, dataclasses.replace(a, lr=1.0)) == {"lr": (2e-4, 1.0)}


def test_every_field_is_a_flag_with_its_help():
  out = subprocess.run(
    [sys.executable, "-m", "experiments.mnist", "--helpfull"],
    cwd=REPO,
    capture_output=True,
    text=True,
    timeout=120,
  ).stdout
  for field in dataclasses.fields(config_lib.Config):
    assert f"--{field.name}" in out or f"--[no]{field.name}" in out, field.name
    assert field.metadata["help"].split()[0] in out


def test_the_flag_reference_is_the_declarations():
  """docs/flags.md is generated from Config; regenerate it with
  `python -m experiments.flags docs/flags.md` when a setting changes."""
  from experiments import flags as config_flags

  assert (REPO / "docs" / "flags.md").read_text() == config_flags.reference()


def test_help_lists_the_commands_own_flags_with_defaults():
  out = subprocess.run(
    [sys.executable, "-m", "experiments.mnist", "--help"],
    cwd=REPO,
    capture_output=True,
    text=True,
    timeout=120,
  ).stdout
  assert "--optimizer: <adam|rmsprop|sgd>" in out and "(default: 'adam')" in out
  assert "--grad_clip" in out and "--lr_schedule" in out
  assert "--flagfile" not in out  # absl's own flags stay in --helpfull


def test_roles_give_the_population_and_resume_sets():
  from jaxgan.sweeps import population

  assert {"lr", "beta1", "grad_clip", "began_gamma", "seed"} <= set(population.MEMBER_FIELDS)
  assert {"optimizer", "lr_schedule", "n_disc"}.isdisjoint(population.MEMBER_FIELDS)
  assert "ema_decay" in population.SWITCHES and "grad_clip" not in population.SWITCHES
  assert set(config_lib.RESUMABLE_CHANGES) >= {"steps", "log_every", "workdir"}
  assert config_lib.params_of(make_config(), "loss", "began") == {"gamma": 0.5, "lambda_k": 0.001}
  assert config_lib.params_of(make_config(beta1=0.1), "optimizer", "adam") == {
    "b1": 0.1,
    "b2": 0.999,
  }


def test_a_scheduled_run_may_not_change_its_length_on_resume():
  a = make_config(steps=10, lr_schedule="linear")
  assert config_lib.differences(a, dataclasses.replace(a, steps=20)) == {"steps": (10, 20)}
  assert config_lib.differences(a, dataclasses.replace(a, log_every=5)) == {}
