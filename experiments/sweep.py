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

Members that share everything static train together (jaxgan.sweeps.population); ``--list`` prints
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

import jax
from absl import app, flags, logging

from experiments import flags as config_flags
from experiments import runtime
from jaxgan import config as config_lib
from jaxgan.data.datasets import DatasetUnavailable
from jaxgan.eval import scoring
from jaxgan.eval.inception_scorer import WeightsUnavailable
from jaxgan.io import write_atomic
from jaxgan.run.cache import enable_compilation_cache
from jaxgan.run.driver import WorkdirError, image_task
from jaxgan.run.interrupts import Interrupts
from jaxgan.run.lock import LOCK_NAME, WorkdirInUse, WorkdirLock
from jaxgan.sweeps import population, runner, search
from jaxgan.sweeps import spec as sweep_spec
from jaxgan.sweeps.report import write_report
from jaxgan.sweeps.spec import SpecError, SweepSpec, member_dir

config_flags.define_config_flags(workdir="runs/sweep")
flags.adopt_module_key_flags(config_flags)  # --help lists them as this command's
flags.adopt_module_key_flags(runtime)
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
flags.DEFINE_string(
  "spec",
  None,
  "A spec file whose get_spec() gives the sweep (path, or a name in experiments/sweeps).",
)
flags.DEFINE_string("shard", None, "K/N: train only shard K of N (every N-th member of a group).")
flags.DEFINE_boolean("merge", False, "Join the shards' results into the tables; train nothing.")
flags.DEFINE_boolean("list", False, "Print the members and exit.")
flags.DEFINE_boolean("dry_run", False, "Print the groups and their sizes and exit.")
FLAGS = flags.FLAGS
DEFAULTS = {f.name: f.default for f in dataclasses.fields(config_lib.Config)}


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


def _grid(specs: list[str]) -> dict[str, list]:
  axes = {}
  for spec in specs:
    field, _, values = spec.partition(":")
    if not values:
      raise SpecError(f"--grid={spec}: expected field:v1,v2,...")
    axes[field] = [_parse(field, v) for v in values.split(",")]
  return axes


def make_spec() -> SweepSpec:
  """The sweep of ``--spec`` (if given), with every flag given on the command line on top."""
  spec = sweep_spec.load(spec_path(FLAGS.spec)) if FLAGS.spec else SweepSpec()
  base = {**spec.base}
  base.update({n: FLAGS[n].value for n in config_lib.FIELDS if FLAGS[n].present})
  base.pop("workdir", None)
  given = {n: FLAGS[n].present for n in ("preset", "losses", "grid", "random")}
  searched = given["preset"] or given["grid"] or given["random"]
  return SweepSpec(
    base=base,
    losses=tuple(FLAGS.losses) if given["losses"] else spec.losses,
    preset=FLAGS.preset if searched else spec.preset,
    grid=_grid(FLAGS.grid) if searched else spec.grid,
    random=dict(map(_axis, FLAGS.random)) if searched else spec.random,
    **{
      n: FLAGS[n].value if FLAGS[n].present or not FLAGS.spec else getattr(spec, n)
      for n in ("samples", "seeds", "search_seed")
    },
  )


def spec_path(name: str) -> str:
  """A spec file's path, or the file of that name in experiments/sweeps/."""
  if os.path.exists(name) or os.sep in name:
    return name
  return os.path.join(os.path.dirname(__file__), "sweeps", name.removesuffix(".py") + ".py")


def parse_shard(text: str) -> tuple[int, int]:
  k, _, n = text.partition("/")
  if not (k.isdigit() and n.isdigit() and 0 <= int(k) < int(n)):
    raise SpecError(f"--shard={text}: expected K/N with 0 <= K < N, e.g. 0/4")
  return int(k), int(n)


def check_spec(members, workdir: str) -> None:
  """Writes sweep.json, or refuses when the workdir holds another sweep's."""
  path = os.path.join(workdir, "sweep.json")
  # Member folders relative to the sweep (older sweeps wrote absolute ones): a moved sweep
  # is the same sweep.
  record = [{**dataclasses.asdict(m), "workdir": member_dir(m.workdir)} for m in members]
  if os.path.exists(path):
    with open(path) as f:  # fields added since it was written: their defaults
      saved = [{**DEFAULTS, **r, "workdir": member_dir(r["workdir"])} for r in json.load(f)]
    if saved != record:
      raise SpecError(
        f"{workdir} holds another sweep: {_first_difference(saved, record)}. "
        "Use another --workdir; nothing was overwritten."
      )
    return
  os.makedirs(workdir, exist_ok=True)
  write_atomic(path, lambda f: f.write(json.dumps(record, indent=1).encode()))


def _first_difference(saved: list[dict], new: list[dict]) -> str:
  if len(saved) != len(new):
    return f"it has {_members(len(saved))}, this command makes {len(new)}"
  for i, (a, b) in enumerate(zip(saved, new)):
    changed = {k: (a.get(k), b[k]) for k in b if a.get(k) != b[k]}
    if changed:
      k, (x, y) = next(iter(changed.items()))
      return f"member {i}: --{k} was {x!r}, now {y!r}"
  return "they differ"


def describe(members, dry_run: bool) -> str:

  if not dry_run:
    rows = [dataclasses.asdict(m) for m in members]
    varied = [k for k in config_lib.FIELDS if k != "workdir" and len({r[k] for r in rows}) > 1]
    return "\n".join(f"{i}: " + " ".join(f"{k}={r[k]}" for k in varied) for i, r in enumerate(rows))
  lines = []
  for idx in population.group(members).values():
    c = members[idx[0]]
    lines.append(
      f"group {len(lines)}: {_members(len(idx))} ({c.loss}, {c.arch}, n_disc "
      f"{c.n_disc}, d_norm {c.d_norm}, penalty {c.penalty}, batch {c.batch_size}, "
      + (f"{c.steps} steps)" if c.steps is not None else f"{c.epochs:g} epochs)")
    )
  return "\n".join(lines) + f"\n{_members(len(members))} in {len(lines)} groups"


