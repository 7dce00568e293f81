"""The GAN: G, D, the loss and both optimizers, described once; its state; its update.

A :class:`GAN` is a frozen value built once (:func:`build_gan` from a
:class:`~jaxgan.config.Config`). It owns ``init(key) -> GANState`` and

    update(state, images, key, labels=None) -> (new_state, metrics)

which takes both parameter pytrees, both optax optimizer states and both model states (batch
statistics) inside a :class:`GANState`. The same pure function runs

* under ``jax.jit`` on one device, or with the batch sharded over a device mesh
  (``NamedSharding``; ``axis_name=None``: XLA inserts the cross-device reductions);
* under ``jax.pmap`` with ``axis_name`` set: gradients, batch statistics and metrics are
  averaged with ``lax.pmean``, and each shard draws the latent vectors of its own examples;
* under ``jax.vmap`` over a population of GANs (stacked states, keys, and per-member
  hyperparameters held in the optimizer states by ``optax.inject_hyperparams``).

The update is Algorithm 1 of Goodfellow et al. 2014 with the controls of
:class:`UpdateOptions`: ``n_disc`` times :func:`d_step`, then :func:`g_step`, or one
:func:`consensus_step` that moves both players at once. Each is a module-level pure function
of the GAN, the state, the images and a :class:`StepKeys`, testable alone. Latent vectors are
drawn per example from ``fold_in(key, global_example_index)``, so a batch split into shards
sees exactly the z's that the whole batch sees on one device. A class-conditional GAN
(``num_classes`` > 0, :mod:`jaxgan.nets.conditional`) takes the real batch's ``labels`` and
draws each generated example's class the same way, from its own per-example key.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from jaxgan.backend import platform
from jaxgan.core.losses import Losses, LossSpec
from jaxgan.core.penalties import ON_GENERATED, PENALTIES, example_keys
from jaxgan.nets import packing

PyTree = Any
Metrics = dict[str, jax.Array]


@flax.struct.dataclass
class GANState:
  """Everything that changes during training; a pytree."""

  step: jax.Array  # int32 scalar: number of updates done
  g_params: PyTree
  d_params: PyTree
  g_opt_state: optax.OptState
  d_opt_state: optax.OptState
  g_state: PyTree  # non-parameter collections of G, e.g. {"batch_stats": ...}
  d_state: PyTree
  g_ema: PyTree = None  # exponential moving average of g_params, when kept
  loss_state: PyTree = None  # a stateful loss's state (BEGAN: {"k": k_t})


@dataclasses.dataclass(frozen=True)
class UpdateOptions:
  """How one GAN update trains, beyond the loss and the optimizers. Off is None or 0.

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
  unroll: k > 0 makes this an Unrolled GAN (Metz et al. 2017, arXiv:1611.02163, eq. 7-10):
    G's loss is taken against D advanced by k further optimizer steps from the D that G
    would otherwise face (each on the same real batch and fresh latents), f_K(θ_G, θ_D) =
    f(θ_G, θ_D^K), and G's gradient flows through those k steps; D itself takes only its
    normal step. 0: off.
  pack: PacGAN's packing degree m (Lin et al. 2018, arXiv:1712.04086; :mod:`jaxgan.nets.packing`):
    D judges packs of m real or m generated samples concatenated on the last axis, so a batch
    of B gives B/m logits per side (B must be a multiple of m); penalties act on packs. 1: off.
  conditional: how G and D take the class (``concat``, ``projection``, ``acgan``;
    :mod:`jaxgan.nets.conditional`), or None: unconditional.
  class_weight: with ``acgan``, the weight w of the auxiliary classifier's cross-entropy
    L_C = CE(C(x), y) + CE(C(G(z, y')), y') in D's loss, and of CE(C(G(z, y')), y') in G's
    (Odena et al. 2017, arXiv:1610.09585, eq. 2-3: D maximizes L_S + L_C, G maximizes
    L_C − L_S; w = 1 there).
  """

  penalty: str | None = None
  penalty_weight: float = 0.0
  n_disc: int = 1
  clip: float | None = None
  simultaneous: bool = False
  ema_decay: float | None = None
  instance_noise: float = 0.0
  consensus: float = 0.0
  unroll: int = 0
  pack: int = 1
  conditional: str | None = None
  class_weight: float = 1.0

  def __post_init__(self):
    if self.pack > 1 and self.conditional not in (None, "concat"):
      raise ValueError(
        f"--conditional={self.conditional} judges one example's class, not a pack's: --pack "
        "needs --conditional=concat"
      )
    if self.pack < 1:
      raise ValueError(f"pack must be >= 1, got {self.pack}")
    if self.unroll < 0:
      raise ValueError(f"unroll must be >= 0, got {self.unroll}")
    if self.n_disc < 1:
      raise ValueError(f"n_disc must be >= 1, got {self.n_disc}")
    if self.simultaneous and self.n_disc != 1:
      raise ValueError("simultaneous updates (--simultaneous) need --n_disc=1")
    if self.consensus and not self.simultaneous:
      raise ValueError("--consensus is a simultaneous update: add --simultaneous (--n_disc=1)")
    if self.penalty is not None:
      PENALTIES.get(self.penalty)  # fails early, listing the choices


class StepKeys(NamedTuple):
  """The randomness of one player's step.

  latents: z and the penalty's per-example draws, keyed by the global example index, so the
    same on every shard of a pmapped batch.
  dropout: dropout masks and instance noise, this shard's own.
  """

  latents: jax.Array
  dropout: jax.Array


class UpdateKeys(NamedTuple):
  d: StepKeys  # the D step(s)
  g: StepKeys  # the G step


@dataclasses.dataclass(frozen=True, eq=False)
class GAN:
  """G, D, the loss, both optimizers and the update's options: a GAN, built once.

  ``eq=False``: two GANs are the same only if they are the same object (modules and
  optimizers hold functions, which do not compare by value).
  """

  generator: nn.Module
  discriminator: nn.Module
  loss: LossSpec
  g_tx: optax.GradientTransformation
  d_tx: optax.GradientTransformation
  image_shape: tuple[int, ...]
  z_dim: int
  z_prior: str = "normal"
  options: UpdateOptions = UpdateOptions()
  num_classes: int = 0  # > 0: class-conditional (options.conditional says how)
  axis_name: str | None = None  # set when the update runs under pmap over this axis
  # A population member's own continuous hyperparameters ({name: scalar}, MEMBER_HPARAMS,
  # traced under vmap), used in place of the values in ``options``, which still decide what
  # is on or off. None for a GAN trained alone. See :meth:`for_member`.
  member: Any = None

  def init(self, key: jax.Array) -> GANState:
    """Parameters, batch statistics, optimizer states, G's EMA when kept, and the loss's
    state (BEGAN). Pure: compile it with :func:`jaxgan.backend.xla_options.jit_init`."""
    k_g, k_d = jax.random.split(key)
    m = self.options.pack
    z = jnp.zeros((2, self.z_dim), jnp.float32)
    x = packing.pack(jnp.zeros((2 * m, *self.image_shape)), m)
    y = jnp.zeros((2 * m,), jnp.int32) if self.num_classes else None
    g_params, g_state = _split_variables(
      self.generator.init(k_g, z, train=False, **_labels_kw(None if y is None else y[:2]))
    )
    d_params, d_state = _split_variables(
      self.discriminator.init(k_d, x, train=False, **_labels_kw(_packed(y, m)))
    )
    return GANState(
      step=jnp.zeros((), jnp.int32),
      g_params=g_params,
      d_params=d_params,
      g_opt_state=self.g_tx.init(g_params),
      d_opt_state=self.d_tx.init(d_params),
      g_state=g_state,
      d_state=d_state,
      g_ema=g_params if self.options.ema_decay is not None else None,
      loss_state=self.loss.init_state() if self.loss.stateful else None,
    )

  def update(self, state: GANState, images: jax.Array, key: jax.Array, labels=None):
    """One training update; see :func:`update`."""
    return update(self, state, images, key, labels)

  def sample(self, g_params: PyTree, g_state: PyTree, z: jax.Array, labels=None) -> jax.Array:
    """G(z) (G(z, labels) when class-conditional) in inference mode (running statistics)."""
    return self.generator.apply(
      {"params": g_params, **g_state}, z, train=False, **_labels_kw(labels)
    )

  def latents(self, key: jax.Array, num: int, offset=0) -> jax.Array:
    """z of examples offset … offset+num−1, from this GAN's prior."""
    return sample_latents(key, num, self.z_dim, offset, self.z_prior)

  def fake_labels(self, key: jax.Array, num: int, offset=0) -> jax.Array | None:
    """The classes generated examples offset … offset+num−1 are drawn for with latent key
    ``key``: uniform, each from its own example's key (:func:`sample_labels`); None for an
    unconditional GAN."""
    if not self.num_classes:
      return None
    return sample_labels(key, num, self.num_classes, offset)

  def for_member(self, hparams) -> GAN:
    """The same GAN with a population member's continuous hyperparameters (``hparams``,
    names in MEMBER_HPARAMS), e.g. tracers inside ``jax.vmap`` over the members."""
    return dataclasses.replace(self, member=hparams)

  def with_axis_name(self, axis_name: str | None) -> GAN:
    """The same GAN whose update averages over ``axis_name`` (pmap); its models must have
    been built with that axis name for batch statistics (see :func:`build_gan`)."""
    return dataclasses.replace(self, axis_name=axis_name)


