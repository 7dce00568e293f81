r"""Regularizers of the discriminator, as pure functions, registered by name.

Each penalty has the signature ``penalty(critic, real, fake, keys) -> scalar``, where
``critic(x)`` returns D's logits for a batch ``x`` (D's parameters closed over), ``real`` and
``fake`` are batches of the same shape and ``keys`` holds one PRNG key per example
(:func:`example_keys`), from which that example's randomness is drawn. Keyed by the global
example index, a batch split over devices draws exactly what one device draws. The update
adds ``weight * penalty(...)`` to D's loss (λ for the gradient penalties, γ for R1/R2).

Input gradients are taken of Σ_i critic(x)_i, which is the per-example gradient when D treats
examples independently (no batch normalization in D, as WGAN-GP prescribes).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from jaxgan.registry import Registry

Critic = Callable[[jax.Array], jax.Array]
PenaltyFn = Callable[[Critic, jax.Array, jax.Array, jax.Array], jax.Array]
PENALTIES: Registry[PenaltyFn] = Registry("penalty")
# The penalties evaluated at generated samples alone: a class-conditional D judges them with
# the labels they were generated for; every other penalty (at real data, at perturbed real
# data, or between real and generated pairs) with the real batch's labels, as StudioGAN's
# gradient penalties do.
ON_GENERATED = ("r2",)


def input_gradients(critic: Critic, x: jax.Array) -> jax.Array:
  """∇_x D(x) for every example of the batch x (same shape as x)."""
  return jax.grad(lambda v: critic(v).sum())(x)


def gradient_norms(critic: Critic, x: jax.Array) -> jax.Array:
  """‖∇_x D(x)‖₂ per example (with 1e-12 under the root so its gradient stays finite at 0)."""
  g = input_gradients(critic, x)
  return jnp.sqrt(jnp.sum(g.reshape(g.shape[0], -1) ** 2, axis=1) + 1e-12)


def example_keys(key: jax.Array, num: int, offset: jax.Array | int = 0) -> jax.Array:
  """One key per example: fold_in(key, i) for the global indices offset … offset+num−1."""
  return jax.vmap(lambda i: jax.random.fold_in(key, i))(offset + jnp.arange(num))


def per_example_uniform(keys: jax.Array, x: jax.Array, shape=()) -> jax.Array:
  """U[0, 1] draws of ``shape`` per example (one key each), shaped to broadcast over x."""
  u = jax.vmap(lambda k: jax.random.uniform(k, shape, x.dtype))(keys)
  return u.reshape((x.shape[0],) + (1,) * (x.ndim - 1 - len(shape)) + tuple(shape))


def interpolate(keys: jax.Array, real: jax.Array, fake: jax.Array) -> jax.Array:
  """x̂ = ε x + (1 − ε) x̃ with ε ~ U[0, 1] drawn per example (not per pixel)."""
  eps = per_example_uniform(keys, real)
  return eps * real + (1 - eps) * fake


@PENALTIES.register("gp")
def gradient_penalty(
  critic: Critic, real: jax.Array, fake: jax.Array, keys: jax.Array
) -> jax.Array:
  r"""Two-sided gradient penalty of WGAN-GP (Gulrajani et al. 2017, arXiv:1704.00028, eq. 3).

    E_x̂[(‖∇_x̂ D(x̂)‖₂ − 1)²],  x̂ = ε x + (1 − ε) G(z),  ε ~ U[0, 1] per example.

  For a linear critic D(x) = w·x it is exactly (‖w‖ − 1)². Weight λ = 10 in the paper.
  """
  return jnp.mean((gradient_norms(critic, interpolate(keys, real, fake)) - 1.0) ** 2)


@PENALTIES.register("gp_one_sided")
def one_sided_gradient_penalty(
  critic: Critic, real: jax.Array, fake: jax.Array, keys: jax.Array
) -> jax.Array:
  r"""One-sided gradient penalty (Gulrajani et al. 2017, appendix; Petzka et al. 2018,
  arXiv:1709.08894): only gradient norms above 1 are penalized.

    E_x̂[max(0, ‖∇_x̂ D(x̂)‖₂ − 1)²]
  """
  return jnp.mean(jax.nn.relu(gradient_norms(critic, interpolate(keys, real, fake)) - 1.0) ** 2)


@PENALTIES.register("dragan")
def dragan_penalty(critic: Critic, real: jax.Array, fake: jax.Array, keys: jax.Array) -> jax.Array:
  r"""DRAGAN's penalty around the data (Kodali et al. 2017, arXiv:1705.07215, eq. 1; the
  perturbation as in Kurach et al. 2019's compare_gan):

    x_p = x + 0.5 · std(x) · u,  u ~ U[0, 1] per pixel
    x̂ = x + α (x_p − x),        α ~ U[0, 1] per example
    E_x̂[(‖∇_x̂ D(x̂)‖₂ − 1)²]

  ``fake`` is unused. Weight λ = 10 in the paper.
  """
  del fake
  fold = lambda i: jax.vmap(lambda k: jax.random.fold_in(k, i))(keys)
  perturbed = real + 0.5 * jnp.std(real) * per_example_uniform(fold(0), real, real.shape[1:])
  alpha = per_example_uniform(fold(1), real)
  x_hat = real + alpha * (perturbed - real)
  return jnp.mean((gradient_norms(critic, x_hat) - 1.0) ** 2)


@PENALTIES.register("r1")
def r1_penalty(critic: Critic, real: jax.Array, fake: jax.Array, keys: jax.Array) -> jax.Array:
  r"""R1 (Mescheder et al. 2018, arXiv:1801.04406, eq. 9): zero-centred, on real data.

  ½ E_x[‖∇_x D(x)‖²]      (the update multiplies by γ, giving γ/2 E‖∇D‖²)
  """
  del fake, keys
  g = input_gradients(critic, real)
  return 0.5 * jnp.mean(jnp.sum(g.reshape(g.shape[0], -1) ** 2, axis=1))


@PENALTIES.register("r2")
def r2_penalty(critic: Critic, real: jax.Array, fake: jax.Array, keys: jax.Array) -> jax.Array:
  r"""R2 (Mescheder et al. 2018, arXiv:1801.04406, eq. 10): zero-centred, on generated data.

  ½ E_z[‖∇_x D(G(z))‖²]   (times γ in the update)
  """
  del real, keys
  g = input_gradients(critic, fake)
  return 0.5 * jnp.mean(jnp.sum(g.reshape(g.shape[0], -1) ** 2, axis=1))
