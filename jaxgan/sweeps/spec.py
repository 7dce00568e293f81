"""What a sweep trains: a :class:`SweepSpec`, from flags or from a Python spec file.

A spec names the losses, a search (a Lucic et al. preset, or grid axes crossed with random
axes), the seeds, and the config fields shared by every member. :func:`members` turns it into
one validated :class:`~jaxgan.config.Config` per loss × point × seed. A spec file (big_vision
style) is a Python file with a ``get_spec()`` returning a ``SweepSpec``; its docstring gives
the command that runs it and the result to expect (``experiments/sweeps/``).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from typing import Any

from jaxgan import config as config_lib
from jaxgan.nets import models
from jaxgan.sweeps import search


class SpecError(ValueError):
  pass


@dataclasses.dataclass(frozen=True)
class SweepSpec:
  """``base``: config fields for every member. ``losses``: default ``base["loss"]``.
  ``preset``: one of :data:`jaxgan.sweeps.search.PRESETS` (then no ``grid``/``random``).
  ``grid``: field -> values, crossed. ``random``: field -> :class:`jaxgan.sweeps.search.Choice` /
  ``Uniform`` / ``LogUniform``, ``samples`` draws per loss from ``search_seed``."""

  base: dict[str, Any] = dataclasses.field(default_factory=dict)
  losses: tuple[str, ...] = ()
  preset: str | None = None
  grid: dict[str, list] = dataclasses.field(default_factory=dict)
  random: dict[str, Any] = dataclasses.field(default_factory=dict)
  samples: int = 1
  seeds: int = 1
  search_seed: int = 0

  def __post_init__(self):
    _check_types(self)
    if self.preset is not None and self.preset not in search.PRESETS:
      raise SpecError(f"preset {self.preset!r}: expected one of {', '.join(search.PRESETS)}")
    if self.preset and (self.grid or self.random):
      raise SpecError(f"--preset={self.preset} is a search of its own: drop --grid and --random")
    if self.samples < 1 or self.seeds < 1:
      raise SpecError(f"samples and seeds must be >= 1, not {self.samples} and {self.seeds}")
    varied = {*self.grid, *self.random, *self.base}
    unknown = sorted(varied - set(config_lib.FIELDS) | (varied & {"workdir"}))
    if unknown:
      raise SpecError(f"{unknown[0]!r} is not a config field that a sweep can vary")


def _check_types(spec: SweepSpec) -> None:
  """Refuses fields of the wrong type, naming the field (a spec file is typed by hand)."""

  def expect(name, value, kinds, what):
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
      raise SpecError(f"SweepSpec {name}={value!r}: expected {what}")

  for name in ("base", "grid", "random"):
    expect(name, getattr(spec, name), dict, "a dict of config fields")
  expect("losses", spec.losses, (tuple, list), "a tuple of loss names")
  for loss in spec.losses:
    expect("losses", loss, str, "a tuple of loss names")
  expect("preset", spec.preset, (str, type(None)), "a preset's name or None")
  for name in ("samples", "seeds", "search_seed"):
    expect(name, getattr(spec, name), int, "an integer")
  for field, values in spec.grid.items():
    expect(f"grid[{field!r}]", values, (list, tuple), "a list of values")


def points(spec: SweepSpec, loss: str, index: int) -> list[dict]:
  """The search points of the ``index``-th loss (each a dict of config fields)."""
  seed = spec.search_seed * 1000 + index
  if spec.preset:
    arch = models.ARCHS.get(spec.base.get("arch", "mlp"))
    batch_norm_ok = arch is not None and "batch" in arch.d_norms
    return [
      {"loss": loss, **p}
      for p in search.lucic(spec.preset, loss, spec.samples, seed, batch_norm_ok)
    ]
  drawn = search.draw(spec.random, spec.samples, seed) if spec.random else [{}]
  return [{"loss": loss, **g, **d} for g in search.grid(spec.grid) for d in drawn]


def member_dir(workdir: str) -> str:
  """A member's folder as a sweep records it: relative to the sweep's workdir
  (``members/<i>``), so that a sweep moved elsewhere is still the same sweep. Takes the
  member's own path (or an older sweep's absolute record of it)."""
  return os.path.join("members", os.path.basename(os.path.normpath(workdir)))


def members(spec: SweepSpec, workdir: str) -> list[config_lib.Config]:
  """One validated Config per loss × point × seed (seeds ``base["seed"]``, + 1, ...), member
  ``i`` writing into ``<workdir>/members/<i>``."""
  losses = spec.losses or (spec.base.get("loss", "ns"),)
  base_seed = spec.base.get("seed", 0)
  out = []
  for i, loss in enumerate(losses):
    for point in points(spec, loss, i):
      for s in range(spec.seeds):
        values = {**spec.base, **point, "seed": base_seed + s}
        values["workdir"] = os.path.join(workdir, "members", str(len(out)))
        out.append(config_lib.make_config(**values))
  return out


def check_trainable(members: list[config_lib.Config]) -> None:
  """Raises :class:`SpecError` for what a sweep does not do: 2-D toys, members scored in
  different feature spaces (its tables rank them by one score) and data kept on the host (a
  population samples its batches from the device)."""
  if not all(config_lib.is_image_dataset(m.dataset) for m in members):
    shown = "|".join(config_lib.IMAGE_DATASETS + config_lib.OPEN_DATASETS)
    raise SpecError(f"a sweep trains on image datasets ({shown}); 2-D toys: experiments.toy2d")
  if len({m.features for m in members}) > 1:
    raise SpecError("a sweep scores all its members in one feature space (one --features)")
  if any(m.data_placement == "host" for m in members):
    raise SpecError("a sweep keeps its data on the device (--data_placement=device or auto)")


def load(path: str) -> SweepSpec:
  """The ``SweepSpec`` that ``get_spec()`` of the Python file at ``path`` returns."""
  if not os.path.isfile(path):
    raise SpecError(f"spec file {path} does not exist")
  module_spec = importlib.util.spec_from_file_location("_jaxgan_sweep_spec", path)
  module = importlib.util.module_from_spec(module_spec)
  try:
    module_spec.loader.exec_module(module)
  except Exception as e:  # a spec file is user code: report, do not crash
    raise SpecError(f"spec file {path} failed to load: {type(e).__name__}: {e}") from None
  get_spec = getattr(module, "get_spec", None)  # the file's one required name
  if get_spec is None:
    raise SpecError(f"spec file {path} defines no get_spec()")
  try:
    spec = get_spec()
  except Exception as e:  # user code again, SweepSpec's own refusals included
    raise SpecError(f"get_spec() of spec file {path} failed: {type(e).__name__}: {e}") from None
  if not isinstance(spec, SweepSpec):
    raise SpecError(f"get_spec() of {path} returned {type(spec).__name__}, not a SweepSpec")
  try:
    members(spec, "workdir")  # every member's config, validated before any work starts
  except config_lib.ConfigError as e:
    raise SpecError(f"spec file {path}: {e}") from None
  return spec
