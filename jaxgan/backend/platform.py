"""Choices that depend on the platform or on one XLA version, made in one place.

Each is a speed or feasibility choice, never a numerical one: whichever branch runs, the
results are the same up to float rounding (tests/test_platform.py checks each against its
alternative; XLA fuses an unrolled loop differently, so :func:`scan_unroll` changes the last
bits, and a GAN's later steps with them). Each names
the platform it was measured on and the jax version (:data:`MEASURED_WITH`); a platform not
named here gets the accelerator choice. Figures are in BENCHMARKS.md.
"""

from __future__ import annotations

from collections.abc import Callable

import jax

MEASURED_WITH = "jax 0.10.2"


def current() -> str:
  """The platform jaxgan computes on: ``cpu``, ``gpu``, ``tpu``, ..."""
  return jax.default_backend()


def steps_per_call(arch: str, platform: str | None = None) -> int:
  """Training steps fused per device dispatch (one ``lax.scan``).

  On GPUs and TPUs dispatch dominates at these sizes, so long scans win. On the CPU, XLA
  leaves the gradient convolutions inside a while loop (a scan) in a non-canonical layout
  that its slow generic emitter runs, so conv nets take two steps per dispatch there,
  unrolled (:func:`scan_unroll`): no loop, and faster than one step per dispatch.
  """
  if (platform or current()) == "cpu":
    return 100 if _dense(arch) else 2
  return 500


def scan_unroll(arch: str, platform: str | None = None) -> int | bool:
  """How a dispatch's steps are laid out in its ``lax.scan``: ``True``, all unrolled into
  straight-line code (conv nets on the CPU, whose gradient convolutions a loop slows, as
  :func:`steps_per_call` says); else 1, a loop of one step per iteration."""
  return True if (platform or current()) == "cpu" and not _dense(arch) else 1


def _dense(arch: str) -> bool:
  return arch in ("mlp", "toy_mlp")


def classifier_steps_per_call(platform: str | None = None) -> int:
  """Steps of the FCD classifier's training per dispatch: a conv net, as :func:`steps_per_call`."""
  return 1 if (platform or current()) == "cpu" else 500


def population_chunk_size(platform: str | None = None) -> int:
  """Members of a sweep trained at once. On the CPU a vmapped population runs slower per GAN
  than one GAN alone, so members train one at a time there, sharing the group's compiled
  program. Accelerators run many small GANs at once; 64 is a first choice, not yet measured."""
  return 1 if (platform or current()) == "cpu" else 64


def scan_unrolled(body: Callable, carry, xs):
  """``jax.lax.scan(body, carry, xs)`` traced as straight-line code, one copy of ``body`` per
  element of ``xs`` (a pytree with a leading axis), returning the last ``(carry, y)``.

  For a few repetitions of a convolutional step inside a training step (D's ``n_disc``
  steps): inside a while loop XLA:CPU leaves gradient convolutions in a non-canonical layout
  and runs them slowly, and a loop buys nothing on other platforms at these trip counts.
  """
  n = jax.tree.leaves(xs)[0].shape[0]
  y = None
  for i in range(n):
    carry, y = body(carry, jax.tree.map(lambda x, i=i: x[i], xs))
  return carry, y


def map_members(fn: Callable, xs):
  """``fn`` over the leading axis of ``xs``, stacked: ``lax.map``, one member after another.

  Not ``vmap``: the vmapped init of a GAN with orthogonal weights (batched QR decompositions)
  did not finish on XLA:CPU (``unrolled_mlp``, 2, 4 or 5 members; 3 finished), and what this
  maps (a population's init) runs once, so the sequential form costs nothing that matters.
  """
  return jax.lax.map(fn, xs)
