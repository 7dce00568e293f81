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

import dataclasses
import functools
from typing import Any, Callable, Optional

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from jaxgan import xla_options
from jaxgan.losses import LossFn, Losses, initial_state as initial_loss_state, is_stateful
from jaxgan.penalties import PENALTIES, example_keys

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
  g_ema: PyTree = None       # exponential moving average of g_params, when kept
  loss_state: PyTree = None  # a stateful loss's state (BEGAN: {"k": k_t})


def adam(learning_rate: float, b1: float = 0.5, b2: float = 0.999) -> optax.GradientTransformation:
  """Adam whose hyperparameters live in its state, so a population can hold one per member."""
  return optax.inject_hyperparams(optax.adam)(learning_rate=learning_rate, b1=b1, b2=b2)


def sgd(learning_rate: float) -> optax.GradientTransformation:
  return optax.inject_hyperparams(optax.sgd)(learning_rate=learning_rate)


def sample_latents(key: jax.Array, num: int, z_dim: int, offset: jax.Array | int = 0,
                   prior: str = "normal") -> jax.Array:
  """z_i for examples offset … offset+num−1, each from fold_in(key, i); ``prior`` is
  ``normal`` (N(0, I)) or ``uniform`` (U(−1, 1))."""
  if prior == "normal":
    draw = lambda k: jax.random.normal(k, (z_dim,))
  elif prior == "uniform":
    draw = lambda k: jax.random.uniform(k, (z_dim,), minval=-1.0, maxval=1.0)
  else:
    raise ValueError(f"unknown latent prior {prior!r}; choices: normal, uniform")
  return jax.vmap(draw)(example_keys(key, num, offset))


def latent_prior(generator: nn.Module) -> str:
  """The latent distribution a generator was designed for (its class's ``z_prior``)."""
  return getattr(generator, "z_prior", "normal")


def jit_init(fn: Callable, **jit_kwargs) -> Callable:
  """``jax.jit(fn, **jit_kwargs)`` for initialization, compiled to run once
  (:func:`jaxgan.xla_options.for_run_once`).

  On the CPU it skips XLA's backend (LLVM) optimizations, which cost most of an init's compile
  time and buy nothing for code run once: ``init_state`` of the sndcgan pair compiles in 4.9 s
  instead of 11.6 (20.4 s run eagerly, op by op), dcgan's in 1.1 s instead of 3.2 (9.5). The
  values agree with the optimized build to 1 ulp, and are the same from run to run. Elsewhere
  this is plain ``jax.jit``.
  """
  return jax.jit(fn, compiler_options=xla_options.for_run_once(), **jit_kwargs)


def _split_variables(variables: PyTree) -> tuple[PyTree, PyTree]:
  variables = dict(variables)
  params = variables.pop("params")
  return params, variables


def init_state(key: jax.Array, generator: nn.Module, discriminator: nn.Module,
               g_tx: optax.GradientTransformation, d_tx: optax.GradientTransformation,
               image_shape, z_dim: int, ema: bool = False,
               loss_fn: Optional[LossFn] = None) -> GANState:
  """Initializes parameters, batch statistics, optimizer states, G's EMA if ``ema``, and the
  state of ``loss_fn`` if it keeps one (BEGAN). Pure: compile it with :func:`jit_init` (run
  eagerly, op by op, it compiles every initializer separately)."""
  k_g, k_d = jax.random.split(key)
  z = jnp.zeros((2, z_dim), jnp.float32)
  x = jnp.zeros((2, *image_shape), jnp.float32)
  g_params, g_state = _split_variables(generator.init(k_g, z, train=False))
  d_params, d_state = _split_variables(discriminator.init(k_d, x, train=False))
  return GANState(step=jnp.zeros((), jnp.int32),
                  g_params=g_params, d_params=d_params,
                  g_opt_state=g_tx.init(g_params), d_opt_state=d_tx.init(d_params),
                  g_state=g_state, d_state=d_state, g_ema=g_params if ema else None,
                  loss_state=initial_loss_state(loss_fn) if loss_fn is not None else None)


