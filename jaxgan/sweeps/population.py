"""Populations: many GANs that share everything static, trained by one compiled program.

Members of a sweep whose configurations agree on every field that changes the compiled
program (:func:`group_key`: architecture, loss, penalty kind, D steps, D normalization, batch
size, dtype, which controls are on, and the run's length) form a group. A group's members are
stacked along a leading axis and trained by ``jax.vmap`` of the one update; what differs
between them is data:

* learning rates and Adam's betas, in each member's optimizer states
  (``optax.inject_hyperparams``);
* the penalty weight, clip value, EMA decay, instance noise, consensus γ and the loss's own
  parameters (BEGAN's γ and λ_k), in :attr:`Members.hparams`, which the update reads through
  ``GAN.for_member``;
* the seed: each member's initialization, batches and noise come from the keys its seed gives
  a run alone (:func:`member_keys`), so member i ends where the same configuration trained
  alone by ``experiments.mnist`` ends (tests/test_population.py).

:func:`shard` spreads a population over the local devices along the member axis.

A member whose metrics become non-finite is frozen: its state stops changing, ``alive`` turns
false and ``diverged_step`` records the step; the others carry on unaffected.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxgan import config as config_lib
from jaxgan.backend import platform, xla_options
from jaxgan.config import Config
from jaxgan.core import build, optimizers
from jaxgan.core.gan import GAN, MEMBER_HPARAMS, GANState
from jaxgan.run import train_steps
from jaxgan.run.keys import run_keys

# Fields that may differ within a group: they are data of the compiled program.
MEMBER_FIELDS = config_lib.fields_where(role=config_lib.MEMBER)
# Fields that change how a run is driven and written, not what one step computes.
RUN_FIELDS = config_lib.fields_where(role=config_lib.DRIVER)
# Member fields whose being on changes the program: members share whether each is on.
SWITCHES = config_lib.fields_where(role=config_lib.MEMBER, switch=True)


def group_key(cfg: Config) -> tuple:
  """What members must share to train in one compiled program: every field that is neither
  a member's own value nor a run setting, plus which switches are on."""
  values = dataclasses.asdict(cfg)
  static = tuple((k, v) for k, v in values.items() if k not in MEMBER_FIELDS + RUN_FIELDS)
  return static + tuple((f"{k}_on", bool(values[k])) for k in SWITCHES)


def group_config(cfgs: list[Config]) -> Config:
  """The configuration a group's GAN is built from: its first member's, clipping gradients
  when any member does (members that do not clip get an infinite norm: the identity)."""
  return dataclasses.replace(cfgs[0], grad_clip=max(c.grad_clip for c in cfgs))


def group(members: list[Config]) -> dict[tuple, list[int]]:
  """Member indices by group, groups and members in the order first seen."""
  groups: dict[tuple, list[int]] = {}
  for i, cfg in enumerate(members):
    groups.setdefault(group_key(cfg), []).append(i)
  return groups


@flax.struct.dataclass
class Members:
  """A stacked population: each field has a leading member axis."""

  state: GANState
  hparams: Any  # {name: value} of GAN.member, one value per member
  alive: jax.Array  # bool: not (yet) diverged
  diverged_step: jax.Array  # int32: the step whose metrics were first non-finite, or -1


def member_hparams(cfg: Config) -> dict:
  """A member's continuous hyperparameters as the update reads them (``GAN.member``): those
  of ``gan.MEMBER_HPARAMS`` (off as 0) and the loss's own parameters."""
  o = config_lib.update_options(cfg)
  hp = {k: np.float32(f(o) or 0.0) for k, f in MEMBER_HPARAMS.items()}
  loss = config_lib.params_of(cfg, "loss", cfg.loss)
  return hp | ({"loss": {k: np.float32(v) for k, v in loss.items()}} if loss else {})


def member_keys(cfg: Config) -> tuple[jax.Array, jax.Array]:
  """(init key, train key) of a member: those of a run alone with its seed (jaxgan.run.driver.Run)."""
  keys = run_keys(cfg.seed)
  return keys.init, keys.train


def make_init(gan: GAN):
  """``init(keys) -> stacked GANState``: ``gan.init`` mapped over the keys and compiled once
  (keep it for every chunk of a group: each new function would be traced and compiled again).

  One member after another (:func:`jaxgan.backend.platform.map_members` says why)."""
  return xla_options.jit_init(lambda keys: platform.map_members(gan.init, keys))


