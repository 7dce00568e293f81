r"""A GAN study as one command: many configurations, trained as populations, scored, tabled.

  python -m experiments.sweep --losses=ns,lsgan,wgan_gp --grid=lr:1e-4,2e-4 --seeds=3 \
      --dataset=fashion_mnist --steps=300 --workdir=runs/sweep_lr
  python -m experiments.sweep --preset=lucic_narrow --losses=ns,lsgan,wgan,wgan_gp,dragan,began \
      --arch=mlp --dataset=fashion_mnist --samples=4 --seeds=2 --steps=300 --workdir=runs/lucic

Members: every loss of ``--losses`` × every point of the search × ``--seeds`` seeds. The search
is ``--preset`` (Lucic et al. 2018's ``lucic_wide`` / ``lucic_narrow`` spaces, ``--samples``
points per loss, the loss's recommended setting first; ``lucic_defaults``: that setting
alone), or the crossing of ``--grid=field:v1,v2`` axes with ``--samples`` random draws of
``--random=field:uniform:a:b`` / ``field:loguniform:a:b`` (10^U[a, b]) / ``field:choice:v1,v2``
axes. Every other flag is a config flag (as in experiments.mnist) and applies to all members.

Members that share everything static train together (jaxgan.population); ``--list`` prints
the members, ``--dry_run`` the groups. The workdir gets ``sweep.json`` (the members),
``results.jsonl`` / ``.csv`` / ``.md``, ``fcd_by_loss.png``, ``fcd_vs_lr.png`` and
``members/<i>/metrics.jsonl`` and ``chunks/<members>/checkpoints`` (orbax, every --ckpt_every
steps and at the end). Running the same command again (after a kill, say) trains only the
members without results, each unfinished chunk from its latest checkpoint (a finished sweep
prints its table and trains nothing); a different sweep in the same workdir is refused. Exit codes: 0 done; 1 missing data; 2 bad flags or a changed sweep.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
import time
import typing

from absl import app, flags, logging

from experiments import flags as config_flags
from jaxgan import config as config_lib
from jaxgan import search

config_flags.define_config_flags(workdir="runs/sweep")
flags.DEFINE_enum("preset", None, search.PRESETS, "A search space of Lucic et al. 2018.")
flags.DEFINE_list("losses", None, "Losses to sweep (default: --loss).")
flags.DEFINE_multi_string("grid", [], "A grid axis, field:v1,v2,... (repeatable).")
flags.DEFINE_multi_string(
  "random",
  [],
  "A random axis, field:uniform:a:b, "
  "field:loguniform:a:b (10^U[a,b]) or field:choice:v1,v2 (repeatable).",
)
flags.DEFINE_integer(
  "samples", 1, "Random points per loss (a preset's include its defaults).", lower_bound=1
)
flags.DEFINE_integer("seeds", 1, "Seeds per point (--seed, --seed + 1, ...).", lower_bound=1)
flags.DEFINE_integer("search_seed", 0, "Seed of the random search.")
flags.DEFINE_integer(
  "chunk", None, "Members trained at once (default: per platform).", lower_bound=1
)
flags.DEFINE_integer(
  "eval_samples", 5000, "Samples per member for each FCD (0: none).", lower_bound=0
)
flags.DEFINE_integer(
  "classifier_steps", 3000, "Training steps of the FCD's classifier.", lower_bound=1
)
flags.DEFINE_boolean("list", False, "Print the members and exit.")
flags.DEFINE_boolean("dry_run", False, "Print the groups and their sizes and exit.")
FLAGS = flags.FLAGS


class SpecError(ValueError):
  pass


def _parse(field: str, text: str):
  hints = typing.get_type_hints(config_lib.Config)
  if field not in hints or field in ("workdir",):
    raise SpecError(f"{field!r} is not a config field that a sweep can vary")
  kind = ([t for t in typing.get_args(hints[field]) if t is not type(None)] or [hints[field]])[0]
  try:
    if kind is bool:
      return {"true": True, "false": False}[text.lower()]
    return kind(text)
  except (KeyError, ValueError):
    raise SpecError(f"{field}: {text!r} is not a {kind.__name__}") from None


def _axis(spec: str):
  field, _, rest = spec.partition(":")
  kind, _, values = rest.partition(":")
  try:
    if kind == "uniform":
      return field, search.Uniform(*map(float, values.split(":")))
    if kind == "loguniform":
      return field, search.LogUniform(*map(float, values.split(":")))
    if kind == "choice":
      return field, search.Choice(tuple(_parse(field, v) for v in values.split(",")))
  except TypeError:
    pass
  raise SpecError(
    f"--random={spec}: expected field:uniform:a:b, field:loguniform:a:b or field:choice:v1,v2"
  )


def points_for(loss: str, index: int, arch: str) -> list[dict]:
  """The search points of one loss (each a dict of config fields)."""
  seed = FLAGS.search_seed * 1000 + index
  if FLAGS.preset and (FLAGS.grid or FLAGS.random):
    raise SpecError(f"--preset={FLAGS.preset} is a search of its own: drop --grid and --random")
  if FLAGS.preset:
    from jaxgan import models

    batch_norm_ok = "batch" in models.ARCHS.get(arch).d_norms
    return [
      {"loss": loss, **p}
      for p in search.lucic(FLAGS.preset, loss, FLAGS.samples, seed, batch_norm_ok)
    ]
  axes = {}
  for spec in FLAGS.grid:
    field, _, values = spec.partition(":")
    if not values:
      raise SpecError(f"--grid={spec}: expected field:v1,v2,...")
    axes[field] = [_parse(field, v) for v in values.split(",")]
  grid_points = search.grid(axes)
  space = dict(_axis(s) for s in FLAGS.random)
  drawn = search.draw(space, FLAGS.samples, seed) if space else [{}]
  return [{"loss": loss, **g, **d} for g in grid_points for d in drawn]


def make_members(workdir: str):
  base = {name: FLAGS[name].value for name in config_lib.FIELDS if FLAGS[name].present}
  base.pop("workdir", None)
  losses = FLAGS.losses or [base.get("loss", "ns")]
  arch = base.get("arch", "mlp")
  points = [p for i, loss in enumerate(losses) for p in points_for(loss, i, arch)]
  from jaxgan.sweep import member_configs

  return member_configs(base, points, FLAGS.seeds, workdir)


def check_spec(members, workdir: str) -> None:
  """Writes sweep.json, or refuses when the workdir holds another sweep's."""
  path = os.path.join(workdir, "sweep.json")
  record = [dataclasses.asdict(m) for m in members]
  if os.path.exists(path):
    with open(path) as f:
      saved = json.load(f)
    if saved != record:
      raise SpecError(
        f"{workdir} holds another sweep: {_first_difference(saved, record)}. "
        "Use another --workdir; nothing was overwritten."
      )
    return
  os.makedirs(workdir, exist_ok=True)
  with open(path, "w") as f:
    json.dump(record, f, indent=1)