@dataclasses.dataclass(frozen=True)
class UpdateOptions:
  """How one GAN update trains, beyond the loss and the optimizers.

  penalty: name in ``penalties.PENALTIES`` (or None), added to D's loss times ``penalty_weight``.
  n_disc: D steps per G step; each takes its own real batch (``images`` gets a leading axis
    of size n_disc when n_disc > 1).
  clip: clip every D parameter to [−clip, clip] after each D step (WGAN), or None.
  simultaneous: G's step uses D as it was before this update's D step (simultaneous gradient
    descent) rather than the updated D (alternating). Needs n_disc == 1.
  ema_decay: keep G's exponential moving average θ̄ ← d θ̄ + (1 − d) θ in ``state.g_ema``.
  instance_noise: std of Gaussian noise added to D's inputs, real and fake (Sønderby et al.
    2017, arXiv:1610.04490), or 0.
  consensus: weight γ of consensus optimization (Mescheder et al. 2017, "The Numerics of
    GANs", arXiv:1705.10461, eq. 10 and Algorithm 1), or 0. With v = (∇_θ L_G, ∇_φ L_D) the
    players' gradients (the negated vector field) and L = ½‖v‖², G descends
    ∇_θ(L_G + γL) and D descends ∇_φ(L_D + γL), simultaneously (needs ``simultaneous``).
  """
  penalty: Optional[str] = None
  penalty_weight: float = 0.0
  n_disc: int = 1
  clip: Optional[float] = None
  simultaneous: bool = False
  ema_decay: Optional[float] = None
  instance_noise: float = 0.0
  consensus: float = 0.0

  def __post_init__(self):
    if self.n_disc < 1:
      raise ValueError(f"n_disc must be >= 1, got {self.n_disc}")
    if self.simultaneous and self.n_disc != 1:
      raise ValueError("simultaneous updates need n_disc == 1")
    if self.consensus and not self.simultaneous:
      raise ValueError("consensus optimization is a simultaneous update: set simultaneous "
                       "(and n_disc == 1)")
    if self.penalty is not None:
      PENALTIES.get(self.penalty)  # fails early, listing the choices