# The continuous hyperparameters a population member may hold (``GAN.member``), and their
# values for a GAN trained alone (from its static options). The EMA is held as its rate
# 1 − d, computed in double precision as the single-GAN update does.
MEMBER_HPARAMS = {
  "penalty_weight": lambda o: o.penalty_weight,
  "clip": lambda o: o.clip,
  "ema_rate": lambda o: None if o.ema_decay is None else 1.0 - o.ema_decay,
  "instance_noise": lambda o: o.instance_noise,
  "consensus": lambda o: o.consensus,
}


def _hp(gan: GAN, name: str):
  """Hyperparameter ``name`` of this update: the member's own when in a population."""
  if gan.member is not None and name in gan.member:
    return gan.member[name]
  return MEMBER_HPARAMS[name](gan.options)


def _loss(gan: GAN) -> LossSpec:
  """The loss, with a population member's own loss hyperparameters (``member["loss"]``)."""
  if gan.member is not None and gan.member.get("loss"):
    return gan.loss.with_params(**gan.member["loss"])
  return gan.loss


def _split_variables(variables: PyTree) -> tuple[PyTree, PyTree]:
  variables = dict(variables)
  params = variables.pop("params")
  return params, variables


def _labels_kw(labels) -> dict:
  """The ``labels`` keyword of a conditional G's or D's apply; none for an unconditional one."""
  return {} if labels is None else {"labels": labels}