def init_members(gan: GAN, cfgs: list[Config], init=None) -> tuple[Members, jax.Array]:
  """The stacked initial population of ``cfgs`` (one group) and its stacked train keys.
  Initialization is ``init`` (default :func:`make_init` of ``gan``); each member then gets
  its own optimizer hyperparameters (Adam's state at step 0 does not depend on them)."""
  init_keys, train_keys = zip(*(member_keys(c) for c in cfgs))
  state = (init or make_init(gan))(jnp.stack(init_keys))
  opt_states = {}
  for player in build.PLAYERS:
    hps = [build.optimizer_hyperparams(c, player) for c in cfgs]
    columns = {k: np.array([hp[k] for hp in hps], np.float32) for k in hps[0]}
    opt_states[f"{player}_opt_state"] = optimizers.set_hyperparams(
      getattr(state, f"{player}_opt_state"), **columns
    )
  state = state.replace(**opt_states)
  hparams = jax.tree.map(lambda *v: jnp.stack(v), *(member_hparams(c) for c in cfgs))
  n = len(cfgs)
  members = Members(state, hparams, jnp.ones((n,), bool), jnp.full((n,), -1, jnp.int32))
  return members, jnp.stack(train_keys)


def make_population_step(gan: GAN, batch_size: int, size: int):
  """``step(members, data, keys) -> (members, metrics)``: one update of each of ``size``
  members (vmapped over members and their keys, the data shared), each with its own
  hyperparameters; a member whose metrics are not finite keeps its state and is marked
  diverged at that step. A population of one runs unbatched, as a run alone does: vmap turns
  matrix products into batched ones, whose summation order differs in the last bits."""
  member_step = _member_step(gan, batch_size)
  if size > 1:
    return jax.vmap(member_step, in_axes=(0, None, 0))

  def alone(m: Members, data, keys):
    new, metrics = member_step(jax.tree.map(lambda x: x[0], m), data, keys[0])
    return jax.tree.map(lambda x: x[None], (new, metrics))

  return alone


def make_population_run(gan: GAN, batch_size: int, size: int, **multi_step_options):
  """``run(members, data, keys, num_steps) -> (members, metrics[num_steps, size])``: the
  population step of :func:`make_population_step` scanned by ``train_steps.make_multi_step``
  (``multi_step_options`` are its). A population of one loses its member axis once per
  dispatch instead of once per step: inside the scan that cost a copy of the whole state every
  step, a few % of the MLP GAN's step on the CPU (BENCHMARKS.md, "The sweep runner"). The
  same bits either way (tested)."""
  if size > 1:
    return train_steps.make_multi_step(
      make_population_step(gan, batch_size, size), **multi_step_options
    )
  multi = train_steps.make_multi_step(_member_step(gan, batch_size), **multi_step_options)

  def run(members: Members, data, keys, num_steps: int):
    new, metrics = multi(jax.tree.map(lambda x: x[0], members), data, keys[0], num_steps)
    return jax.tree.map(lambda x: x[None], new), jax.tree.map(lambda m: m[:, None], metrics)

  return run


def _member_step(gan: GAN, batch_size: int):
  """One member's update (unbatched), frozen once its metrics are not finite."""

  def member_step(m: Members, data, key):
    step = train_steps.make_train_step(gan.for_member(m.hparams), batch_size)
    new, metrics = step(m.state, data, key)
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(v)) for v in jax.tree.leaves(metrics)]))
    keep = m.alive & finite
    state = jax.tree.map(lambda a, b: jnp.where(keep, a, b), new, m.state)
    newly = m.alive & ~finite
    diverged_step = jnp.where(newly, m.state.step + 1, m.diverged_step)
    return Members(state, m.hparams, keep, diverged_step), metrics

  return member_step


def shard(members: Members, keys: jax.Array, data, devices=None):
  """The population spread over ``devices`` (default: all of the runtime's, which in a
  multi-process runtime are several processes' devices) along the member axis with a
  ``NamedSharding``, and the data replicated on them; XLA partitions the vmapped step
  member-wise. Uses the largest number of devices that divides the population; with one,
  everything stays where it is."""
  devices = list(devices or jax.devices())
  n = math.gcd(len(keys), len(devices))
  if n == 1:
    return members, keys, data
  mesh = Mesh(np.array(devices[:n]), ("members",))
  by_member, replicated = (
    NamedSharding(mesh, PartitionSpec("members")),
    NamedSharding(mesh, PartitionSpec()),
  )
  # Placed from host copies (every process holds the same ones): a device array of one
  # process cannot be placed on another's devices.
  members, data = jax.device_get((members, data))
  key_data = jax.device_put(np.asarray(jax.random.key_data(keys)), by_member)
  return (
    jax.device_put(members, by_member),
    jax.random.wrap_key_data(key_data, impl=jax.random.key_impl(keys)),
    jax.device_put(data, replicated),
  )


def member(members: Members, i: int) -> Members:
  """Member ``i`` of a stacked population."""
  return jax.tree.map(lambda x: x[i], members)