def main(argv):
  if len(argv) > 1:
    print(f"error: unexpected arguments {argv[1:]}", file=sys.stderr)
    return 2
  logging.set_verbosity(logging.WARNING)
  workdir = FLAGS.workdir
  try:
    members = sweep_spec.members(make_spec(), workdir)
    sweep_spec.check_trainable(members)
    shard = parse_shard(FLAGS.shard) if FLAGS.shard else (0, 1)
    if runtime.flag_error():
      raise SpecError(runtime.flag_error())
  except (SpecError, config_lib.ConfigError, ValueError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  if FLAGS.list or FLAGS.dry_run:
    print(describe(members, FLAGS.dry_run))
    return 0
  runtime.start()
  try:
    lock = _lock(workdir, shard)
  except WorkdirError as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  try:
    with Interrupts() as interrupts:
      check_spec(members, workdir)
      if FLAGS.merge:
        return merge(members, workdir)
      return run(members, workdir, shard, interrupts)
  except SpecError as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  finally:
    if lock is not None:
      lock.release()


def _lock(workdir: str, shard: tuple[int, int]) -> WorkdirLock | None:
  """The sweep's workdir lock, held by process 0 (a shard holds its own: shards of one sweep
  may run at once, into one workdir); None on other processes."""
  if jax.process_index() != 0:
    return None
  name = (
    LOCK_NAME if shard[1] == 1 or FLAGS.merge else f".jaxgan-shard-{shard[0]}-of-{shard[1]}.lock"
  )
  try:
    os.makedirs(workdir, exist_ok=True)
    lock = WorkdirLock(workdir, name)
    lock.acquire()
  except WorkdirInUse as e:
    raise WorkdirError(str(e)) from None
  except OSError as e:
    raise WorkdirError(f"cannot write to --workdir={workdir}: {e.strerror or e}") from None
  return lock


def merge(members, workdir: str) -> int:

  try:
    rows = runner.merge(workdir, len(members))
  except runner.MissingResults as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  print(write_report(rows, workdir))
  return 0


def run(members, workdir: str, shard: tuple[int, int], interrupts: Interrupts) -> int:

  if FLAGS.compilation_cache:
    enable_compilation_cache()
  lead = jax.process_index() == 0
  mine = runner.share(members, *shard)
  if lead and not mine:
    print(
      f"shard {shard[0]}/{shard[1]}: nothing to train here: the sweep has "
      f"{_members(len(members))}, fewer than its {shard[1]} shards",
      file=sys.stderr,
    )
  elif lead and all(i in runner.read_results(workdir) for i in mine):
    print(f"{workdir}: all {_members(len(mine))} are done; nothing to train", file=sys.stderr)
  t0 = time.perf_counter()
  try:
    rows = runner.run_sweep(
      members, workdir, _task_for(), FLAGS.chunk, _scorer_for,
      FLAGS.progress, shard, interrupts,
    )  # fmt: skip
  except (DatasetUnavailable, WeightsUnavailable) as e:
    print(f"error: {e}", file=sys.stderr)
    return e.exit_code
  if not lead:
    return interrupts.exit_code if interrupts else 0
  if interrupts:
    left = len(mine) - len(rows)
    print(
      f"interrupted: {len(rows)} of this job's {_members(len(mine))} done, {left} left (each "
      "unfinished chunk checkpointed); run the same command again to continue",
      file=sys.stderr,
    )
    return interrupts.exit_code
  if shard[1] > 1:
    left = len(members) - len(runner.read_results(workdir))
    print(
      f"shard {shard[0]}/{shard[1]}: {_members(len(rows))} done; {left} of the sweep's "
      f"{len(members)} still without results" + ("" if left else ": run it with --merge"),
      file=sys.stderr,
    )
  else:
    print(write_report(rows, workdir))
  print(
    f"{_members(len(rows))}, {time.perf_counter() - t0:.1f} s in this process; results in {workdir}",
    file=sys.stderr,
  )
  return 0


def _members(n: int) -> str:
  return f"{n} member" if n == 1 else f"{n} members"


def _task_for():

  cache = {}

  def task_for(cfg):
    labelled = cfg.conditional != "none"  # a conditional group's task holds the labels too
    key = (cfg.dataset, cfg.split, cfg.data_dir, cfg.image_size, cfg.channels, labelled)
    if key not in cache:
      cache[key] = image_task(cfg, score=False)  # a sweep scores with its own scorer
    return cache[key]

  return task_for


def _scorer_for(cfg):
  """The scorer of the member's dataset in its ``--features``, or None (said why) when it
  cannot be made; Inception's weights missing is an error (:class:`WeightsUnavailable`)."""
  return _scorer(
    cfg.dataset, cfg.data_dir, cfg.features, cfg.classifier_steps, cfg.image_size, cfg.channels,
    cfg.inception_weights,
  )  # fmt: skip


@functools.cache
def _scorer(dataset: str, data_dir, features: str, steps: int, size: int, channels: int, weights):
  try:
    return scoring.for_dataset(
      dataset, data_dir, features, size, channels, classifier_steps=steps,
      inception_weights=weights,
    )  # fmt: skip
  except (DatasetUnavailable, ValueError) as e:
    name = config_lib.distance_name(features).upper()
    print(f"note: no {name} for {dataset} ({str(e).splitlines()[0]})", file=sys.stderr)
    return None


if __name__ == "__main__":
  app.run(main, flags_parser=config_flags.parse_flags)