# Folded into a latent key to draw generated classes: a stream of its own, so that an
# unconditional GAN's draws are what they were before conditional GANs existed.
LABEL_STREAM = 0x6C61


def sample_labels(key: jax.Array, num: int, num_classes: int, offset: jax.Array | int = 0):
  """y_i for examples offset … offset+num−1, each uniform on {0, …, K−1} from
  fold_in(fold_in(key, LABEL_STREAM), i): a shard of a batch draws what one device draws."""
  keys = example_keys(jax.random.fold_in(key, LABEL_STREAM), num, offset)
  return jax.vmap(lambda k: jax.random.randint(k, (), 0, num_classes))(keys)


def sample_latents(
  key: jax.Array, num: int, z_dim: int, offset: jax.Array | int = 0, prior: str = "normal"
) -> jax.Array:
  """z_i for examples offset … offset+num−1, each from fold_in(key, i); ``prior`` is
  ``normal`` (N(0, I)) or ``uniform`` (U(−1, 1))."""
  if prior == "normal":
    draw = lambda k: jax.random.normal(k, (z_dim,))
  elif prior == "uniform":
    draw = lambda k: jax.random.uniform(k, (z_dim,), minval=-1.0, maxval=1.0)
  else:
    raise ValueError(f"unknown latent prior {prior!r}; choices: normal, uniform")
  return jax.vmap(draw)(example_keys(key, num, offset))


