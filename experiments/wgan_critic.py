r"""Figure 1 of Gulrajani et al. 2017 ("Improved Training of Wasserstein GANs", arXiv:1704.00028,
§3), trained with jaxgan's WGAN loss, gradient penalty, weight clipping and update function.

(a) *Value surfaces of WGAN critics trained to optimality*, with weight clipping and with the
gradient penalty, on 8 Gaussians, 25 Gaussians and the Swiss roll, the "generator" held fixed
at the real data plus unit Gaussian noise. The setup is the authors' ``gan_toy.py``
(igul222/improved_wgan_training, ``FIXED_GENERATOR``): critic 2 → 3×512 ReLU → 1 with He
initialization, batch 256, 5 critic steps per update; clipping at c = 0.01 with RMSProp
(5e-5), the penalty with λ = 0.1 and Adam (1e-4, β = (0.5, 0.9)); the data scaled to unit
spread as theirs. The paper's claim: clipped critics "fail to capture higher moments", they
learn simple functions. Measured here as the share of W₁(data, G) that each critic's
Kantorovich lower bound reaches (:func:`kantorovich_bound`).

(b) *Norms of the critic loss's gradient with respect to successive layers of activations*,
both G and D 12-layer ReLU MLPs without normalization, trained as WGANs on the Swiss roll with
clipping at 0.1, 0.01 and 0.001 and with the gradient penalty. The paper: with clipping they
explode or vanish through the layers, with the penalty they do not.

  python -m experiments.reproduce gulrajani2017

Everything here is a thin layer over :class:`jaxgan.core.gan.GAN`: G and D modules, optimizers,
``UpdateOptions(clip=…)`` or ``penalty="gp"``; the fixed generator's one parameter never moves
(its optimizer is ``optax.set_to_zero()``).
"""

from __future__ import annotations

import dataclasses
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxgan.core import losses
from jaxgan.core.gan import GAN, UpdateOptions
from jaxgan.data import toys

# Their datasets, divided by their spread as gan_toy.py does (8 Gaussians: radius 2, std 0.02,
# / 1.414; 25 Gaussians: spacing 2, std 0.05, / 2.828; Swiss roll: sklearn's, noise 0.25, / 7.5).
TOYS = {
  "8 Gaussians": lambda: toys.ring(8, radius=2 / 1.414, std=0.02 / 1.414),
  "25 Gaussians": lambda: toys.grid(5, spacing=2 / 2.828, std=0.05 / 2.828),
  "Swiss roll": lambda: toys.swiss_roll(scale=1 / 7.5, std=0.25 / 7.5),
}
HE = nn.initializers.variance_scaling(2.0, "fan_in", "uniform")  # tflib's 'he' init
BATCH, N_CRITIC, RANGE = 256, 5, 3.0


@dataclasses.dataclass(frozen=True)
class Method:
  name: str
  options: UpdateOptions
  d_tx: optax.GradientTransformation


def clipping(c: float) -> Method:
  return Method(f"clip {c:g}", UpdateOptions(clip=c, n_disc=N_CRITIC), optax.rmsprop(5e-5))


def penalty(weight: float = 0.1) -> Method:
  options = UpdateOptions(penalty="gp", penalty_weight=weight, n_disc=N_CRITIC)
  return Method(f"GP (λ={weight:g})", options, optax.adam(1e-4, b1=0.5, b2=0.9))


class NoisyData(nn.Module):
  """G(z) = locate(Φ(z₃)) + √(σ² + s²)·(z₁, z₂): a draw of ``toy`` plus N(0, s²I), from three
  Gaussian latents; s (``noise_std``) is its one parameter."""

  toy: toys.Toy
  noise_std: float = 1.0

  @nn.compact
  def __call__(self, z, train: bool = True):
    s = self.param("noise_std", lambda key: jnp.asarray(self.noise_std, jnp.float32))
    u = jax.scipy.stats.norm.cdf(z[:, 2])
    return self.toy.locate(u) + jnp.sqrt(self.toy.std**2 + s**2) * z[:, :2]


class ReLUNet(nn.Module):
  """``depth`` Dense+ReLU layers of ``width`` (He init), then a linear layer to ``out``.
  With ``probe``, each activation passes through ``perturb`` (for gradients with respect to
  it); a critic (``out`` = 1) returns its scalar per example."""

  depth: int
  width: int = 512
  out: int = 1
  probe: bool = False

  @nn.compact
  def __call__(self, x, train: bool = True):
    for i in range(self.depth):
      x = nn.relu(nn.Dense(self.width, kernel_init=HE)(x))
      if self.probe:
        x = self.perturb(f"layer{i + 1}", x)
    y = nn.Dense(self.out, kernel_init=HE)(x)
    return y[:, 0] if self.out == 1 else y


def fixed_generator_gan(toy: toys.Toy, method: Method, depth: int = 3, width: int = 512):
  """A WGAN whose G is the data plus unit noise and never trains."""
  return GAN(
    NoisyData(toy),
    ReLUNet(depth, width),
    losses.LOSSES.get("wgan"),
    optax.set_to_zero(),
    method.d_tx,
    image_shape=(2,),
    z_dim=3,
    options=method.options,
  )


