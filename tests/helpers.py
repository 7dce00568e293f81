"""Small GAN setups shared by the tests."""
import jax
import jax.numpy as jnp

from jaxgan import losses, models, train

SHAPE = (28, 28, 1)
Z_DIM = 16


def small_mlp(dropout: float = 0.0):
  """The MLP architecture, narrowed for speed; dropout 0 makes D deterministic."""
  return (models.MLPGenerator(SHAPE, Z_DIM, hidden=(32, 64)),
          models.MLPDiscriminator(SHAPE, hidden=(64, 32), dropout=dropout))


def small_dcgan(axis_name=None):
  return (models.DCGANGenerator(SHAPE, Z_DIM, width=8, axis_name=axis_name),
          models.DCGANDiscriminator(SHAPE, width=8, norm="batch", axis_name=axis_name))


def setup(nets, tx=None, loss="ns", axis_name=None, seed=0):
  g, d = nets
  tx = tx or train.adam(1e-3)
  state = train.jit_init(lambda k: train.init_state(k, g, d, tx, tx, SHAPE, Z_DIM))(
      jax.random.key(seed))
  update = train.make_update(g, d, losses.LOSSES.get(loss), tx, tx, Z_DIM, axis_name=axis_name)
  return state, update


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