# ---------------------------------------------------------------------------------------------
# Pieces of a step: forward passes, objectives, optimizer applications.


def _pmean(gan: GAN, tree):
  return tree if gan.axis_name is None else jax.lax.pmean(tree, gan.axis_name)


def _shard_offset(gan: GAN, batch: int):
  """Global index of this shard's first example."""
  return 0 if gan.axis_name is None else jax.lax.axis_index(gan.axis_name) * batch


def _apply_g(gan: GAN, params, state, z, rng, labels=None):
  return gan.generator.apply(
    {"params": params, **state}, z, train=True, rngs={"dropout": rng}, mutable=list(state),
    **_labels_kw(labels),
  )  # fmt: skip


def _apply_d(gan: GAN, params, state, images, rng, labels=None):
  """D's output and new state: (logits, class logits) for AC-GAN (see :func:`_logits`)."""
  if gan.options.instance_noise:
    images = images + _hp(gan, "instance_noise") * jax.random.normal(
      jax.random.fold_in(rng, 1), images.shape, images.dtype
    )
  return gan.discriminator.apply(
    {"params": params, **state}, images, train=True, rngs={"dropout": rng}, mutable=list(state),
    **_labels_kw(labels),
  )  # fmt: skip


def _logits(out) -> tuple[jax.Array, jax.Array | None]:
  """(real/fake logits, class logits or None) of D's output."""
  return out if isinstance(out, tuple) else (out, None)


def _class_loss(class_logits: jax.Array, labels: jax.Array) -> jax.Array:
  """AC-GAN's auxiliary loss: the mean cross-entropy −log softmax(C(x))_y."""
  return optax.softmax_cross_entropy_with_integer_labels(class_logits, labels).mean()


def _packed(labels, m: int):
  return None if labels is None else packing.pack_labels(labels, m)


def _draw_per_example(gan: GAN, key, batch: int, offset):
  """z, penalty keys and generated classes (None: unconditional) of the examples offset …,
  the same on every shard."""
  k_z, k_pen = jax.random.split(key)
  z, pen_keys = gan.latents(k_z, batch, offset), example_keys(k_pen, batch, offset)
  return z, pen_keys, gan.fake_labels(k_z, batch, offset)


def d_objective(gan: GAN, d_params, d_state, images, fake, loss_state, keys, labels=(None, None)):
  """D's loss (with the penalty) on real ``images`` and generated ``fake`` (of classes
  ``labels`` = (real's, fake's) when conditional): ``loss.d + weight · penalty``, plus
  ``class_weight · L_C`` for AC-GAN. Returns (loss, (d_state, real_logits, fake_logits,
  penalty, L_C))."""
  k_r, k_f, k_p, pen_keys = keys
  m = gan.options.pack  # D sees packs; a penalty interpolates and differentiates whole packs
  images, fake, pen_keys = packing.pack(images, m), packing.pack(fake, m), pen_keys[::m]
  real_y, fake_y = _packed(labels[0], m), _packed(labels[1], m)
  real_out, new_d_state = _apply_d(gan, d_params, d_state, images, k_r, real_y)
  fake_out, new_d_state = _apply_d(gan, d_params, new_d_state, fake, k_f, fake_y)
  (real_logits, real_classes), (fake_logits, fake_classes) = _logits(real_out), _logits(fake_out)
  loss = _loss(gan)(real_logits, fake_logits, loss_state).d
  classes = jnp.zeros(())
  if real_classes is not None:
    classes = _class_loss(real_classes, real_y) + _class_loss(fake_classes, fake_y)
    loss = loss + gan.options.class_weight * classes
  penalty = jnp.zeros(())
  if gan.options.penalty is not None:
    y = fake_y if gan.options.penalty in ON_GENERATED else real_y
    critic = lambda x: _logits(_apply_d(gan, d_params, new_d_state, x, k_p, y)[0])[0]
    penalty = PENALTIES.get(gan.options.penalty)(critic, images, fake, pen_keys)
    loss = loss + _hp(gan, "penalty_weight") * penalty
  return loss, (new_d_state, real_logits, fake_logits, penalty, classes)


