"""Small GAN setups shared by the tests."""

import jax
import jax.numpy as jnp

from jaxgan.backend import xla_options
from jaxgan.core import losses, optimizers
from jaxgan.core.gan import GAN, UpdateOptions
from jaxgan.nets import models

SHAPE = (28, 28, 1)
Z_DIM = 16


def small_mlp(dropout: float = 0.0):
  """The MLP architecture, narrowed for speed; dropout 0 makes D deterministic."""
  return (
    models.MLPGenerator(SHAPE, Z_DIM, hidden=(32, 64)),
    models.MLPDiscriminator(SHAPE, hidden=(64, 32), dropout=dropout),
  )


def small_dcgan(axis_name=None):
  return (
    models.DCGANGenerator(SHAPE, Z_DIM, width=8, axis_name=axis_name),
    models.DCGANDiscriminator(SHAPE, width=8, norm="batch", axis_name=axis_name),
  )


def small_gan(
  nets,
  tx=None,
  loss="ns",
  options=UpdateOptions(),
  axis_name=None,
  d_tx=None,
  shape=SHAPE,
  z_dim=Z_DIM,
):
  """A GAN of the given (G, D) pair; ``tx`` for both players unless ``d_tx`` is given."""
  g, d = nets
  tx = tx or optimizers.adam(1e-3)
  return GAN(
    g,
    d,
    losses.LOSSES.get(loss),
    tx,
    d_tx or tx,
    image_shape=shape,
    z_dim=z_dim,
    options=options,
    axis_name=axis_name,
  )


def setup(nets, tx=None, loss="ns", axis_name=None, seed=0):
  """(initial state, the GAN's update) of a small GAN."""
  gan = small_gan(nets, tx, loss, axis_name=axis_name)
  return xla_options.jit_init(gan.init)(jax.random.key(seed)), gan.update


def run_module(module: str, args, env, check=True, **kw):
  """``python -m module *args`` in the repository; with ``check``, a non-zero exit fails the
  test with the end of its stderr."""
  import subprocess
  import sys

  from conftest import REPO

  proc = subprocess.run(
    [sys.executable, "-m", module, *args],
    cwd=REPO,
    env=env,
    capture_output=True,
    text=True,
    timeout=600,
    **kw,
  )
  if check and proc.returncode != 0:
    raise AssertionError(f"exit {proc.returncode}\n{proc.stderr[-3000:]}")
  return proc


def fake_data(n=256, seed=1):
  """uint8 images: a bright square on a dark field at random places (a learnable signal)."""
  key = jax.random.key(seed)
  pos = jax.random.randint(key, (n, 2), 0, 20)
  ii = jnp.arange(28)
  rows = (ii[None, :] >= pos[:, :1]) & (ii[None, :] < pos[:, :1] + 8)
  cols = (ii[None, :] >= pos[:, 1:]) & (ii[None, :] < pos[:, 1:] + 8)
  return (rows[:, :, None] & cols[:, None, :]).astype(jnp.uint8)[..., None] * 255


def assert_trees_close(a, b, rtol=1e-5, atol=1e-6):
  import numpy as np

  la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
  assert len(la) == len(lb)
  for x, y in zip(la, lb):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)


def run_as_processes(module: str, args, env, num: int = 2) -> list[tuple[int, str, str]]:
  """``python -m module *args`` as ``num`` processes of one jax.distributed runtime on this
  machine (coordinator on a free port of 127.0.0.1, gloo between them); each process's
  (exit code, stdout, stderr)."""
  import socket
  import subprocess
  import sys

  from conftest import REPO

  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
  runtime = [f"--coordinator=127.0.0.1:{port}", f"--num_processes={num}"]
  procs = [
    subprocess.Popen(
      [sys.executable, "-m", module, *args, *runtime, f"--process_id={i}"],
      cwd=REPO,
      env=env,
      text=True,
      stdout=subprocess.PIPE,
      stderr=subprocess.PIPE,
    )
    for i in range(num)
  ]
  outs = [p.communicate(timeout=600) for p in procs]
  return [(p.returncode, out, err) for p, (out, err) in zip(procs, outs)]
