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

FLAGS = flags.FLAGS


def _define(field: dataclasses.Field, hint, default) -> None:
  meta, name = field.metadata, field.name
  kind = ([t for t in typing.get_args(hint) if t is not type(None)] or [hint])[0]
  bounds = {"lower_bound": meta["lower"], "upper_bound": meta["upper"]}
  if meta["choices"] is not None:
    flags.DEFINE_enum(name, default, meta["choices"](), meta["help"])
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
    from jaxgan.cache import enable_compilation_cache

    enable_compilation_cache()
  return cfg