def g_objective(
  gan: GAN, g_params, g_state, d_params, d_state, z, real, loss_state, key, labels=(None, None)
):
  """G's loss ``loss.g`` against D (whose batch-statistics updates are discarded), plus
  ``class_weight · CE(C(G(z, y')), y')`` for AC-GAN; ``labels`` = (real's, fake's) when
  conditional. Returns (loss, (g_state, new loss state, metrics))."""
  k_g, k_df, k_dr = jax.random.split(key, 3)
  fake, new_g_state = _apply_g(gan, g_params, g_state, z, k_g, labels[1])
  m = gan.options.pack
  real_y, fake_y = _packed(labels[0], m), _packed(labels[1], m)
  fake_out, _ = _apply_d(gan, d_params, d_state, packing.pack(fake, m), k_df, fake_y)
  real_out, _ = _apply_d(
    gan, d_params, d_state, packing.pack(real, m), k_dr, real_y
  )  # dropped unless used
  (real_logits, _), (fake_logits, fake_classes) = _logits(real_out), _logits(fake_out)
  out: Losses = _loss(gan)(real_logits, fake_logits, loss_state)
  loss, metrics = out.g, out.metrics or {}
  if fake_classes is not None:
    classes = _class_loss(fake_classes, fake_y)
    loss, metrics = loss + gan.options.class_weight * classes, {**metrics, "g_class": classes}
  return loss, (new_g_state, out.state, metrics)


def unrolled_d_params(
  gan: GAN, g_params, g_state, opponent: GANState, real, loss_state, key, real_labels=None
):
  """D's parameters after ``gan.options.unroll`` optimizer steps from ``opponent``'s, each on
  ``real`` (of classes ``real_labels`` when conditional) and fresh latents from ``key``, as a
  differentiable function of ``g_params`` (no stop_gradient on G's samples: Metz et al.'s
  surrogate loss differentiates through them). Batch statistics and the loss's state stay as
  they are."""
  batch = real.shape[0]
  offset = _shard_offset(gan, batch)
  d_params, d_opt_state = opponent.d_params, opponent.d_opt_state
  for i in range(gan.options.unroll):
    k_z, k_g, k_r, k_f, k_p = jax.random.split(jax.random.fold_in(key, i + 1), 5)
    z, pen_keys, fake_y = _draw_per_example(gan, k_z, batch, offset)
    fake, _ = _apply_g(gan, g_params, g_state, z, k_g, fake_y)
    d_keys = (k_r, k_f, k_p, pen_keys)
    grads, _ = jax.grad(d_objective, argnums=1, has_aux=True)(
      gan, d_params, opponent.d_state, real, fake, loss_state, d_keys, (real_labels, fake_y)
    )
    grads = _pmean(gan, grads)
    unrolled = _apply_d_grads(
      gan, opponent.replace(d_params=d_params, d_opt_state=d_opt_state), grads
    )
    d_params, d_opt_state = unrolled.d_params, unrolled.d_opt_state
  return d_params


def _unrolled_g_objective(
  gan, g_params, g_state, d_params, d_state, z, real, loss_state, dropout, labels=(None, None),
  *, opponent, key,
):  # fmt: skip
  """:func:`g_objective` against :func:`unrolled_d_params` (``d_params`` is its start)."""
  unrolled = unrolled_d_params(gan, g_params, g_state, opponent.replace(d_params=d_params), real, loss_state, key, labels[0])  # fmt: skip
  return g_objective(
    gan, g_params, g_state, unrolled, d_state, z, real, loss_state, dropout, labels
  )