def mlp_gan(method: Method, depth: int = 12, width: int = 512) -> GAN:
  """G and D both ``depth``-layer ReLU MLPs (G: 2-D Gaussian noise → 2), the generator
  trained with the critic's optimizer, as gan_toy.py does."""
  return GAN(
    ReLUNet(depth, width, out=2),
    ReLUNet(depth, width),
    losses.LOSSES.get("wgan"),
    method.d_tx,
    method.d_tx,
    image_shape=(2,),
    z_dim=2,
    options=method.options,
  )


def train(gan: GAN, toy: toys.Toy, updates: int, seed: int = 0):
  """``updates`` jaxgan updates (each N_CRITIC critic steps on fresh data, then G's), in one
  ``lax.scan``. Returns the final state. Not :func:`jaxgan.run.periodic.drive`: one dispatch
  with nothing periodic (no log, no checkpoint), and data drawn inside the scan."""
  k_init, key = jax.random.split(jax.random.key(seed))

  def step(state, i):
    k_data, k_update = jax.random.split(jax.random.fold_in(key, i))
    real = toy.sample(k_data, N_CRITIC * BATCH).reshape(N_CRITIC, BATCH, 2)
    return gan.update(state, real, k_update)[0], None

  run = jax.jit(lambda s: jax.lax.scan(step, s, jnp.arange(updates))[0])
  return run(gan.init(k_init))


def value_surface(gan: GAN, state, points: int = 128) -> np.ndarray:
  """The critic on a points×points grid over [−RANGE, RANGE]², array [i, j] at (x_i, y_j)."""
  axis = np.linspace(-RANGE, RANGE, points, dtype=np.float32)
  grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
  values = gan.discriminator.apply({"params": state.d_params}, grid)
  return np.asarray(values).reshape(points, points)


def kantorovich_bound(critic, real: jax.Array, fake: jax.Array, key: jax.Array):
  """How much of the Wasserstein-1 distance between two samples a critic captures.

  By Kantorovich-Rubinstein duality W₁(P_r, P_g) = sup_{‖f‖_L ≤ 1} E_r f − E_g f, so a critic
  D (``critic``: points (n, 2) → values (n,)) with Lipschitz constant L gives the lower bound
  (E_r D − E_g D) / L. L is estimated as the largest ‖∇ₓD‖ over the real, generated and
  randomly interpolated points; W₁ as the exact optimal-transport cost between the two
  equal-sized samples (Hungarian matching). Returns (bound, W₁ estimate)."""
  from scipy.optimize import linear_sum_assignment

  alpha = jax.random.uniform(key, (len(real), 1))
  points = jnp.concatenate([real, fake, alpha * real + (1 - alpha) * fake])
  slopes = jnp.linalg.norm(jax.vmap(jax.grad(lambda x: critic(x[None])[0]))(points), axis=1)
  bound = float((critic(real).mean() - critic(fake).mean()) / slopes.max())
  cost = np.linalg.norm(np.asarray(real)[:, None] - np.asarray(fake)[None], axis=2)
  rows, cols = linear_sum_assignment(cost)
  return bound, float(cost[rows, cols].mean())


def critic_bound(gan: GAN, state, toy: toys.Toy, num: int = 1024, seed: int = 2):
  """:func:`kantorovich_bound` of a trained GAN's critic, data against G, ``num`` each."""
  k_r, k_z, k_a = jax.random.split(jax.random.key(seed), 3)
  real = toy.sample(k_r, num)
  fake = gan.sample(state.g_params, state.g_state, gan.latents(k_z, num))
  critic = lambda x: gan.discriminator.apply({"params": state.d_params}, x)
  return kantorovich_bound(critic, real, fake, k_a)


def layer_gradient_norms(gan: GAN, state, toy: toys.Toy, seed: int = 1) -> np.ndarray:
  """‖∂L/∂h_l‖ for the critic loss L = E[D(fake)] − E[D(real)] on one batch and the
  activations h_1 … h_depth of D (both passes' gradients in one norm): array (depth,)."""
  critic = gan.discriminator.clone(probe=True)
  k_real, k_z = jax.random.split(jax.random.key(seed))
  real = toy.sample(k_real, BATCH)
  fake = gan.sample(state.g_params, state.g_state, gan.latents(k_z, BATCH))
  zeros = critic.init(jax.random.key(0), real)["perturbations"]
  params = {"params": state.d_params}

  def loss(p_real, p_fake):
    d_real = critic.apply({**params, "perturbations": p_real}, real)
    d_fake = critic.apply({**params, "perturbations": p_fake}, fake)
    return losses.LOSSES.get("wgan")(d_real, d_fake).d

  g_real, g_fake = jax.grad(loss, (0, 1))(zeros, zeros)
  names = sorted(zeros, key=lambda n: int(n.removeprefix("layer")))
  return np.array(
    [math.sqrt(float(jnp.sum(g_real[n] ** 2) + jnp.sum(g_fake[n] ** 2))) for n in names]
  )
