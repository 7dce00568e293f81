"""Command-line flags generated from :class:`jaxgan.config.Config`, and their parsing.

Every field of the config is a flag of the same name, type, help text, choices and bounds;
:func:`config_from_flags` turns the flags given on the command line into overrides of
:func:`jaxgan.config.make_config`, so a flag left out takes the default, or what the loss and
architecture imply. A bad value prints the reason (with the choices) and exits with code 2.
"""

from __future__ import annotations

import dataclasses
import sys
import typing

from absl import flags

from jaxgan import config as config_lib
from jaxgan.run.cache import enable_compilation_cache

FLAGS = flags.FLAGS


def _define(field: dataclasses.Field, hint, default) -> None:
  meta, name = field.metadata, field.name
  kind = ([t for t in typing.get_args(hint) if t is not type(None)] or [hint])[0]
  bounds = {"lower_bound": meta["lower"], "upper_bound": meta["upper"]}
  if meta["choices"] is not None and not meta["patterns"]:
    flags.DEFINE_enum(name, default, meta["choices"](), meta["help"])
  elif meta["choices"] is not None:  # checked by the config, which knows the patterns
    shown = "|".join(meta["choices"]() + meta["patterns"])
    flags.DEFINE_string(name, default, f"<{shown}>: {meta['help']}")
  elif kind is bool:
    flags.DEFINE_boolean(name, default, meta["help"])
  elif kind is int:
    flags.DEFINE_integer(name, default, meta["help"], **bounds)
  elif kind is float:
    flags.DEFINE_float(name, default, meta["help"], **bounds)
  else:
    flags.DEFINE_string(name, default, meta["help"])


def define_config_flags(**defaults) -> None:
  """Defines a flag per config field. ``defaults`` replace a field's default in the help;
  a field whose default is implied (by the loss or architecture) shows none."""
  hints = typing.get_type_hints(config_lib.Config)
  implied = set(config_lib.implied("ns", "mlp")) | {"penalty", "penalty_weight", "clip"}
  for field in dataclasses.fields(config_lib.Config):
    default = defaults.get(field.name, None if field.name in implied else field.default)
    _define(field, hints[field.name], default)


def define_feature_flags() -> None:
  """``--features`` and ``--inception_weights`` for the commands that score a saved run: as
  declared in the config, with the run's own as the default."""
  fields = {f.name: f for f in dataclasses.fields(config_lib.Config)}
  flags.DEFINE_enum(
    "features",
    None,
    fields["features"].metadata["choices"](),
    f"{fields['features'].metadata['help']} Default: the run's.",
  )
  flags.DEFINE_string(
    "inception_weights", None, f"{fields['inception_weights'].metadata['help']} Default: the run's."
  )


def feature_overrides() -> dict:
  """The feature flags given, to replace the saved run's."""
  return {"features": flags.FLAGS.features, "inception_weights": flags.FLAGS.inception_weights}


def parse_flags(argv: list[str]) -> list[str]:
  """Parses flags; a bad value prints the reason (with the choices) and exits with code 2."""
  try:
    rest = FLAGS(argv)
  except flags.Error as e:
    print(f"error: {e}\nRun with --helpshort for the flags.", file=sys.stderr)
    sys.exit(2)
  return rest


def bad_workdir_command(argv: list[str], workdir: str | None) -> int | None:
  """For the commands that read a run's workdir: exit code 2, said why, when ``argv`` has
  stray arguments or ``--workdir`` is missing; None when both are right."""
  if len(argv) > 1:
    print(f"error: unexpected arguments {argv[1:]}", file=sys.stderr)
    return 2
  if not workdir:
    print("error: --workdir is required (a run's output folder)", file=sys.stderr)
    return 2
  return None


def config_from_flags(defaults: dict | None = None) -> config_lib.Config:
  """The config of the flags given on the command line, over ``defaults`` (a script's own),
  over what the loss and architecture imply. Invalid settings print why and exit with 2.
  Turns on the compilation cache unless ``--nocompilation_cache``."""
  overrides = dict(defaults or {})
  overrides.update({name: FLAGS[name].value for name in config_lib.FIELDS if FLAGS[name].present})
  try:
    cfg = config_lib.make_config(**overrides)
  except config_lib.ConfigError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  if cfg.compilation_cache:
    enable_compilation_cache()
  return cfg


_ROLES = {
  config_lib.STATIC: "static",
  config_lib.MEMBER: "member",
  config_lib.LENGTH: "length",
  config_lib.DRIVER: "driver",
}


def _values(meta) -> str:
  if meta["choices"] is not None:
    return "\\|".join(meta["choices"]() + meta["patterns"])
  lower, upper = meta["lower"], meta["upper"]
  if lower is not None and upper is not None:
    return f"[{lower:g}, {upper:g}]"
  return f"≥ {lower:g}" if lower is not None else ""


def reference() -> str:
  """``docs/flags.md``: every setting of :class:`jaxgan.config.Config`, as declared."""
  implied = set(config_lib.implied("ns", "mlp")) | {"penalty", "penalty_weight", "clip"}
  lines = [
    "# Flags",
    "",
    "Every setting of `jaxgan.config.Config` is a flag of `experiments.mnist`, `experiments.toy2d`",
    "and `experiments.sweep` (a sweep's `--grid`/`--random` axes take the same names). This page",
    "is generated from the declarations: `python -m experiments.flags docs/flags.md`",
    "(`tests/test_config.py` fails when it is stale). Each command's `--help` lists its flags.",
    "",
    "Role: **static** settings change the compiled program (a sweep's members that differ in",
    "one train in separate populations); **member** settings are data of the program (members of",
    "one population may differ; † marks a switch: whether it is on, non-zero, is static);",
    "**length** is the run's length; **driver** settings change how a run is driven and written.",
    "A resumed run may change the length and driver settings (and `--workdir`), except that a",
    "run with an `--lr_schedule` keeps its length.",
    "",
    "| flag | default | role | values | help |",
    "| --- | --- | --- | --- | --- |",
  ]
  for f in dataclasses.fields(config_lib.Config):
    meta = f.metadata
    default = "(implied)" if f.name in implied else f"`{f.default}`"
    role = _ROLES[meta["role"]] + (" †" if meta["switch"] else "")
    help_text = meta["help"].replace("|", "\\|")
    lines.append(f"| `--{f.name}` | {default} | {role} | {_values(meta)} | {help_text} |")
  return "\n".join(lines) + "\n"


if __name__ == "__main__":
  from jaxgan.io import write_atomic

  if len(sys.argv) != 2:
    sys.exit("usage: python -m experiments.flags docs/flags.md")
  text = reference().encode()
  write_atomic(sys.argv[1], lambda f: f.write(text))