def _d_metrics(gan: GAN, loss, real_logits, fake_logits, penalty, classes) -> Metrics:
  metrics = {
    "d_loss": loss,
    "d_real": jax.nn.sigmoid(real_logits).mean(),
    "d_fake": jax.nn.sigmoid(fake_logits).mean(),
  }
  if gan.options.penalty is not None:
    metrics["penalty"] = penalty
  if gan.options.conditional == "acgan":
    metrics["d_class"] = classes
  return metrics


def _apply_d_grads(gan: GAN, state: GANState, grads) -> GANState:
  """D's optimizer step, then weight clipping when asked."""
  updates, d_opt_state = gan.d_tx.update(grads, state.d_opt_state, state.d_params)
  d_params = optax.apply_updates(state.d_params, updates)
  if gan.options.clip is not None:
    clip = _hp(gan, "clip")
    d_params = jax.tree.map(lambda p: jnp.clip(p, -clip, clip), d_params)
  return state.replace(d_params=d_params, d_opt_state=d_opt_state)


def _apply_g_grads(gan: GAN, state: GANState, grads) -> GANState:
  """G's optimizer step, then its moving average when kept."""
  updates, g_opt_state = gan.g_tx.update(grads, state.g_opt_state, state.g_params)
  g_params = optax.apply_updates(state.g_params, updates)
  g_ema = state.g_ema
  if gan.options.ema_decay is not None:
    g_ema = optax.incremental_update(g_params, state.g_ema, _hp(gan, "ema_rate"))
  return state.replace(g_params=g_params, g_opt_state=g_opt_state, g_ema=g_ema)


# ---------------------------------------------------------------------------------------------
# The steps and the update.


def d_step(gan: GAN, state: GANState, images: jax.Array, keys: StepKeys, labels=None):
  """One D step: minimize ``loss.d(D(x), D(G(z))) + weight · penalty`` over D on the real
  batch ``images`` (of classes ``labels`` when conditional) with G fixed (in training mode:
  its batch statistics advance), then clip D's weights if asked. Returns the new state and
  D's metrics (this shard's, not averaged)."""
  offset = _shard_offset(gan, images.shape[0])
  k_g, k_r, k_f, k_p = jax.random.split(keys.dropout, 4)
  z, pen_keys, fake_y = _draw_per_example(gan, keys.latents, images.shape[0], offset)
  fake, g_state = _apply_g(gan, state.g_params, state.g_state, z, k_g, fake_y)
  (loss, (d_state, real_logits, fake_logits, penalty, classes)), grads = jax.value_and_grad(
    d_objective, argnums=1, has_aux=True
  )(
    gan,
    state.d_params,
    state.d_state,
    images,
    jax.lax.stop_gradient(fake),
    state.loss_state,
    (k_r, k_f, k_p, pen_keys),
    (labels, fake_y),
  )
  grads, d_state = _pmean(gan, (grads, d_state))
  state = _apply_d_grads(gan, state.replace(d_state=d_state, g_state=g_state), grads)
  return state, _d_metrics(gan, loss, real_logits, fake_logits, penalty, classes)


def g_step(
  gan: GAN,
  state: GANState,
  images: jax.Array,
  keys: StepKeys,
  opponent: GANState | None = None,
  labels=None,
):
  """One G step: minimize ``loss.g(D(x), D(G(z)))`` over G with fresh latents (and classes,
  when conditional; ``labels`` are the real batch's), against the D of ``opponent``
  (default: ``state``'s own D; the update passes the D from before its D step for
  simultaneous descent). A stateful loss advances its state here. Returns the new state and
  G's metrics (this shard's)."""
  opponent = state if opponent is None else opponent
  batch = images.shape[0]
  offset = _shard_offset(gan, batch)
  z, fake_y = gan.latents(keys.latents, batch, offset), gan.fake_labels(keys.latents, batch, offset)
  objective = g_objective
  if gan.options.unroll:
    objective = functools.partial(_unrolled_g_objective, opponent=opponent, key=keys.latents)
  (loss, (g_state, loss_state, loss_metrics)), grads = jax.value_and_grad(
    objective, argnums=1, has_aux=True
  )(
    gan,
    state.g_params,
    state.g_state,
    opponent.d_params,
    opponent.d_state,
    z,
    images,
    state.loss_state,
    keys.dropout,
    (labels, fake_y),
  )
  grads = _pmean(gan, grads)
  g_state, loss_state = _pmean(gan, (g_state, loss_state))
  state = _apply_g_grads(gan, state.replace(g_state=g_state, loss_state=loss_state), grads)
  return state, {"g_loss": loss, **loss_metrics}


