"""The multi-process JAX runtime a command joins (``jax.distributed``), from its flags.

  # one run (or one sweep) over two hosts' devices, one process per host:
  python -m experiments.mnist --coordinator=host0:1234 --num_processes=2 --process_id=0 ...
  python -m experiments.mnist --coordinator=host0:1234 --num_processes=2 --process_id=1 ...
  # or the cluster's own description (Slurm, TPU pods):
  python -m experiments.mnist --distributed ...

Every process runs the same command on the same shared workdir; process 0 writes its files.
"""

from __future__ import annotations

import jax
from absl import flags

flags.DEFINE_string(
  "coordinator", None, "host:port of process 0 of a multi-process JAX runtime (jax.distributed)."
)
flags.DEFINE_integer(
  "num_processes", None, "Processes of the runtime (with --coordinator).", lower_bound=1
)
flags.DEFINE_integer(
  "process_id", None, "This process's index (with --coordinator).", lower_bound=0
)
flags.DEFINE_boolean(
  "distributed", False, "jax.distributed.initialize() from the cluster (Slurm, TPU pods, ...)."
)
FLAGS = flags.FLAGS


def flag_error() -> str | None:
  """What is wrong with the runtime's flags, if anything."""
  if FLAGS.coordinator and (FLAGS.num_processes is None or FLAGS.process_id is None):
    return "--coordinator needs --num_processes and --process_id"
  if FLAGS.coordinator and FLAGS.process_id >= FLAGS.num_processes:
    return (
      f"--process_id={FLAGS.process_id}: the runtime's processes are 0-{FLAGS.num_processes - 1}"
    )
  return None


def start() -> None:
  """Joins the multi-process JAX runtime that the flags name, if any (before JAX computes)."""
  if not (FLAGS.coordinator or FLAGS.distributed):
    return
  # Collectives between CPU processes; accelerators bring their own.
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  if FLAGS.coordinator:
    jax.distributed.initialize(FLAGS.coordinator, FLAGS.num_processes, FLAGS.process_id)
  else:
    jax.distributed.initialize()
