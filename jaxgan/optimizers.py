"""The optimizers of G and D, with their hyperparameters in their states.

``optax.inject_hyperparams`` keeps the learning rate and betas in the optimizer state rather
than in the compiled update, so a vmapped population of GANs holds one value per member and
trains them all with one compiled program.
"""

from __future__ import annotations

import optax


def adam(learning_rate: float, b1: float = 0.5, b2: float = 0.999) -> optax.GradientTransformation:
  """Adam (Kingma & Ba 2015) whose hyperparameters live in its state."""
  return optax.inject_hyperparams(optax.adam)(learning_rate=learning_rate, b1=b1, b2=b2)


def sgd(learning_rate: float) -> optax.GradientTransformation:
  """Plain gradient descent whose learning rate lives in its state."""
  return optax.inject_hyperparams(optax.sgd)(learning_rate=learning_rate)
