"""Generator and discriminator architectures (Flax linen), registered by name.

Both networks are used through pure ``init``/``apply``. Conventions:

* ``G(z, train) -> images`` in [-1, 1] with shape ``(batch, *image_shape)`` (NHWC).
* ``D(x, train) -> logits`` of shape ``(batch,)``: the sigmoid lives in the loss.
* Batch statistics live in the ``batch_stats`` collection; ``axis_name`` makes BatchNorm
  average them across devices, so a pmapped update over shards of a batch normalizes with
  the statistics of the whole batch, exactly as one device would.
* Dropout draws from the ``dropout`` RNG stream when ``train`` is true.

``ARCHS.get(name)(image_shape, z_dim, axis_name)`` returns ``(generator, discriminator)``.
"""
from __future__ import annotations

import math
from typing import Callable, Optional, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.registry import Registry

Arch = Callable[..., tuple[nn.Module, nn.Module]]
ARCHS: Registry[Arch] = Registry("architecture")


def torch_linear(features: int, fan_in: int) -> nn.Dense:
  """A Dense layer initialized as PyTorch's ``nn.Linear``: W, b ~ U(−1/√fan_in, 1/√fan_in)."""
  bound = 1.0 / math.sqrt(fan_in)

  def bias_init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -bound, bound)

  # variance_scaling(1/3, fan_in, uniform) is U(−√(3·(1/3)/fan_in), +...) = U(−1/√fan_in, ...).
  return nn.Dense(features,
                  kernel_init=nn.initializers.variance_scaling(1 / 3, "fan_in", "uniform"),
                  bias_init=bias_init)


class MLPGenerator(nn.Module):
  """The classic PyTorch MNIST GAN generator: z → 256 → 512 → 1024 → prod(image_shape)."""
  image_shape: Sequence[int]
  z_dim: int = 100
  hidden: Sequence[int] = (256, 512, 1024)

  @nn.compact
  def __call__(self, z, train: bool = True):
    del train  # no dropout or normalization
    h, fan_in = z, self.z_dim
    for width in self.hidden:
      h = nn.relu(torch_linear(width, fan_in)(h))
      fan_in = width
    out = torch_linear(math.prod(self.image_shape), fan_in)(h)
    return jnp.tanh(out).reshape((z.shape[0], *self.image_shape))


class MLPDiscriminator(nn.Module):
  """The classic PyTorch MNIST GAN discriminator: prod(image_shape) → 1024 → 512 → 256 → 1,
  LeakyReLU(0.2) and Dropout(0.3) after each hidden layer; returns logits."""
  image_shape: Sequence[int]
  hidden: Sequence[int] = (1024, 512, 256)
  dropout: float = 0.3

  @nn.compact
  def __call__(self, x, train: bool = True):
    h = x.reshape((x.shape[0], -1))
    fan_in = h.shape[-1]
    for width in self.hidden:
      h = nn.leaky_relu(torch_linear(width, fan_in)(h), 0.2)
      h = nn.Dropout(self.dropout, deterministic=not train)(h)
      fan_in = width
    return torch_linear(1, fan_in)(h)[:, 0]


def _batch_norm(train: bool, axis_name: Optional[str]) -> nn.BatchNorm:
  # PyTorch's defaults (momentum 0.1 for the new value, eps 1e-5) in Flax's convention.
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                      axis_name=axis_name)


class DCGANGenerator(nn.Module):
  """DCGAN generator (Radford et al. 2016, arXiv:1511.06434) for H×W images, H, W divisible by 4:
  dense to (H/4)×(W/4)×4w, BN, ReLU; two 4×4 stride-2 transposed convolutions (2w, then the
  image channels) with BN and ReLU between; tanh output."""
  image_shape: Sequence[int]
  z_dim: int = 100
  width: int = 32
  axis_name: Optional[str] = None

  @nn.compact
  def __call__(self, z, train: bool = True):
    h, w, c = self.image_shape
    if h % 4 or w % 4:
      raise ValueError(f"dcgan needs image sides divisible by 4, got {self.image_shape}")
    x = nn.Dense((h // 4) * (w // 4) * 4 * self.width, use_bias=False)(z)
    x = nn.relu(_batch_norm(train, self.axis_name)(x))
    x = x.reshape((z.shape[0], h // 4, w // 4, 4 * self.width))
    x = nn.ConvTranspose(2 * self.width, (4, 4), strides=(2, 2), padding="SAME",
                         use_bias=False)(x)
    x = nn.relu(_batch_norm(train, self.axis_name)(x))
    x = nn.ConvTranspose(c, (4, 4), strides=(2, 2), padding="SAME")(x)
    return jnp.tanh(x)


class DCGANDiscriminator(nn.Module):
  """DCGAN discriminator: 4×4 stride-2 convolutions (w, 2w) with LeakyReLU(0.2), optional
  BatchNorm on the second, then a linear layer to one logit."""
  image_shape: Sequence[int]
  width: int = 64
  batch_norm: bool = False
  axis_name: Optional[str] = None

  @nn.compact
  def __call__(self, x, train: bool = True):
    x = nn.leaky_relu(nn.Conv(self.width, (4, 4), strides=(2, 2), padding="SAME")(x), 0.2)
    x = nn.Conv(2 * self.width, (4, 4), strides=(2, 2), padding="SAME",
                use_bias=not self.batch_norm)(x)
    if self.batch_norm:
      x = _batch_norm(train, self.axis_name)(x)
    x = nn.leaky_relu(x, 0.2)
    return nn.Dense(1)(x.reshape((x.shape[0], -1)))[:, 0]


@ARCHS.register("mlp")
def mlp(image_shape, z_dim=100, axis_name=None):
  del axis_name  # no batch statistics to share
  return MLPGenerator(tuple(image_shape), z_dim), MLPDiscriminator(tuple(image_shape))


@ARCHS.register("dcgan")
def dcgan(image_shape, z_dim=100, axis_name=None):
  return (DCGANGenerator(tuple(image_shape), z_dim, axis_name=axis_name),
          DCGANDiscriminator(tuple(image_shape), axis_name=axis_name))
