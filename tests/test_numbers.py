"""The numbers of training, checked in ways that hold on every CPU model and still catch a
changed update:

(a) determinism in one process: the same seed twice gives the same bits;
(b) the first steps of ``experiments.mnist``, logged every step, against the record of
    tests/numbers_unchanged.py (``--early``) at a tolerance that covers CPU models: XLA:CPU
    rounds differently by instruction set, and a GAN amplifies it with every step, so the
    check is early and loose (a changed loss, key, optimizer or step order is off by far more);
(c) the analytic and equivalence tests elsewhere (losses, penalties, the Dirac-GAN, scans,
    pmap and vmap against single runs).

A refactoring is checked bit for bit on one machine with the script's ``--against``.
"""

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.config import make_config
from jaxgan.run.driver import Run

from conftest import REPO
from helpers import assert_trees_close

sys.path.insert(0, str(REPO / "tests"))
import numbers_unchanged  # noqa: E402


def test_the_same_seed_twice_gives_the_same_bits():
  data = jnp.asarray(jax.random.randint(jax.random.key(1), (256, 8, 8, 1), 0, 256), jnp.uint8)
  cfg = make_config(arch="dcgan", loss="wgan_gp", n_disc=2, batch_size=16, steps=2, ema_decay=0.9)
  run = Run(cfg, data.shape[1:], total_steps=2)
  a, b = (run.run_steps(run.init(), data, run.train_key, 2) for _ in range(2))
  assert_trees_close(a, b, rtol=0, atol=0)
  other = jax.random.key(7)  # another seed's keys: other numbers
  changed, _ = run.run_steps(run.init(), data, other, 2)
  first = lambda state: jax.tree.leaves(state.g_params)[0]
  assert not np.array_equal(first(changed), first(a[0]))


def test_the_first_steps_give_the_recorded_numbers(fashion_env, tmp_path):
  case = "mlp_ns"  # the conv cases: tests/numbers_unchanged.py --early (a minute each)
  # The compiler's default optimization, as users run and as the record was made (the suite's
  # fast compiles round differently, by more than the tolerance after 20 steps).
  env = dict(fashion_env, PYTHONPATH=str(REPO), XLA_FLAGS="")
  rows = numbers_unchanged.run_case(case, tmp_path / case, env, early=True)
  path = numbers_unchanged.RECORD / f"{case}.jsonl"
  recorded = [json.loads(line) for line in path.read_text().splitlines()]
  assert len(rows) == numbers_unchanged.EARLY_STEPS
  found = numbers_unchanged.differences(
    case, rows, recorded, numbers_unchanged.EARLY_RTOL, numbers_unchanged.ATOL
  )
  assert found == []