def make_update(generator: nn.Module, discriminator: nn.Module, loss_fn: LossFn,
                g_tx: optax.GradientTransformation, d_tx: optax.GradientTransformation,
                z_dim: int, axis_name: Optional[str] = None,
                options: UpdateOptions = UpdateOptions(),
                ) -> Callable[[GANState, jax.Array, jax.Array], tuple[GANState, Metrics]]:
  """Builds ``update(state, images, key) -> (state, metrics)``: n_disc D steps, then a G step.

  D step: minimize ``loss_fn(D(x), D(G(z))).d + weight · penalty`` over D with G fixed, then
  clip D's weights if asked. G step: minimize ``loss_fn(D'(x), D'(G(z'))).g`` over G with
  fresh latents z' and D' the updated D (or the old one, ``simultaneous``). Both networks run
  in training mode (dropout on, batch statistics of the current batch); batch statistics are
  threaded through every forward pass in order. A stateful loss (BEGAN) sees
  ``state.loss_state`` in every step and advances it in the G step. ``images`` are floats in
  [-1, 1]; with ``axis_name`` they are this device's shard of the global batch.

  Metrics (averaged over the global batch, from the last D step): ``d_loss`` (with the
  penalty), ``g_loss``, ``d_real`` = mean D(x) and ``d_fake`` = mean D(G(z)) as sigmoid
  probabilities, ``penalty`` (unweighted) when one is used, ``consensus`` (½‖v‖²) with
  consensus optimization, and whatever the loss reports (BEGAN: ``began_k``, ``began_M``).
  """
  opts = options
  prior = latent_prior(generator)
  penalty_fn = PENALTIES.get(opts.penalty) if opts.penalty else None
  stateful = is_stateful(loss_fn)

  def shard_offset(images):
    """Global index of this shard's first example."""
    return 0 if axis_name is None else jax.lax.axis_index(axis_name) * images.shape[0]

  def pmean(tree):
    return tree if axis_name is None else jax.lax.pmean(tree, axis_name)

  def call_loss(real_logits, fake_logits, loss_state) -> Losses:
    if stateful:
      return loss_fn(real_logits, fake_logits, loss_state)
    return loss_fn(real_logits, fake_logits)

  def apply_g(params, state, z, rng):
    return generator.apply({"params": params, **state}, z, train=True,
                           rngs={"dropout": rng}, mutable=list(state))

  def apply_d(params, state, images, rng):
    if opts.instance_noise:
      images = images + opts.instance_noise * jax.random.normal(
          jax.random.fold_in(rng, 1), images.shape, images.dtype)
    return discriminator.apply({"params": params, **state}, images, train=True,
                               rngs={"dropout": rng}, mutable=list(state))

  def d_objective(d_params, d_state, images, fake, loss_state, keys):
    """D's loss (with the penalty) on real ``images`` and generated ``fake``."""
    k_r, k_f, k_p, pen_keys = keys
    real_logits, new_d_state = apply_d(d_params, d_state, images, k_r)
    fake_logits, new_d_state = apply_d(d_params, new_d_state, fake, k_f)
    loss = call_loss(real_logits, fake_logits, loss_state).d
    penalty = jnp.zeros(())
    if penalty_fn is not None:
      critic = lambda x: apply_d(d_params, new_d_state, x, k_p)[0]
      penalty = penalty_fn(critic, images, fake, pen_keys)
      loss = loss + opts.penalty_weight * penalty
    return loss, (new_d_state, real_logits, fake_logits, penalty)

  def g_objective(g_params, g_state, d_params, d_state, z, real, loss_state, key):
    """G's loss against D (whose batch-statistics updates are discarded)."""
    k_gg, k_dg, k_dgr = jax.random.split(key, 3)
    fake, new_g_state = apply_g(g_params, g_state, z, k_gg)
    fake_logits, _ = apply_d(d_params, d_state, fake, k_dg)
    real_logits, _ = apply_d(d_params, d_state, real, k_dgr)  # dropped unless used
    out = call_loss(real_logits, fake_logits, loss_state)
    return out.g, (new_g_state, out.state, out.metrics or {})

  def d_metrics(loss, real_logits, fake_logits, penalty):
    metrics = {"d_loss": loss, "d_real": jax.nn.sigmoid(real_logits).mean(),
               "d_fake": jax.nn.sigmoid(fake_logits).mean()}
    if penalty_fn is not None:
      metrics["penalty"] = penalty
    return metrics

  def apply_d_grads(d_params, d_opt_state, grads):
    updates, d_opt_state = d_tx.update(grads, d_opt_state, d_params)
    d_params = optax.apply_updates(d_params, updates)
    if opts.clip is not None:
      d_params = jax.tree.map(lambda p: jnp.clip(p, -opts.clip, opts.clip), d_params)
    return d_params, d_opt_state

  def d_step(carry, inputs, loss_state):
    d_params, d_opt_state, d_state, g_params, g_state, offset = carry
    images, k_z, k_drop = inputs  # k_z is the same on every shard; k_drop differs per shard
    k_g, k_r, k_f, k_p = jax.random.split(k_drop, 4)
    z, pen_keys = draw_per_example(k_z, images.shape[0], offset)
    fake, g_state = apply_g(g_params, g_state, z, k_g)
    (loss, (d_state, real_logits, fake_logits, penalty)), grads = jax.value_and_grad(
        d_objective, has_aux=True)(d_params, d_state, images, jax.lax.stop_gradient(fake),
                                   loss_state, (k_r, k_f, k_p, pen_keys))
    grads, d_state = pmean((grads, d_state))
    d_params, d_opt_state = apply_d_grads(d_params, d_opt_state, grads)
    return ((d_params, d_opt_state, d_state, g_params, g_state, offset),
            d_metrics(loss, real_logits, fake_logits, penalty))

  def draw_per_example(key, batch, offset):
    """z and penalty keys of the examples offset …, the same on every shard."""
    k_z, k_pen = jax.random.split(key)
    return (sample_latents(k_z, batch, z_dim, offset, prior),
            example_keys(k_pen, batch, offset))

  def consensus_grads(state, images, offset, k_zd, z_g, k_dd, k_g_step):
    """Both players' gradients at (θ, φ), each plus γ ∇(½‖v‖²) = γ Jᵀv (one VJP)."""
    k_g, k_r, k_f, k_p = jax.random.split(k_dd, 4)
    z_d, pen_keys = draw_per_example(k_zd, images.shape[0], offset)

    def field(g_params, d_params):
      fake, g_state = apply_g(g_params, state.g_state, z_d, k_g)
      (d_loss, d_aux), v_d = jax.value_and_grad(d_objective, has_aux=True)(
          d_params, state.d_state, images, fake, state.loss_state, (k_r, k_f, k_p, pen_keys))
      (g_loss, g_aux), v_g = jax.value_and_grad(g_objective, has_aux=True)(
          g_params, g_state, d_params, state.d_state, z_g, images, state.loss_state,
          k_g_step)
      return (v_g, v_d), (d_loss, d_aux, g_loss, g_aux)

    (v_g, v_d), vjp, aux = jax.vjp(field, state.g_params, state.d_params, has_aux=True)
    v = pmean((v_g, v_d))  # the field of the global batch; Jᵀv is then averaged likewise
    jtv_g, jtv_d = pmean(vjp(v))
    reg = 0.5 * sum(jnp.sum(x ** 2) for x in jax.tree.leaves(v))
    grads = jax.tree.map(lambda a, b: a + opts.consensus * b, v, (jtv_g, jtv_d))
    return grads, reg, aux

  def update(state: GANState, images: jax.Array, key: jax.Array):
    if opts.n_disc > 1 and (images.ndim < 2 or images.shape[0] != opts.n_disc):
      raise ValueError(f"with n_disc={opts.n_disc}, images need a leading axis of that size")
    if stateful and state.loss_state is None:
      raise ValueError("this loss keeps state (BEGAN's k): pass loss_fn to init_state")
    last_real = images[-1] if opts.n_disc > 1 else images
    batch = last_real.shape[0]
    offset = shard_offset(last_real)
    k_zd, k_zg, k_drop = jax.random.split(key, 3)
    if axis_name is not None:  # independent dropout masks and instance noise on each shard
      k_drop = jax.random.fold_in(k_drop, jax.lax.axis_index(axis_name))
    k_dd, k_drop = jax.random.split(k_drop)
    z_g = sample_latents(k_zg, batch, z_dim, offset, prior)
    extra = {}

    if opts.consensus:
      (g_grads, d_grads), extra["consensus"], aux = consensus_grads(
          state, images, offset, k_zd, z_g, k_dd, k_drop)
      d_loss, (d_state, real_logits, fake_logits, penalty), g_loss, g_aux = aux
      d_state = pmean(d_state)
      d_params, d_opt_state = apply_d_grads(state.d_params, state.d_opt_state, d_grads)
      d_metrics_ = d_metrics(d_loss, real_logits, fake_logits, penalty)
    else:
      carry = (state.d_params, state.d_opt_state, state.d_state, state.g_params,
               state.g_state, offset)
      if opts.n_disc == 1:
        carry, d_metrics_ = d_step(carry, (images, k_zd, k_dd), state.loss_state)
      else:
        # Unrolled, not a lax.scan: inside a while loop XLA:CPU leaves gradient
        # convolutions in a non-canonical layout and runs them slowly (infogan with a
        # gradient penalty and n_disc=5: 8.4 s vs 2.2 s per update on 2 cores; see
        # BENCHMARKS.md).
        k_zs, k_ds = jax.random.split(k_zd, opts.n_disc), jax.random.split(k_dd, opts.n_disc)
        for i in range(opts.n_disc):
          carry, d_metrics_ = d_step(carry, (images[i], k_zs[i], k_ds[i]), state.loss_state)
      d_params, d_opt_state, d_state, _, g_state, _ = carry

      # G step, against the updated D (alternating) or the old one (simultaneous).
      g_d_params, g_d_state = ((state.d_params, state.d_state) if opts.simultaneous
                               else (d_params, d_state))
      (g_loss, g_aux), g_grads = jax.value_and_grad(g_objective, has_aux=True)(
          state.g_params, g_state, g_d_params, g_d_state, z_g, last_real, state.loss_state,
          k_drop)
      g_grads = pmean(g_grads)

    new_g_state, loss_state, loss_metrics = g_aux
    new_g_state, loss_state = pmean((new_g_state, loss_state))
    g_updates, g_opt_state = g_tx.update(g_grads, state.g_opt_state, state.g_params)
    g_params = optax.apply_updates(state.g_params, g_updates)
    g_ema = state.g_ema
    if opts.ema_decay is not None:
      g_ema = optax.incremental_update(g_params, state.g_ema, 1.0 - opts.ema_decay)

    metrics = pmean({**d_metrics_, "g_loss": g_loss, **loss_metrics, **extra})
    new_state = GANState(step=state.step + 1, g_params=g_params, d_params=d_params,
                         g_opt_state=g_opt_state, d_opt_state=d_opt_state,
                         g_state=new_g_state, d_state=d_state, g_ema=g_ema,
                         loss_state=loss_state)
    return new_state, metrics

  return update


