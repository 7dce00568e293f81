"""Training steps on device-resident data, many fused per dispatch.

:func:`make_train_step` turns a :class:`~jaxgan.core.gan.GAN`'s update into a step that samples its
own batch from data held on the device; :func:`make_multi_step` fuses many such steps into one
``lax.scan`` per dispatch; :func:`make_sampler` draws images from G. The math lives in
:mod:`jaxgan.core.gan`; the loop that drives these in :mod:`jaxgan.run.driver`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxgan.backend import xla_options
from jaxgan.core.gan import GAN, GANState
from jaxgan.data.pixels import to_unit_range


def make_train_step(gan: GAN, batch_size: int, mesh: Mesh | None = None) -> Callable:
  """``train_step(state, data, key) -> (state, metrics)`` on device-resident ``data`` (uint8
  images, scaled to [-1, 1] here, or float points; for a class-conditional GAN the pair
  (images, int32 labels), gathered at the same indices).

  With a ``mesh`` (axis ``data``) the batch is split over its devices, the state and data
  replicated on them: XLA partitions the update and sums the gradients across devices, so
  the step is the one-device step up to summation order.

  The batch (sampled uniformly with replacement) and the update's randomness come from
  ``fold_in(key, state.step)``: a run's randomness depends only on its seed and step count,
  so a resumed run continues exactly as an uninterrupted one. With ``n_disc > 1`` each D
  step gets its own batch: the images have shape (n_disc, batch_size, ...).
  """
  shape = batch_shape(gan, batch_size)
  split = mesh and NamedSharding(mesh, PartitionSpec(*[None] * (len(shape) - 1), "data"))

  def train_step(state: GANState, data, key: jax.Array):
    k_batch, k_update = step_keys(key, state.step)
    index = jax.random.randint(k_batch, shape, 0, num_examples(data))
    if split is not None:
      index = jax.lax.with_sharding_constraint(index, split)
    return _update(gan, state, jax.tree.map(lambda a: a[index], data), k_update)

  return train_step


def num_examples(data) -> int:
  """The number of examples of a dataset: an array, or (images, labels)."""
  return jax.tree.leaves(data)[0].shape[0]


def _update(gan: GAN, state: GANState, batch, key: jax.Array):
  """The update on a batch of uint8 images (or points), or of (images, labels)."""
  images, labels = batch if isinstance(batch, tuple) else (batch, None)
  return gan.update(state, to_unit_range(images), key, labels)


def step_keys(key: jax.Array, step) -> jax.Array:
  """Step ``step``'s two keys, (batch, update): every way of feeding a run derives them so."""
  return jax.random.split(jax.random.fold_in(key, step))


def batch_shape(gan: GAN, batch_size: int) -> tuple[int, ...]:
  """The leading axes of one step's images: (batch,), or (n_disc, batch) with n_disc > 1."""
  n_disc = gan.options.n_disc
  return (batch_size,) if n_disc == 1 else (n_disc, batch_size)


def batch_indices(key: jax.Array, start, num_steps: int, shape: tuple, num_examples: int):
  """The indices :func:`make_train_step`'s steps ``start`` … ``start + num_steps - 1`` draw
  into data of ``num_examples`` examples: (num_steps, *shape). The host gathers these when the
  data stays there (:func:`make_streamed_step`)."""

  def one(step):
    return jax.random.randint(step_keys(key, step)[0], shape, 0, num_examples)

  return jax.vmap(one)(start + jax.numpy.arange(num_steps, dtype=jax.numpy.int32))


def make_streamed_step(gan: GAN) -> Callable:
  """``train_step(state, batch, key) -> (state, metrics)`` on a batch gathered by the host at
  :func:`batch_indices`: the update's randomness is :func:`make_train_step`'s, so a run
  whose data stays on the host draws the same batches and computes the same update."""

  def train_step(state: GANState, batch, key: jax.Array):
    return _update(gan, state, batch, step_keys(key, state.step)[1])

  return train_step


def make_multi_step(
  train_step: Callable, donate: bool = True, unroll: int | bool = 1, streamed: bool = False
) -> Callable:
  """``run(state, data, key, num_steps) -> (state, metrics[num_steps])``, jitted; with
  ``streamed``, ``data`` is the steps' own batches (num_steps, ...) and ``train_step`` a
  :func:`make_streamed_step`.

  ``num_steps > 1`` fuses the steps into one ``lax.scan`` (one dispatch), its loop body
  ``unroll`` steps long (``True``: all of them, no loop; the choice per platform is
  :func:`jaxgan.backend.platform.scan_unroll`); ``num_steps == 1`` is a plain jitted step. The scan and the plain
  step give identical results; an unrolled body is fused differently, so it agrees only up
  to float rounding. The state's buffers are donated. It
  compiles with :func:`jaxgan.backend.xla_options.for_training`, and each new ``num_steps`` is traced
  and lowered inside :func:`jaxgan.backend.xla_options.threefry_unrolled` (the same bits, faster on
  the CPU); later calls with that length go straight to the compiled program.
  """

  def run(state, data, key, num_steps: int):
    if num_steps == 1:
      state, metrics = train_step(state, data[0] if streamed else data, key)
      return state, jax.tree.map(lambda m: m[None], metrics)
    steps = num_steps if unroll is True else min(unroll, num_steps)
    if streamed:  # data: the steps' batches, one per scan iteration
      body = lambda s, batch: train_step(s, batch, key)
      return jax.lax.scan(body, state, data, length=num_steps, unroll=steps)
    body = lambda s, _: train_step(s, data, key)
    return jax.lax.scan(body, state, None, length=num_steps, unroll=steps)

  jitted = jax.jit(
    run,
    static_argnums=3,
    donate_argnums=(0,) if donate else (),
    compiler_options=xla_options.for_training(),
  )
  lowered_lengths: set[int] = set()

  @functools.wraps(run)
  def run_unrolled(state, data, key, num_steps: int):
    if num_steps in lowered_lengths:
      return jitted(state, data, key, num_steps)
    with xla_options.threefry_unrolled():  # takes effect while this call traces and lowers
      out = jitted(state, data, key, num_steps)
    lowered_lengths.add(num_steps)
    return out

  run_unrolled.jitted = jitted  # for inspecting the compiled program (bench.jax_gan)
  return run_unrolled


def make_sampler(gan: GAN) -> Callable:
  """``sample(g_params, g_state, z, labels=None) -> images``, jitted, G in inference mode."""
  return jax.jit(gan.sample, compiler_options=xla_options.for_training())
