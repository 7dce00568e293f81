"""XLA compiler options that jaxgan compiles with, chosen per platform from measurements.

Each set is passed per computation (``jax.jit(..., compiler_options=...)``), so nothing else in
the process changes, and an option that the user set in ``XLA_FLAGS`` is left to the user.
Only the CPU has options so far; on other platforms these functions return None (plain
``jax.jit``). The measurements are in BENCHMARKS.md ("The CPU convolution gap").

* :func:`for_training` (train steps and the sampler). XLA:CPU in jax 0.10
  hands individual convolutions, dot products and reductions to YNNPACK (its default
  ``xla_cpu_experimental_ynn_fusion_type``: INDIVIDUAL_CONVOLUTION, INDIVIDUAL_DOT and REDUCE,
  read from the compiled HLO). For the DCGAN's convolutions its own (Eigen) convolution is
  faster: the whole DCGAN step ran 1.10-1.30× faster with convolutions taken out of that list,
  in alternating rounds in one process (``python -m bench.conv_ops --step_rounds=10``; 2-core
  AMD EPYC, 2026-11-23). The option names the list whole,
  because a per-computation option replaces the list rather than editing it; from the command
  line, ``XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=-individual_convolution`` is the
  same choice for every computation of a process. The FCD's classifier (:mod:`jaxgan.quality`)
  keeps XLA's defaults: it is a measuring instrument, and its cached weights and scores stay
  those of every earlier run.
* :func:`for_run_once` (initialization): no backend (LLVM) optimization. Most of an init's
  compile time on the CPU is LLVM optimizing the rolled threefry loops of its random draws
  (≈ 1 s per rank-4 kernel shape), for code that then runs once, in milliseconds.
"""
from __future__ import annotations

import os
from typing import Optional

import jax

_CPU_TRAINING = {"xla_cpu_experimental_ynn_fusion_type":
                 "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"}
_CPU_RUN_ONCE = {"xla_backend_optimization_level": 0}


def _unless_set_by_user(options: dict) -> Optional[dict]:
  flags = os.environ.get("XLA_FLAGS", "")
  kept = {name: value for name, value in options.items() if f"--{name}" not in flags}
  return kept or None


def for_training() -> Optional[dict]:
  """Options for computations that run many times: train steps and sampling."""
  return _unless_set_by_user(_CPU_TRAINING) if jax.default_backend() == "cpu" else None


def for_run_once() -> Optional[dict]:
  """Options for computations that run once per process: initialization."""
  return _unless_set_by_user(_CPU_RUN_ONCE) if jax.default_backend() == "cpu" else None
