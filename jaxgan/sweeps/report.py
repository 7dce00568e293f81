"""What a finished sweep shows: ``results.csv``, ``results.md`` and figures, from its rows.

Each row of ``results.jsonl`` (:mod:`jaxgan.sweeps.runner`) is a member: its configuration, its final
metrics, its final FCD and its best FCD over the evaluations (``--eval_every``) with its step
(lower is better; None without a scorer or after divergence), whether and when it diverged, and
its wall time. A member's score here is its best FCD, as Lucic et al. 2018 keep the best score
over a run's checkpoints. ``results.md`` gives, per loss, the best member and the mean ± std of
the score over the seeds of that member's setting; ``fcd_by_loss.png`` is the distribution of the FCD per loss (their Figure 4
shows the best score's distribution over search budgets), ``fcd_vs_lr.png`` the FCD against the
learning rate, ``best_samples.png`` each loss's best member's samples at its best step.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict

import numpy as np

from jaxgan import config as config_lib


def shown(rows: list[dict]) -> list[str]:
  """The settings a results table shows: the loss, every setting that differs between the
  members (in the order :class:`~jaxgan.config.Config` declares them), and the seed."""
  varied = [
    k
    for k in config_lib.FIELDS
    if k not in ("loss", "seed", "workdir") and len({repr(r["config"].get(k)) for r in rows}) > 1
  ]
  return ["loss", *varied, "seed"]


def _setting(row: dict) -> tuple:
  """A member's setting: its configuration without the seed and workdir."""
  return tuple((k, v) for k, v in sorted(row["config"].items()) if k not in ("seed", "workdir"))


def score_name(rows: list[dict]) -> str:
  """The members' score: ``fcd`` or ``fid`` (:func:`jaxgan.config.distance_name`), the same
  for every member of a sweep."""
  features = rows[0]["config"].get("features", "classifier") if rows else "classifier"
  return config_lib.distance_name(features)


def write_csv(rows: list[dict], path: str) -> None:
  finals, columns, name = (
    sorted({k for r in rows for k in r["final"]}),
    shown(rows),
    score_name(rows),
  )
  with open(path, "w", newline="") as f:
    out = csv.writer(f)
    out.writerow(
      [
        "member",
        *columns,
        *finals,
        name,
        f"best_{name}",
        "best_step",
        "diverged",
        "diverged_step",
        "wall_s",
      ]
    )
    for r in rows:
      out.writerow(
        [
          r["member"],
          *(r["config"].get(k) for k in columns),
          *(r["final"].get(k) for k in finals),
          r[name],
          r[f"best_{name}"],
          r["best_step"],
          r["diverged"],
          r["diverged_step"],
          f"{r['wall_s']:.2f}",
        ]
      )


def best_per_loss(rows: list[dict]) -> list[dict]:
  """Per loss: the scored member with the lowest score (``best_fcd`` or ``best_fid``), and
  the scores of all seeds of its setting; losses without a scored member are listed with
  none."""
  best_key = f"best_{score_name(rows)}"
  by_loss = defaultdict(list)
  for r in rows:
    by_loss[r["config"]["loss"]].append(r)
  table = []
  for loss, members in by_loss.items():
    scored = [r for r in members if r[best_key] is not None]
    diverged = sum(r["diverged"] for r in members)
    if not scored:
      table.append(
        {"loss": loss, "best": None, "seeds": [], "members": len(members), "diverged": diverged}
      )
      continue
    best = min(scored, key=lambda r: r[best_key])
    seeds = [r[best_key] for r in scored if _setting(r) == _setting(best)]
    table.append(
      {"loss": loss, "best": best, "seeds": seeds, "members": len(members), "diverged": diverged}
    )
  return table


