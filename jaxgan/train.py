"""The GAN training math: state, one update step, and many steps fused on the device.

Everything here is a pure function of pytrees. ``make_update`` builds the single update

    update(state, images, key) -> (new_state, metrics)

that takes both parameter pytrees, both optax optimizer states and both model states (batch
statistics) inside a :class:`GANState`. The same function runs

* under ``jax.jit`` on one device, or with the batch sharded over a device mesh
  (``NamedSharding``; pass ``axis_name=None``: XLA inserts the cross-device reductions);
* under ``jax.pmap`` with ``axis_name`` set: gradients, batch statistics and metrics are
  averaged with ``lax.pmean``, and each shard draws the latent vectors of its own examples;
* under ``jax.vmap`` over a population of GANs (stacked states, keys, and per-member
  hyperparameters held in the optimizer states by ``optax.inject_hyperparams``).

Latent vectors are drawn per example from ``fold_in(key, global_example_index)``, so a batch
split into shards sees exactly the z's that the whole batch sees on one device.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Optional

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from jaxgan.losses import LossFn

PyTree = Any
Metrics = dict[str, jax.Array]


@flax.struct.dataclass
class GANState:
  """Everything that changes during training; a pytree."""
  step: jax.Array            # int32 scalar: number of updates done
  g_params: PyTree
  d_params: PyTree
  g_opt_state: optax.OptState
  d_opt_state: optax.OptState
  g_state: PyTree            # non-parameter collections of G, e.g. {"batch_stats": ...}
  d_state: PyTree


def adam(learning_rate: float, b1: float = 0.5, b2: float = 0.999) -> optax.GradientTransformation:
  """Adam whose hyperparameters live in its state, so a population can hold one per member."""
  return optax.inject_hyperparams(optax.adam)(learning_rate=learning_rate, b1=b1, b2=b2)


def sgd(learning_rate: float) -> optax.GradientTransformation:
  return optax.inject_hyperparams(optax.sgd)(learning_rate=learning_rate)


def sample_latents(key: jax.Array, num: int, z_dim: int, offset: jax.Array | int = 0) -> jax.Array:
  """z_i ~ N(0, I) for examples offset … offset+num−1, each from fold_in(key, i)."""
  index = offset + jnp.arange(num)
  return jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(key, i), (z_dim,)))(index)


def _split_variables(variables: PyTree) -> tuple[PyTree, PyTree]:
  variables = dict(variables)
  params = variables.pop("params")
  return params, variables


def init_state(key: jax.Array, generator: nn.Module, discriminator: nn.Module,
               g_tx: optax.GradientTransformation, d_tx: optax.GradientTransformation,
               image_shape, z_dim: int) -> GANState:
  """Initializes parameters, batch statistics and optimizer states."""
  k_g, k_d = jax.random.split(key)
  z = jnp.zeros((2, z_dim), jnp.float32)
  x = jnp.zeros((2, *image_shape), jnp.float32)
  g_params, g_state = _split_variables(generator.init(k_g, z, train=False))
  d_params, d_state = _split_variables(discriminator.init(k_d, x, train=False))
  return GANState(step=jnp.zeros((), jnp.int32),
                  g_params=g_params, d_params=d_params,
                  g_opt_state=g_tx.init(g_params), d_opt_state=d_tx.init(d_params),
                  g_state=g_state, d_state=d_state)


def make_update(generator: nn.Module, discriminator: nn.Module, loss_fn: LossFn,
                g_tx: optax.GradientTransformation, d_tx: optax.GradientTransformation,
                z_dim: int, axis_name: Optional[str] = None,
                ) -> Callable[[GANState, jax.Array, jax.Array], tuple[GANState, Metrics]]:
  """Builds ``update(state, images, key) -> (state, metrics)``: one D step, then one G step.

  D step: minimize ``loss_fn(D(x), D(G(z))).d`` over D with G fixed. G step: minimize
  ``loss_fn(D'(x), D'(G(z'))).g`` over G with the updated D' and fresh latents z'. Both
  networks run in training mode (dropout on, batch statistics of the current batch); batch
  statistics are threaded through every forward pass in order. ``images`` are floats in
  [-1, 1]; with ``axis_name`` they are this device's shard of the global batch.

  Metrics (averaged over the global batch): ``d_loss``, ``g_loss``, ``d_real`` = mean D(x)
  and ``d_fake`` = mean D(G(z)), both from the D step.
  """

  def pmean(tree):
    return tree if axis_name is None else jax.lax.pmean(tree, axis_name)

  def apply_g(params, state, z, rng):
    images, new_state = generator.apply({"params": params, **state}, z, train=True,
                                        rngs={"dropout": rng}, mutable=list(state))
    return images, new_state

  def apply_d(params, state, images, rng):
    logits, new_state = discriminator.apply({"params": params, **state}, images, train=True,
                                            rngs={"dropout": rng}, mutable=list(state))
    return logits, new_state

  def update(state: GANState, images: jax.Array, key: jax.Array):
    batch = images.shape[0]
    offset = 0
    if axis_name is not None:
      offset = jax.lax.axis_index(axis_name) * batch
    k_zd, k_zg, k_drop = jax.random.split(key, 3)
    if axis_name is not None:  # independent dropout masks on each shard
      k_drop = jax.random.fold_in(k_drop, jax.lax.axis_index(axis_name))
    k_gd, k_dr, k_df, k_gg, k_dg, k_dgr = jax.random.split(k_drop, 6)

    # D step.
    fake, g_state = apply_g(state.g_params, state.g_state,
                            sample_latents(k_zd, batch, z_dim, offset), k_gd)
    fake = jax.lax.stop_gradient(fake)

    def d_objective(d_params):
      real_logits, d_state = apply_d(d_params, state.d_state, images, k_dr)
      fake_logits, d_state = apply_d(d_params, d_state, fake, k_df)
      loss = loss_fn(real_logits, fake_logits).d
      return loss, (d_state, real_logits, fake_logits)

    (d_loss, (d_state, real_logits, fake_logits)), d_grads = jax.value_and_grad(
        d_objective, has_aux=True)(state.d_params)
    d_grads, d_state = pmean((d_grads, d_state))
    d_updates, d_opt_state = d_tx.update(d_grads, state.d_opt_state, state.d_params)
    d_params = optax.apply_updates(state.d_params, d_updates)

    # G step, against the updated D; D's batch-statistics updates here are discarded.
    z_g = sample_latents(k_zg, batch, z_dim, offset)

    def g_objective(g_params):
      fake, new_g_state = apply_g(g_params, g_state, z_g, k_gg)
      fake_logits, _ = apply_d(d_params, d_state, fake, k_dg)
      real_logits, _ = apply_d(d_params, d_state, images, k_dgr)  # dropped unless used
      return loss_fn(real_logits, fake_logits).g, new_g_state

    (g_loss, new_g_state), g_grads = jax.value_and_grad(g_objective, has_aux=True)(
        state.g_params)
    g_grads, new_g_state = pmean((g_grads, new_g_state))
    g_updates, g_opt_state = g_tx.update(g_grads, state.g_opt_state, state.g_params)
    g_params = optax.apply_updates(state.g_params, g_updates)

    metrics = pmean({
        "d_loss": d_loss,
        "g_loss": g_loss,
        "d_real": jax.nn.sigmoid(real_logits).mean(),
        "d_fake": jax.nn.sigmoid(fake_logits).mean(),
    })
    new_state = GANState(step=state.step + 1, g_params=g_params, d_params=d_params,
                         g_opt_state=g_opt_state, d_opt_state=d_opt_state,
                         g_state=new_g_state, d_state=d_state)
    return new_state, metrics

  return update


def to_unit_range(images_uint8: jax.Array) -> jax.Array:
  """uint8 pixels 0…255 to floats in [-1, 1]."""
  return images_uint8.astype(jnp.float32) / 127.5 - 1.0


def make_train_step(update: Callable, batch_size: int) -> Callable:
  """``train_step(state, data, key) -> (state, metrics)`` on device-resident uint8 ``data``.

  The batch (sampled uniformly with replacement) and the update's randomness come from
  ``fold_in(key, state.step)``: a run's randomness depends only on its seed and step count,
  so a resumed run continues exactly as an uninterrupted one.
  """

  def train_step(state: GANState, data: jax.Array, key: jax.Array):
    k_batch, k_update = jax.random.split(jax.random.fold_in(key, state.step))
    index = jax.random.randint(k_batch, (batch_size,), 0, data.shape[0])
    return update(state, to_unit_range(data[index]), k_update)

  return train_step


def make_multi_step(train_step: Callable, donate: bool = True) -> Callable:
  """``run(state, data, key, num_steps) -> (state, metrics[num_steps])``, jitted.

  ``num_steps > 1`` fuses the steps into one ``lax.scan`` (one dispatch); ``num_steps == 1``
  is a plain jitted step. Both give identical results. The state's buffers are donated.
  """

  def run(state, data, key, num_steps: int):
    if num_steps == 1:
      state, metrics = train_step(state, data, key)
      return state, jax.tree.map(lambda m: m[None], metrics)
    return jax.lax.scan(lambda s, _: train_step(s, data, key), state, None, length=num_steps)

  return jax.jit(run, static_argnums=3, donate_argnums=(0,) if donate else ())


def make_sampler(generator: nn.Module) -> Callable:
  """``sample(g_params, g_state, z) -> images``, G in inference mode (running statistics)."""

  @jax.jit
  def sample(g_params, g_state, z):
    return generator.apply({"params": g_params, **g_state}, z, train=False)

  return sample