def _first_difference(saved: list[dict], new: list[dict]) -> str:
  if len(saved) != len(new):
    return f"it has {len(saved)} members, this command makes {len(new)}"
  for i, (a, b) in enumerate(zip(saved, new)):
    changed = {k: (a.get(k), b[k]) for k in b if a.get(k) != b[k]}
    if changed:
      k, (x, y) = next(iter(changed.items()))
      return f"member {i}: --{k} was {x!r}, now {y!r}"
  return "they differ"


def describe(members, dry_run: bool) -> str:
  from jaxgan import population

  if not dry_run:
    rows = [dataclasses.asdict(m) for m in members]
    varied = [k for k in config_lib.FIELDS if k != "workdir" and len({r[k] for r in rows}) > 1]
    return "\n".join(f"{i}: " + " ".join(f"{k}={r[k]}" for k in varied) for i, r in enumerate(rows))
  lines = []
  for idx in population.group(members).values():
    c = members[idx[0]]
    lines.append(
      f"group {len(lines)}: {len(idx)} members ({c.loss}, {c.arch}, n_disc "
      f"{c.n_disc}, d_norm {c.d_norm}, penalty {c.penalty}, batch {c.batch_size})"
    )
  return "\n".join(lines) + f"\n{len(members)} members in {len(lines)} groups"


def main(argv):
  if len(argv) > 1:
    print(f"error: unexpected arguments {argv[1:]}", file=sys.stderr)
    return 2
  logging.set_verbosity(logging.WARNING)
  workdir = FLAGS.workdir
  try:
    members = make_members(workdir)
    if any(m.dataset not in config_lib.IMAGE_DATASETS for m in members):
      raise SpecError(
        "a sweep trains on image datasets "
        f"({'|'.join(config_lib.IMAGE_DATASETS)}); 2-D toys: experiments.toy2d"
      )
  except (SpecError, config_lib.ConfigError, ValueError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  if FLAGS.list or FLAGS.dry_run:
    print(describe(members, FLAGS.dry_run))
    return 0
  try:
    check_spec(members, workdir)
  except SpecError as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  return run(members, workdir)


def run(members, workdir: str) -> int:
  from jaxgan.data import DatasetUnavailable
  from jaxgan.sweep import read_results, run_sweep
  from jaxgan.sweep_report import write_report

  if FLAGS.compilation_cache:
    from jaxgan.cache import enable_compilation_cache

    enable_compilation_cache()
  if len(read_results(workdir)) == len(members):
    print(f"{workdir}: all {len(members)} members are done; nothing to train", file=sys.stderr)
  t0 = time.perf_counter()
  try:
    rows = run_sweep(
      members, workdir, _task_for(), FLAGS.chunk, _scorer_for, FLAGS.eval_samples, FLAGS.progress
    )
  except DatasetUnavailable as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  print(write_report(rows, workdir))
  print(
    f"{len(members)} members, {time.perf_counter() - t0:.1f} s in this process; "
    f"results in {workdir}",
    file=sys.stderr,
  )
  return 0


def _task_for():
  from jaxgan.loop import image_task

  cache = {}

  def task_for(cfg):
    key = (cfg.dataset, cfg.split, cfg.data_dir)
    if key not in cache:
      cache[key] = image_task(cfg)
    return cache[key]

  return task_for


def _scorer_for(cfg):
  """The FCD scorer of the member's dataset, or None (said why) when it cannot be made."""
  return _scorer(cfg.dataset, cfg.data_dir) if FLAGS.eval_samples else None


@functools.cache
def _scorer(dataset: str, data_dir):
  from jaxgan import quality
  from jaxgan.data import DatasetUnavailable

  try:
    return quality.FrechetClassifierDistance.for_dataset(
      dataset, data_dir, steps=FLAGS.classifier_steps
    )
  except (DatasetUnavailable, ValueError) as e:
    print(f"note: no FCD for {dataset} ({str(e).splitlines()[0]})", file=sys.stderr)
    return None


if __name__ == "__main__":
  app.run(main, flags_parser=config_flags.parse_flags)