def markdown(rows: list[dict]) -> str:
  name = score_name(rows)
  lines = [
    f"| loss | best {name.upper()} (its step) | its setting: mean ± std over seeds (n) | setting | members | diverged |",
    "| --- | ---: | ---: | --- | ---: | ---: |",
  ]
  for t in best_per_loss(rows):
    if t["best"] is None:
      lines.append(f"| {t['loss']} | n/a | n/a | | {t['members']} | {t['diverged']} |")
      continue
    c = t["best"]["config"]
    setting = ", ".join(
      f"{k}={c.get(k):.3g}" if isinstance(c.get(k), float) else f"{k}={c.get(k)}"
      for k in shown(rows)[1:-1]
    )
    seeds = np.asarray(t["seeds"])
    lines.append(
      f"| {t['loss']} | {t['best'][f'best_{name}']:.2f} (step {t['best']['best_step']}) | {seeds.mean():.2f} ± "
      f"{seeds.std():.2f} ({len(seeds)}) | {setting} | {t['members']} | "
      f"{t['diverged']} |"
    )
  return "\n".join(lines) + "\n"


def plot(rows: list[dict], workdir: str) -> list[str]:
  """The figures; none when no member has a score."""
  name = score_name(rows)
  best_key, label = f"best_{name}", name.upper()
  scored = [r for r in rows if r[best_key] is not None]
  if not scored:
    return []
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  losses = list(dict.fromkeys(r["config"]["loss"] for r in scored))
  fig, ax = plt.subplots(figsize=(1.2 * len(losses) + 2, 3.6))
  ax.boxplot([[r[best_key] for r in scored if r["config"]["loss"] == loss] for loss in losses])
  ax.set_xticks(range(1, len(losses) + 1), losses)
  ax.set(ylabel=f"best {label} (lower is better)", title=f"Best {label} of every member, per loss")
  paths = [os.path.join(workdir, f"{name}_by_loss.png")]
  fig.tight_layout()
  fig.savefig(paths[0], dpi=90)
  plt.close(fig)
  fig, ax = plt.subplots(figsize=(5, 3.6))
  for loss in losses:
    pts = [(r["config"]["lr"], r[best_key]) for r in scored if r["config"]["loss"] == loss]
    ax.scatter(*zip(*pts), label=loss, s=14)
  ax.set(
    xscale="log", xlabel="learning rate", ylabel=f"best {label}", title=f"Best {label} against lr"
  )
  ax.legend(fontsize=7)
  paths.append(os.path.join(workdir, f"{name}_vs_lr.png"))
  fig.tight_layout()
  fig.savefig(paths[1], dpi=90)
  plt.close(fig)
  return paths


def plot_best_samples(rows: list[dict], workdir: str) -> str | None:
  """``best_samples.png``: per loss, the 10×10 sample grid of its best member at the step of
  its best score (written by the sweep at each evaluation); None when no member is scored."""
  best = [t["best"] for t in best_per_loss(rows) if t["best"] is not None]
  name = score_name(rows)
  grids = [
    (b, os.path.join(workdir, b["config"]["workdir"], f"samples_{b['best_step']}.png"))
    for b in best
  ]
  grids = [(b, path) for b, path in grids if os.path.exists(path)]
  if not grids:
    return None
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, axes = plt.subplots(1, len(grids), figsize=(3.2 * len(grids), 3.6), squeeze=False)
  for ax, (b, path) in zip(axes[0], grids):
    ax.imshow(plt.imread(path), cmap="gray")
    ax.set_title(
      f"{b['config']['loss']}: {name.upper()} {b[f'best_{name}']:.1f}\nmember {b['member']}, step {b['best_step']}",
      fontsize=9,
    )
    ax.axis("off")
  out = os.path.join(workdir, "best_samples.png")
  fig.tight_layout()
  fig.savefig(out, dpi=110, bbox_inches="tight")  # the two-line titles stay whole
  plt.close(fig)
  return out


def write_report(rows: list[dict], workdir: str) -> str:
  """Writes results.csv, results.md and the figures; returns the Markdown table."""
  write_csv(rows, os.path.join(workdir, "results.csv"))
  table = markdown(rows)
  with open(os.path.join(workdir, "results.md"), "w") as f:
    f.write(table)
  plot(rows, workdir)
  plot_best_samples(rows, workdir)
  return table
