"""XLA compiler options that jaxgan compiles with, chosen per platform from measurements.

Each set is passed per computation (``jax.jit(..., compiler_options=...)``), so nothing else in
the process changes, and an option that the user set in ``XLA_FLAGS`` is left to the user.
Only the CPU has options so far; on other platforms these functions return None (plain
``jax.jit``). The measurements are in BENCHMARKS.md ("The CPU convolution gap").

* :func:`for_training` (train steps and the sampler). XLA:CPU in jax 0.10
  hands individual convolutions, dot products and reductions to YNNPACK (its default
  ``xla_cpu_experimental_ynn_fusion_type``: INDIVIDUAL_CONVOLUTION, INDIVIDUAL_DOT and REDUCE,
  read from the compiled HLO). For the DCGAN's convolutions its own (Eigen) convolution is
  faster: the whole DCGAN step ran faster with convolutions taken out of that list
  (``python -m bench.conv_ops --step_rounds=10``; figures in BENCHMARKS.md). The option names
  the list whole,
  because a per-computation option replaces the list rather than editing it; from the command
  line, ``XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=-individual_convolution`` is the
  same choice for every computation of a process. The FCD's classifier (:mod:`jaxgan.eval.quality`)
  keeps XLA's defaults: it is a measuring instrument, and its cached weights and scores stay
  those of every earlier run.
* :func:`for_run_once` (initialization): no backend (LLVM) optimization. Most of an init's
  compile time on the CPU is LLVM optimizing the rolled threefry loops of its random draws
  (about a second per rank-4 kernel shape), for code that then runs once, in milliseconds.
  :func:`jit_init` compiles with them.
* :func:`threefry_unrolled` (train steps), a lowering choice rather than an XLA option: on the
  CPU, jax 0.10 lowers the threefry hash behind ``jax.random`` as a rolled loop (5 trips over
  the whole state, each a pass through memory), and as straight-line code everywhere else.
  Within this context the CPU gets the straight-line form too: the same bits (tested), and the
  MLP GAN's step, whose dropout masks are its largest draws, runs faster (BENCHMARKS.md). jax
  made the same change upstream (jax-ml/jax pull request 37872, "threefry2x32: use unrolled
  loops in CPU lowering"); jax 0.10.2 still rolls. It edits jax's private lowering table, so
  it checks what it finds; where the table is not as expected it warns once and leaves jax's
  public lowering in place (the same bits, the rolled loop's speed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import warnings
from collections.abc import Callable

import jax

_CPU_TRAINING = {
  "xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"
}
_CPU_RUN_ONCE = {"xla_backend_optimization_level": 0}


def _unless_set_by_user(options: dict) -> dict | None:
  flags = os.environ.get("XLA_FLAGS", "")
  kept = {name: value for name, value in options.items() if f"--{name}" not in flags}
  return kept or None


def for_training() -> dict | None:
  """Options for computations that run many times: train steps and sampling."""
  return _unless_set_by_user(_CPU_TRAINING) if jax.default_backend() == "cpu" else None


def for_run_once() -> dict | None:
  """Options for computations that run once per process: initialization."""
  return _unless_set_by_user(_CPU_RUN_ONCE) if jax.default_backend() == "cpu" else None


def jit_init(fn: Callable, **jit_kwargs) -> Callable:
  """``jax.jit(fn, **jit_kwargs)`` for initialization, compiled with :func:`for_run_once`.

  On the CPU it skips XLA's backend (LLVM) optimizations, which cost most of an init's compile
  time and buy nothing for code run once (compile times in BENCHMARKS.md). The values agree
  with the optimized build to 1 ulp, and are the same from run to run. Elsewhere this is plain
  ``jax.jit``.
  """
  return jax.jit(fn, compiler_options=for_run_once(), **jit_kwargs)


# Draws of at least this many 32-bit pairs are unrolled. The big ones (dropout masks) are where
# the time goes; unrolling the many small ones (key splits) too only costs compile time
# (BENCHMARKS.md).
UNROLL_MIN_SIZE = 4096


def _cpu_threefry_lowering():
  """(jax's CPU lowering table, the threefry2x32 primitive, its generic rule), or None if
  jax's private lowering tables are not as expected."""
  try:
    from jax._src.interpreters import mlir
    from jax._src.random import threefry2x32

    primitive = threefry2x32.threefry2x32_p
    return mlir._platform_specific_lowerings["cpu"], primitive, mlir._lowerings[primitive]
  except (ImportError, AttributeError, KeyError):
    return None


_warned_missing_table = False


def _warn_missing_table() -> None:
  global _warned_missing_table
  if not _warned_missing_table:
    _warned_missing_table = True
    warnings.warn(
      "jaxgan.backend.xla_options.threefry_unrolled: jax's private CPU lowering table for "
      "threefry2x32 is not where jax 0.10 keeps it; random draws use jax's public "
      "lowering (the same bits, a slower rolled loop on the CPU).",
      RuntimeWarning,
      stacklevel=3,
    )


@contextlib.contextmanager
def threefry_unrolled(min_size: int = UNROLL_MIN_SIZE):
  """Within, computations being traced and lowered draw their large threefry2x32 hashes
  (``min_size`` pairs or more) on the CPU in the straight-line form jax uses on every other
  platform, not as a rolled loop; the bits are the same. Yields whether it changed anything:
  False off the CPU, if the CPU has no rule of its own for threefry (no loop to replace), under an
  enclosing ``threefry_unrolled``, or if jax's private tables are not as expected. Wrap the
  call of a ``jax.jit`` function that traces and lowers it (its first); later calls hit jax's
  cache."""
  on_cpu = jax.default_backend() == "cpu"
  found = _cpu_threefry_lowering() if on_cpu else None
  if on_cpu and found is None:
    _warn_missing_table()
  table, primitive, generic = found or ({}, None, None)
  rolled = table.get(primitive)
  if rolled is None or getattr(rolled.rule, "_jaxgan", False):  # nothing to do, or nested
    yield False
    return

  def by_size(ctx, *args, **params):
    size = math.prod(ctx.avals_out[0].shape)
    return (generic.rule if size >= min_size else rolled.rule)(ctx, *args, **params)

  by_size._jaxgan = True
  table[primitive] = dataclasses.replace(rolled, rule=by_size)
  try:
    yield True
  finally:
    table[primitive] = rolled