def consensus_step(gan: GAN, state: GANState, images: jax.Array, keys: UpdateKeys, labels=None):
  """Consensus optimization (Mescheder et al. 2017, arXiv:1705.10461, Algorithm 1): both
  players at once, each descending its gradient plus γ ∇(½‖v‖²) = γ Jᵀv (one VJP), with
  v = (∇_θ L_G, ∇_φ L_D) the field of the global batch. Returns the new state and metrics
  (this shard's), with ``consensus`` = ½‖v‖²."""
  batch = images.shape[0]
  offset = _shard_offset(gan, batch)
  k_g, k_r, k_f, k_p = jax.random.split(keys.d.dropout, 4)
  z_d, pen_keys, y_d = _draw_per_example(gan, keys.d.latents, batch, offset)
  z_g, y_g = (
    gan.latents(keys.g.latents, batch, offset),
    gan.fake_labels(keys.g.latents, batch, offset),
  )

  def field(g_params, d_params):
    fake, g_state = _apply_g(gan, g_params, state.g_state, z_d, k_g, y_d)
    d_keys = (k_r, k_f, k_p, pen_keys)
    (d_loss, d_aux), v_d = jax.value_and_grad(d_objective, argnums=1, has_aux=True)(
      gan, d_params, state.d_state, images, fake, state.loss_state, d_keys, (labels, y_d)
    )
    (g_loss, g_aux), v_g = jax.value_and_grad(g_objective, argnums=1, has_aux=True)(
      gan, g_params, g_state, d_params, state.d_state, z_g, images, state.loss_state,
      keys.g.dropout, (labels, y_g),
    )  # fmt: skip
    return (v_g, v_d), (d_loss, d_aux, g_loss, g_aux)

  (v_g, v_d), vjp, aux = jax.vjp(field, state.g_params, state.d_params, has_aux=True)
  v = _pmean(gan, (v_g, v_d))  # the field of the global batch; Jᵀv is then averaged likewise
  jtv = _pmean(gan, vjp(v))
  reg = 0.5 * sum(jnp.sum(x**2) for x in jax.tree.leaves(v))
  consensus = _hp(gan, "consensus")
  g_grads, d_grads = jax.tree.map(lambda a, b: a + consensus * b, v, jtv)
  d_loss, (d_state, real_logits, fake_logits, penalty, classes), g_loss, g_aux = aux
  g_state, loss_state, loss_metrics = g_aux
  new = _apply_d_grads(gan, state.replace(d_state=_pmean(gan, d_state)), d_grads)
  g_state, loss_state = _pmean(gan, (g_state, loss_state))
  new = _apply_g_grads(gan, new.replace(g_state=g_state, loss_state=loss_state), g_grads)
  metrics = {
    **_d_metrics(gan, d_loss, real_logits, fake_logits, penalty, classes),
    "g_loss": g_loss,
    **loss_metrics,
    "consensus": reg,
  }
  return new, metrics


def update_keys(gan: GAN, key: jax.Array) -> UpdateKeys:
  """Splits an update's key: latents shared by all shards, dropout keys per shard."""
  k_zd, k_zg, k_drop = jax.random.split(key, 3)
  if gan.axis_name is not None:  # independent dropout masks and instance noise on each shard
    k_drop = jax.random.fold_in(k_drop, jax.lax.axis_index(gan.axis_name))
  k_dd, k_dg = jax.random.split(k_drop)
  return UpdateKeys(d=StepKeys(k_zd, k_dd), g=StepKeys(k_zg, k_dg))


