"""The optimizers of G and D, with their hyperparameters in their states.

``optax.inject_hyperparams`` keeps the learning rate, the optimizer's own hyperparameters (Adam's
betas) and the gradient clipping norm in the optimizer state rather than in the compiled update,
so a vmapped population of GANs holds one value per member and trains them all with one
compiled program (:func:`set_hyperparams` gives each member its own).

A player's optimizer is :func:`make`:

    [clip_by_global_norm(C)]  →  OPTIMIZERS[name](learning_rate, **own)  →  [× schedule(t)]

The schedule multiplies the update by s(t) ∈ [0, 1] (``SCHEDULES``), which for Adam, RMSProp
and SGD equals the learning rate lr · s(t), while lr itself stays per-member data.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from jaxgan.registry import Registry

# name -> optax factory taking ``learning_rate`` and the optimizer's own hyperparameters (which
# the config's settings declare with ``Param("optimizer", name, ...)``).
OPTIMIZERS: Registry[Callable[..., optax.GradientTransformation]] = Registry("optimizer")
OPTIMIZERS.register("adam")(optax.adam)  # Kingma & Ba 2015
OPTIMIZERS.register("rmsprop")(optax.rmsprop)  # Tieleman & Hinton 2012; WGAN's optimizer
OPTIMIZERS.register("sgd")(optax.sgd)

# name -> ``schedule(total_steps)``: a multiplier of the learning rate over a player's optimizer
# steps, or None for a constant rate.
SCHEDULES: Registry[Callable[[int], optax.Schedule | None]] = Registry("lr_schedule")
SCHEDULES.register("constant")(lambda total: None)
SCHEDULES.register("linear")(lambda total: optax.linear_schedule(1.0, 0.0, max(total, 1)))
SCHEDULES.register("cosine")(lambda total: optax.cosine_decay_schedule(1.0, max(total, 1)))


def adam(learning_rate: float, b1: float = 0.5, b2: float = 0.999) -> optax.GradientTransformation:
  """Adam (Kingma & Ba 2015) whose hyperparameters live in its state."""
  return make("adam", learning_rate, b1=b1, b2=b2)


def sgd(learning_rate: float) -> optax.GradientTransformation:
  """Plain gradient descent whose learning rate lives in its state."""
  return make("sgd", learning_rate)


def make(
  name: str,
  learning_rate: float,
  grad_clip: float = 0.0,
  schedule: optax.Schedule | None = None,
  **own,
) -> optax.GradientTransformation:
  """Optimizer ``name`` with ``learning_rate`` and its ``own`` hyperparameters in its state;
  with ``grad_clip`` > 0 the gradient is first clipped to that global norm (its ``max_norm``
  in the state too); with a ``schedule`` the update is then scaled by ``schedule(count)``.
  Without either, it is exactly ``inject_hyperparams(optimizer)``."""
  parts = []
  if grad_clip:
    parts.append(optax.inject_hyperparams(optax.clip_by_global_norm)(max_norm=grad_clip))
  parts.append(optax.inject_hyperparams(OPTIMIZERS.get(name))(learning_rate=learning_rate, **own))
  if schedule is not None:
    parts.append(optax.scale_by_schedule(schedule))
  return parts[0] if len(parts) == 1 else optax.chain(*parts)


def _injected(x) -> bool:
  return isinstance(x, optax.InjectStatefulHyperparamsState)


def set_hyperparams(opt_state, **values) -> optax.OptState:
  """``opt_state`` with these hyperparameters (scalars, or stacked per-member arrays) in every
  injected state that holds one of that name; others stay as they are."""

  def replace(s):
    if not _injected(s):
      return s
    hp = dict(s.hyperparams)
    hp.update({k: jnp.asarray(v, jnp.float32) for k, v in values.items() if k in hp})
    return s._replace(hyperparams=hp)

  return jax.tree.map(replace, opt_state, is_leaf=_injected)


def hyperparams(opt_state) -> dict:
  """Every injected hyperparameter of ``opt_state``, {name: value}."""
  found = {}
  for s in jax.tree.leaves(opt_state, is_leaf=_injected):
    if _injected(s):
      found.update(s.hyperparams)
  return found