def to_unit_range(images: jax.Array) -> jax.Array:
  """uint8 pixels 0…255 to floats in [-1, 1]; float data (e.g. 2-D toy points) unchanged."""
  if images.dtype != jnp.uint8:
    return images
  return images.astype(jnp.float32) / 127.5 - 1.0


def make_train_step(update: Callable, batch_size: int, n_disc: int = 1) -> Callable:
  """``train_step(state, data, key) -> (state, metrics)`` on device-resident ``data`` (uint8
  images, scaled to [-1, 1] here, or float points).

  The batch (sampled uniformly with replacement) and the update's randomness come from
  ``fold_in(key, state.step)``: a run's randomness depends only on its seed and step count,
  so a resumed run continues exactly as an uninterrupted one. With ``n_disc > 1`` each D
  step gets its own batch: the images have shape (n_disc, batch_size, ...).
  """

  def train_step(state: GANState, data: jax.Array, key: jax.Array):
    k_batch, k_update = jax.random.split(jax.random.fold_in(key, state.step))
    shape = (batch_size,) if n_disc == 1 else (n_disc, batch_size)
    index = jax.random.randint(k_batch, shape, 0, data.shape[0])
    return update(state, to_unit_range(data[index]), k_update)

  return train_step


def make_multi_step(train_step: Callable, donate: bool = True) -> Callable:
  """``run(state, data, key, num_steps) -> (state, metrics[num_steps])``, jitted.

  ``num_steps > 1`` fuses the steps into one ``lax.scan`` (one dispatch); ``num_steps == 1``
  is a plain jitted step. Both give identical results. The state's buffers are donated. It
  compiles with :func:`jaxgan.xla_options.for_training` and lowers its large random draws
  (dropout masks) unrolled on the CPU (:func:`jaxgan.xla_options.threefry_unrolled`: the same
  bits, faster).
  """

  def run(state, data, key, num_steps: int):
    if num_steps == 1:
      state, metrics = train_step(state, data, key)
      return state, jax.tree.map(lambda m: m[None], metrics)
    return jax.lax.scan(lambda s, _: train_step(s, data, key), state, None, length=num_steps)

  jitted = jax.jit(run, static_argnums=3, donate_argnums=(0,) if donate else (),
                   compiler_options=xla_options.for_training())

  @functools.wraps(run)
  def run_unrolled(state, data, key, num_steps: int):
    with xla_options.threefry_unrolled():  # takes effect when this call traces and lowers
      return jitted(state, data, key, num_steps)

  return run_unrolled


def make_sampler(generator: nn.Module) -> Callable:
  """``sample(g_params, g_state, z) -> images``, G in inference mode (running statistics)."""

  @functools.partial(jax.jit, compiler_options=xla_options.for_training())
  def sample(g_params, g_state, z):
    return generator.apply({"params": g_params, **g_state}, z, train=False)

  return sample