def d_steps(gan: GAN, state: GANState, images: jax.Array, keys: StepKeys, labels=None):
  """``n_disc`` D steps, each on its own batch ``images[i]`` (``labels[i]``) and keys split
  from ``keys``. A scan traced as straight-line code (:func:`jaxgan.backend.platform.scan_unrolled`
  says why)."""
  n = gan.options.n_disc
  if n == 1:
    return d_step(gan, state, images, keys, labels)
  latents, dropouts = jax.random.split(keys.latents, n), jax.random.split(keys.dropout, n)

  def one(state, xs):
    batch, batch_labels, k_latents, k_dropout = xs
    return d_step(gan, state, batch, StepKeys(k_latents, k_dropout), batch_labels)

  return platform.scan_unrolled(one, state, (images, labels, latents, dropouts))


def update(gan: GAN, state: GANState, images: jax.Array, key: jax.Array, labels=None):
  """``update(gan, state, images, key, labels) -> (state, metrics)``: one training update.

    for n_disc steps: D descends ∇_φ L_D on its own real batch and fresh z   (d_step)
    G descends ∇_θ L_G with fresh z, against the new D (or the old: simultaneous)   (g_step)

  or, with consensus optimization, both at once (consensus_step). ``images`` are floats in
  [-1, 1], of shape (n_disc, batch, ...) when n_disc > 1; with ``axis_name`` they are this
  device's shard of the global batch. ``labels``: the images' int32 classes, of their leading
  shape, for a class-conditional GAN (required there; None otherwise). Metrics are averaged over the global batch, D's from
  its last step: ``d_loss`` (with the penalty), ``g_loss``, ``d_real`` = mean D(x) and
  ``d_fake`` = mean D(G(z)) as sigmoid probabilities, ``penalty`` (unweighted) when one is
  used, ``consensus`` (½‖v‖²) with consensus optimization, AC-GAN's class cross-entropies
  ``d_class`` (L_C of D's step) and ``g_class`` (G's), and what the loss reports (BEGAN:
  ``began_k``, ``began_M``).
  """
  _check_inputs(gan, state, images, labels)
  keys = update_keys(gan, key)
  if gan.options.consensus:
    new, metrics = consensus_step(gan, state, images, keys, labels)
  else:
    new, d_metrics = d_steps(gan, state, images, keys.d, labels)
    opponent = state.replace(g_state=new.g_state) if gan.options.simultaneous else new
    last = (lambda a: a[-1]) if gan.options.n_disc > 1 else (lambda a: a)
    last_labels = None if labels is None else last(labels)
    new, g_metrics = g_step(gan, new, last(images), keys.g, opponent, last_labels)
    metrics = {**d_metrics, **g_metrics}
  return new.replace(step=state.step + 1), _pmean(gan, metrics)


def _check_inputs(gan: GAN, state: GANState, images: jax.Array, labels) -> None:
  if bool(gan.num_classes) != (labels is not None):
    raise ValueError(
      "a class-conditional GAN's update needs the images' labels"
      if gan.num_classes
      else "an unconditional GAN takes no labels"
    )
  if labels is not None and labels.shape != images.shape[: labels.ndim]:
    raise ValueError(f"labels of shape {labels.shape} for images of shape {images.shape}")
  n = gan.options.n_disc
  if n > 1 and (images.ndim < 2 or images.shape[0] != n):
    raise ValueError(f"with n_disc={n}, images need a leading axis of that size")
  batch = images.shape[1] if n > 1 else images.shape[0]
  if batch % gan.options.pack:
    raise ValueError(f"pack={gan.options.pack} must divide the (per-device) batch of {batch}")
  if gan.loss.stateful and state.loss_state is None:
    raise ValueError("this loss keeps state (BEGAN's k): make the state with GAN.init")
