"""Generator and discriminator architectures (Flax linen), registered by name.

Both networks are used through pure ``init``/``apply``. Conventions:

* ``G(z, train) -> images`` in [-1, 1] with shape ``(batch, *image_shape)`` (NHWC).
* ``D(x, train) -> logits`` of shape ``(batch,)``: the sigmoid lives in the loss.
* Batch statistics live in the ``batch_stats`` collection; ``axis_name`` makes BatchNorm
  average them across devices, so a pmapped update over shards of a batch normalizes with
  the statistics of the whole batch, exactly as one device would.
* Dropout draws from the ``dropout`` RNG stream when ``train`` is true.

``ARCHS.get(name)`` is the architecture's :class:`ArchSpec` (its builder, latent size and
prior, D normalizations); ``build(name, image_shape, ...)`` returns ``(generator,
discriminator)`` and can turn D into BEGAN's autoencoder. CPU-specific forms of slow
convolutions live in :mod:`jaxgan.backend.conv_cpu`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.backend.conv_cpu import ConvTranspose
from jaxgan.nets import packing
from jaxgan.registry import Registry


def torch_linear(features: int, fan_in: int) -> nn.Dense:
  """A Dense layer initialized as PyTorch's ``nn.Linear``: W, b ~ U(−1/√fan_in, 1/√fan_in)."""
  bound = 1.0 / math.sqrt(fan_in)

  def bias_init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -bound, bound)

  # variance_scaling(1/3, fan_in, uniform) is U(−√(3·(1/3)/fan_in), +...) = U(−1/√fan_in, ...).
  return nn.Dense(
    features,
    kernel_init=nn.initializers.variance_scaling(1 / 3, "fan_in", "uniform"),
    bias_init=bias_init,
  )


class MLPGenerator(nn.Module):
  """The classic PyTorch MNIST GAN generator: z → 256 → 512 → 1024 → prod(image_shape),
  LeakyReLU(0.2) after each hidden layer (``leak``; 0 is a ReLU)."""

  image_shape: Sequence[int]
  z_dim: int = 100
  hidden: Sequence[int] = (256, 512, 1024)
  tanh_output: bool = True  # False: a linear output (2-D toy data)
  leak: float = 0.2

  @nn.compact
  def __call__(self, z, train: bool = True):
    del train  # no dropout or normalization
    h, fan_in = z, self.z_dim
    for width in self.hidden:
      h = torch_linear(width, fan_in)(h)
      h = nn.leaky_relu(h, self.leak) if self.leak else nn.relu(h)
      fan_in = width
    out = torch_linear(math.prod(self.image_shape), fan_in)(h)
    if self.tanh_output:
      out = jnp.tanh(out)
    return out.reshape((z.shape[0], *self.image_shape))


class MLPDiscriminator(nn.Module):
  """The classic PyTorch MNIST GAN discriminator: prod(image_shape) → 1024 → 512 → 256 → 1,
  LeakyReLU(0.2) and Dropout(0.3) after each hidden layer; returns logits."""

  image_shape: Sequence[int]
  hidden: Sequence[int] = (1024, 512, 256)
  dropout: float = 0.3
  features: int = 1  # >1: a code of that size (the encoder of an autoencoder D); 0: features

  @nn.compact
  def __call__(self, x, train: bool = True):
    h = x.reshape((x.shape[0], -1))
    fan_in = h.shape[-1]
    for width in self.hidden:
      h = nn.leaky_relu(torch_linear(width, fan_in)(h), 0.2)
      h = nn.Dropout(self.dropout, deterministic=not train)(h)
      fan_in = width
    if not self.features:  # the last hidden layer: the trunk of a conditional D's heads
      return h
    return _head(torch_linear(self.features, fan_in)(h))


def _head(out: jax.Array) -> jax.Array:
  """A discriminator's last layer output: (batch,) logits when it has one feature, else the
  (batch, features) code."""
  return out[:, 0] if out.shape[-1] == 1 else out


def _output(h: jax.Array, features: int, sn: str, train: bool) -> jax.Array:
  """A discriminator's last linear layer (normalized by ``sn``) to ``features`` outputs, or,
  with ``features`` = 0, its input ``h``: the features φ(x) on which a class-conditional D
  puts its own heads (:mod:`jaxgan.nets.conditional`). Called inside a compact
  ``__call__``: the layer is the caller's submodule."""
  if not features:
    return h
  return _head(NormedLayer(nn.Dense(features), sn)(h, train))


def _batch_norm(train: bool, axis_name: str | None) -> nn.BatchNorm:
  # PyTorch's defaults (momentum 0.1 for the new value, eps 1e-5) in Flax's convention.
  return nn.BatchNorm(
    use_running_average=not train, momentum=0.9, epsilon=1e-5, axis_name=axis_name
  )


class ConditionalBatchNorm(nn.Module):
  r"""Batch norm whose scale and shift are the class's own (conditional batch norm, de Vries
  et al. 2017, arXiv:1707.00683; Dumoulin et al. 2017, arXiv:1610.07629):

      CBN(x, y) = γ_y ⊙ (x − μ_B) / √(σ²_B + ε) + β_y,

  with γ, β rows of learned (classes × channels) tables, started at 1 and 0 (so at
  initialization it is plain batch norm). The generator of the projection cGAN (Miyato &
  Koyama 2018, arXiv:1802.05637) uses it in place of every batch norm."""

  num_classes: int
  axis_name: str | None = None

  @nn.compact
  def __call__(self, x, labels, train: bool):
    x = nn.BatchNorm(
      use_running_average=not train, momentum=0.9, epsilon=1e-5, axis_name=self.axis_name,
      use_scale=False, use_bias=False,
    )(x)  # fmt: skip
    c = x.shape[-1]
    gamma = nn.Embed(self.num_classes, c, embedding_init=nn.initializers.ones, name="scale")
    beta = nn.Embed(self.num_classes, c, embedding_init=nn.initializers.zeros, name="shift")
    shape = (x.shape[0],) + (1,) * (x.ndim - 2) + (c,)
    per_class = lambda table: table(labels).reshape(shape).astype(x.dtype)
    return x * per_class(gamma) + per_class(beta)


def _g_norm(x, labels, num_classes: int, train: bool, axis_name: str | None):
  """A generator's batch norm: plain, or class-conditional when ``num_classes`` > 0."""
  if not num_classes:
    return _batch_norm(train, axis_name)(x)
  if labels is None:
    raise ValueError("a class-conditional generator needs the labels of its samples")
  return ConditionalBatchNorm(num_classes, axis_name)(x, labels, train)


D_NORMS = ("none", "batch", "layer", "spectral")


class NormedLayer(nn.Module):
  """A Conv or Dense layer of a discriminator with the chosen normalization.

  ``spectral`` wraps the layer in ``nn.SpectralNorm`` (Miyato et al. 2018, arXiv:1802.05957),
  whose power-iteration vector u and estimate σ live in ``batch_stats`` and advance one
  iteration per training-mode call; ``batch`` and ``layer`` normalize the layer's output.
  """

  layer: nn.Module
  norm: str = "none"
  axis_name: str | None = None

  @nn.compact
  def __call__(self, x, train: bool):
    if self.norm == "spectral":
      return nn.SpectralNorm(self.layer, n_steps=1)(x, update_stats=train)
    x = self.layer(x)
    if self.norm == "batch":
      return _batch_norm(train, self.axis_name)(x)
    if self.norm == "layer":
      return nn.LayerNorm()(x)
    if self.norm != "none":
      raise ValueError(f"unknown norm {self.norm!r}; choices: {', '.join(D_NORMS)}")
    return x


class PaperMLP(nn.Module):
  """An MLP in the exact form of a paper's code, for G (``features`` = the data's size) or D
  (``features`` = 1, logits).

  activation: ``relu`` (batch-normalized hidden layers without bias when ``batch_norm``),
    ``tanh``, or ``maxout`` (each hidden unit the max over ``pieces`` linear pieces, as
    blocks' ``LinearMaxout`` and pylearn2's ``Maxout``).
  weights: ``normal`` N(0, scale²) weights (PacGAN's, scale 0.02), ``uniform`` U(−scale,
    scale) (pylearn2's ``irange``), or ``orthogonal`` with gain 1.4 (Metz et al.'s notebook,
    ``tf.orthogonal_initializer(gain=1.4)``); biases start at 0.
  dropout: (rate on the input, rate on each hidden layer's output), in training mode only.
  output: ``linear``, or ``tanh`` (a sigmoid unit on [0, 1] rescaled to [−1, 1]:
    2σ(a) − 1 = tanh(a/2)).
  """

  hidden: Sequence[int]
  features: int
  activation: str = "relu"
  pieces: int = 5
  batch_norm: bool = False
  weights: str = "normal"
  scale: float = 0.02
  dropout: tuple[float, float] = (0.0, 0.0)
  output: str = "linear"
  axis_name: str | None = None

  def _dense(self, features: int, use_bias: bool = True) -> nn.Dense:
    kernel = {
      "normal": lambda: nn.initializers.normal(self.scale),
      "uniform": lambda: _symmetric_uniform(self.scale),
      "orthogonal": lambda: nn.initializers.orthogonal(1.4),
    }[self.weights]()
    return nn.Dense(features, use_bias=use_bias, kernel_init=kernel)

  @nn.compact
  def __call__(self, x, train: bool = True):
    h = x.reshape((x.shape[0], -1))
    h = nn.Dropout(self.dropout[0], deterministic=not train)(h)
    for width in self.hidden:
      if self.activation == "maxout":
        h = self._dense(width * self.pieces)(h).reshape((-1, width, self.pieces)).max(-1)
      elif self.batch_norm:
        h = self._dense(width, use_bias=False)(h)
        # blocks' BatchNormalization: population statistics ← 0.95 · old + 0.05 · batch.
        h = nn.BatchNorm(not train, momentum=0.95, epsilon=1e-4, axis_name=self.axis_name)(h)
        h = getattr(nn, self.activation)(h)
      else:
        h = getattr(nn, self.activation)(self._dense(width)(h))
      h = nn.Dropout(self.dropout[1], deterministic=not train)(h)
    if not self.features:  # the last hidden layer: the trunk of a conditional D's heads
      return h
    out = self._dense(self.features)(h)
    return _head(jnp.tanh(out / 2) if self.output == "tanh" else out)


def _symmetric_uniform(scale: float):
  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -scale, scale)

  return init


class DCGANGenerator(nn.Module):
  """DCGAN generator (Radford et al. 2016, arXiv:1511.06434) for H×W images, H, W divisible by 4:
  dense to (H/4)×(W/4)×4w, BN, ReLU; two 4×4 stride-2 transposed convolutions (2w, then the
  image channels) with BN and ReLU between; tanh output."""

  image_shape: Sequence[int]
  z_dim: int = 100
  width: int = 32
  axis_name: str | None = None
  num_classes: int = 0  # > 0: class-conditional batch norm, G(z, labels) (projection cGANs)

  @nn.compact
  def __call__(self, z, train: bool = True, labels=None):
    h, w, c = self.image_shape
    if h % 4 or w % 4:
      raise ValueError(f"dcgan needs image sides divisible by 4, got {self.image_shape}")
    norm = lambda x: _g_norm(x, labels, self.num_classes, train, self.axis_name)
    x = nn.Dense((h // 4) * (w // 4) * 4 * self.width, use_bias=False)(z)
    x = nn.relu(norm(x))
    x = x.reshape((z.shape[0], h // 4, w // 4, 4 * self.width))
    x = ConvTranspose(2 * self.width, (4, 4), strides=(2, 2), use_bias=False)(x)
    x = nn.relu(norm(x))
    x = ConvTranspose(c, (4, 4), strides=(2, 2))(x)
    return jnp.tanh(x)


def _strided_conv_trunk(x, train: bool, widths: tuple[int, int], norm: str, axis_name: str | None):
  """Two 4×4 stride-2 convolutions with LeakyReLU(0.2), the second normalized by ``norm``
  (``spectral`` normalizes both). Called inside a compact ``__call__``, so the layers are
  the caller's own submodules."""
  sn = "spectral" if norm == "spectral" else "none"
  bias = norm != "batch"  # a bias before BatchNorm is cancelled by it
  conv = lambda f, b=True: nn.Conv(f, (4, 4), strides=(2, 2), padding="SAME", use_bias=b)
  x = nn.leaky_relu(NormedLayer(conv(widths[0]), sn)(x, train), 0.2)
  return nn.leaky_relu(NormedLayer(conv(widths[1], bias), norm, axis_name)(x, train), 0.2)


class DCGANDiscriminator(nn.Module):
  """DCGAN discriminator: 4×4 stride-2 convolutions (w, 2w) with LeakyReLU(0.2), the second
  normalized as chosen (``norm``; ``spectral`` applies to every layer), then a linear layer to
  one logit."""

  image_shape: Sequence[int]
  width: int = 64
  norm: str = "none"
  axis_name: str | None = None
  features: int = 1

  @nn.compact
  def __call__(self, x, train: bool = True):
    x = _strided_conv_trunk(x, train, (self.width, 2 * self.width), self.norm, self.axis_name)
    sn = "spectral" if self.norm == "spectral" else "none"
    return _output(x.reshape((x.shape[0], -1)), self.features, sn, train)


class InfoGANGenerator(nn.Module):
  """The generator Lucic et al. 2018 (arXiv:1711.10337, table 7) used for every model:
  FC 1024, BN, ReLU, FC 128·(h/4)·(w/4), BN, ReLU, deconv 4×4/2 64, BN, ReLU, deconv 4×4/2 c.
  z: 64 dimensions from U(−1, 1). Their code ends in a sigmoid over data in [0, 1]; jaxgan's
  data lie in [−1, 1], where the same model ends in tanh(a) = 2σ(2a) − 1."""

  image_shape: Sequence[int]
  z_dim: int = 64
  axis_name: str | None = None

  @nn.compact
  def __call__(self, z, train: bool = True):
    h, w, c = self.image_shape
    if h % 4 or w % 4:
      raise ValueError(f"infogan needs image sides divisible by 4, got {self.image_shape}")
    x = nn.relu(_batch_norm(train, self.axis_name)(nn.Dense(1024, use_bias=False)(z)))
    x = nn.Dense(128 * (h // 4) * (w // 4), use_bias=False)(x)
    x = nn.relu(_batch_norm(train, self.axis_name)(x))
    x = x.reshape((z.shape[0], h // 4, w // 4, 128))
    x = ConvTranspose(64, (4, 4), strides=(2, 2), use_bias=False)(x)
    x = nn.relu(_batch_norm(train, self.axis_name)(x))
    x = ConvTranspose(c, (4, 4), strides=(2, 2))(x)
    return jnp.tanh(x)


class InfoGANDiscriminator(nn.Module):
  """Lucic et al. 2018's discriminator: conv 4×4/2 64, lReLU(0.2), conv 4×4/2 128, [norm],
  lReLU, FC 1024, [norm], lReLU, FC 1 (``norm`` chooses [norm]; ``spectral``: every layer)."""

  image_shape: Sequence[int]
  norm: str = "none"
  axis_name: str | None = None
  features: int = 1

  @nn.compact
  def __call__(self, x, train: bool = True):
    sn = "spectral" if self.norm == "spectral" else "none"
    bias = self.norm != "batch"  # a bias before BatchNorm is cancelled by it
    x = _strided_conv_trunk(x, train, (64, 128), self.norm, self.axis_name)
    x = x.reshape((x.shape[0], -1))
    x = nn.leaky_relu(
      NormedLayer(nn.Dense(1024, use_bias=bias), self.norm, self.axis_name)(x, train), 0.2
    )
    return _output(x, self.features, sn, train)


class SNDiscriminator(nn.Module):
  """The 'standard CNN' discriminator of Miyato et al. 2018 (arXiv:1802.05957, table 3):
  conv 3×3/1 64, 4×4/2 64, 3×3/1 128, 4×4/2 128, 3×3/1 256, 4×4/2 256, 3×3/1 512, each with
  LeakyReLU(0.1), then FC 1; spectrally normalized by default."""

  image_shape: Sequence[int]
  norm: str = "spectral"
  axis_name: str | None = None
  features: int = 1

  @nn.compact
  def __call__(self, x, train: bool = True):
    sn = "spectral" if self.norm == "spectral" else "none"
    for i, (f, k, s) in enumerate(
      [(64, 3, 1), (64, 4, 2), (128, 3, 1), (128, 4, 2), (256, 3, 1), (256, 4, 2), (512, 3, 1)]
    ):
      layer = nn.Conv(
        f, (k, k), strides=(s, s), padding="SAME", use_bias=not (i and self.norm == "batch")
      )
      x = nn.leaky_relu(NormedLayer(layer, self.norm if i else sn, self.axis_name)(x, train), 0.1)
    return _output(x.reshape((x.shape[0], -1)), self.features, sn, train)


def _upsample(x):
  b, h, w, c = x.shape
  return jax.image.resize(x, (b, 2 * h, 2 * w, c), "nearest")


def _avg_pool(x):
  return nn.avg_pool(x, (2, 2), strides=(2, 2))


class GBlock(nn.Module):
  """SNGAN generator block: BN, ReLU, ×2 nearest upsampling, conv 3×3, BN, ReLU, conv 3×3;
  shortcut: upsampling and conv 1×1."""

  features: int
  axis_name: str | None = None
  num_classes: int = 0  # > 0: class-conditional batch norm

  @nn.compact
  def __call__(self, x, train: bool, labels=None):
    norm = lambda x: _g_norm(x, labels, self.num_classes, train, self.axis_name)
    h = nn.relu(norm(x))
    h = nn.Conv(self.features, (3, 3), padding="SAME")(_upsample(h))
    h = nn.relu(norm(h))
    h = nn.Conv(self.features, (3, 3), padding="SAME")(h)
    return h + nn.Conv(self.features, (1, 1))(_upsample(x))


class DBlock(nn.Module):
  """SNGAN discriminator block: (ReLU), conv 3×3, ReLU, conv 3×3, [2×2 average pooling];
  shortcut: conv 1×1 (and pooling). ``first``: the optimized first block (no leading ReLU,
  pooling before the shortcut's convolution)."""

  features: int
  down: bool = True
  first: bool = False
  norm: str = "spectral"

  @nn.compact
  def __call__(self, x, train: bool):
    conv = lambda k: NormedLayer(
      nn.Conv(self.features, (k, k), padding="SAME"),
      "spectral" if self.norm == "spectral" else "none",
    )
    h = x if self.first else nn.relu(x)
    h = conv(3)(nn.relu(conv(3)(h, train)), train)
    if self.down:
      h = _avg_pool(h)
    if self.first:
      shortcut = conv(1)(_avg_pool(x), train)
    else:
      shortcut = conv(1)(x, train)
      if self.down:
        shortcut = _avg_pool(shortcut)
    return h + shortcut


class ResNetGenerator(nn.Module):
  """The SNGAN ResNet generator for 32×32 (Miyato et al. 2018, arXiv:1802.05957, table 4):
  z → dense to 4×4×256, three up blocks of 256, BN, ReLU, conv 3×3 to c, tanh. For 28×28,
  dense to 7×7 and two up blocks."""

  image_shape: Sequence[int]
  z_dim: int = 128
  width: int = 256
  axis_name: str | None = None
  num_classes: int = 0  # > 0: class-conditional batch norm, G(z, labels) (projection cGANs)

  @nn.compact
  def __call__(self, z, train: bool = True, labels=None):
    h, w, c = self.image_shape
    ups = 3 if h % 8 == 0 and w % 8 == 0 else 2
    if h % (2**ups) or w % (2**ups):
      raise ValueError(f"resnet needs image sides divisible by 4, got {self.image_shape}")
    x = nn.Dense((h >> ups) * (w >> ups) * self.width)(z)
    x = x.reshape((z.shape[0], h >> ups, w >> ups, self.width))
    for _ in range(ups):
      x = GBlock(self.width, self.axis_name, self.num_classes)(x, train, labels)
    x = nn.relu(_g_norm(x, labels, self.num_classes, train, self.axis_name))
    return jnp.tanh(nn.Conv(c, (3, 3), padding="SAME")(x))


class ResNetDiscriminator(nn.Module):
  """The SNGAN ResNet discriminator for 32×32 (table 4): down blocks of 128 (the first
  optimized), two more blocks of 128 without pooling, ReLU, global sum pooling, dense to
  one logit; spectral norm on every layer (``norm="none"`` turns it off)."""

  image_shape: Sequence[int]
  width: int = 128
  norm: str = "spectral"
  features: int = 1

  @nn.compact
  def __call__(self, x, train: bool = True):
    x = DBlock(self.width, first=True, norm=self.norm)(x, train)
    x = DBlock(self.width, norm=self.norm)(x, train)
    x = DBlock(self.width, down=False, norm=self.norm)(x, train)
    x = DBlock(self.width, down=False, norm=self.norm)(x, train)
    x = jnp.sum(nn.relu(x), axis=(1, 2))
    sn = "spectral" if self.norm == "spectral" else "none"
    return _output(x, self.features, sn, train)


class AutoencoderDiscriminator(nn.Module):
  """BEGAN's discriminator (Berthelot et al. 2017, arXiv:1703.10717): an autoencoder whose
  output is each example's reconstruction error L(v) = mean |v − dec(enc(v))| (η = 1).

  As in Lucic et al. 2018's compare_gan, the encoder is the architecture's own discriminator
  with a ``code``-dimensional output instead of the logit, and the decoder is the
  architecture's own generator fed with that code (see :func:`build`)."""

  encoder: nn.Module
  decoder: nn.Module

  @nn.compact
  def __call__(self, x, train: bool = True):
    reconstruction = self.decoder(self.encoder(x, train), train)
    return jnp.mean(jnp.abs(x - reconstruction).reshape((x.shape[0], -1)), axis=1)


@dataclasses.dataclass(frozen=True)
class ArchSpec:
  """A registered architecture: how to build its (G, D) pair and what it was designed with.

  build: ``build(image_shape, z_dim, axis_name, d_norm) -> (G, D)``.
  z_dim, z_prior: the latent size and distribution of its paper (``normal`` N(0, I) or
    ``uniform`` U(−1, 1)).
  d_norm: its own D normalization; d_norms: the ones its D accepts.
  autoencoder_code: the code size when D becomes BEGAN's autoencoder (64 in Lucic et al.).
  points: built for 2-D points (toy data), not images.
  conditionals: the ways it can be class-conditional (:mod:`jaxgan.nets.conditional`):
    ``projection`` needs a G with class-conditional batch norm (a ``num_classes`` field).
  flat: its D flattens its input first (an MLP): ``concat`` appends the class embedding to
    that vector rather than as channels.
  """

  build: Callable[..., tuple[nn.Module, nn.Module]]
  z_dim: int
  z_prior: str = "normal"
  d_norm: str = "none"
  d_norms: tuple[str, ...] = D_NORMS
  autoencoder_code: int = 64
  points: bool = False
  conditionals: tuple[str, ...] = ()
  flat: bool = False


ARCHS: Registry[ArchSpec] = Registry("architecture")


def build(
  arch: str,
  image_shape,
  z_dim: int | None = None,
  axis_name: str | None = None,
  d_norm: str | None = None,
  autoencoder: bool = False,
  pack: int = 1,
) -> tuple[nn.Module, nn.Module]:
  """(G, D) of a registered architecture; ``z_dim`` and ``d_norm`` None take its own.

  ``pack``: D judges packs of that many examples (PacGAN, :mod:`jaxgan.nets.packing`), so it is
  built for inputs of :func:`~jaxgan.nets.packing.packed_shape` (m·C channels or features).

  ``autoencoder``: D becomes an :class:`AutoencoderDiscriminator` (BEGAN) with the
  architecture's code size, built from the same architecture's D and G.
  """
  spec = ARCHS.get(arch)
  d_norm = spec.d_norm if d_norm is None else d_norm
  if d_norm not in spec.d_norms:
    raise ValueError(f"{arch}'s D takes d_norm {' or '.join(spec.d_norms)}, not {d_norm!r}")
  image_shape = tuple(image_shape)
  generator, discriminator = spec.build(image_shape, z_dim or spec.z_dim, axis_name, d_norm)
  d_shape = packing.packed_shape(image_shape, pack)
  if pack > 1:
    _, discriminator = spec.build(d_shape, z_dim or spec.z_dim, axis_name, d_norm)
  if autoencoder:
    code = spec.autoencoder_code
    encoder = discriminator.clone(features=code)
    decoder, _ = spec.build(d_shape, code, axis_name, d_norm)  # reconstructs whole packs
    discriminator = AutoencoderDiscriminator(encoder, decoder)
  return generator, discriminator


def _mlp(image_shape, z_dim, axis_name, d_norm):
  del axis_name, d_norm  # no batch statistics to share, no D normalization
  return MLPGenerator(image_shape, z_dim), MLPDiscriminator(image_shape)


def _toy_mlp(image_shape, z_dim, axis_name, d_norm):
  del axis_name, d_norm
  return (
    MLPGenerator(image_shape, z_dim, hidden=(128, 128, 128), tanh_output=False, leak=0.0),
    MLPDiscriminator(image_shape, hidden=(128, 128, 128), dropout=0.0),
  )


def _pacgan_mlp(image_shape, z_dim, axis_name, d_norm):
  del z_dim, d_norm
  n = math.prod(image_shape)
  g = PaperMLP((400,) * 4, n, "relu", batch_norm=True, axis_name=axis_name)
  return _Reshaped(g, tuple(image_shape)), PaperMLP((200,) * 3, 1, "maxout")


def _unrolled_mlp(image_shape, z_dim, axis_name, d_norm):
  del z_dim, axis_name, d_norm
  g = PaperMLP((128, 128), math.prod(image_shape), "tanh", weights="orthogonal")
  return _Reshaped(g, tuple(image_shape)), PaperMLP((128, 128), 1, "tanh", weights="orthogonal")


class _Reshaped(nn.Module):
  """A generator whose flat output takes the data's shape."""

  net: nn.Module
  image_shape: tuple[int, ...]

  def __call__(self, z, train: bool = True):
    return self.net(z, train).reshape((z.shape[0], *self.image_shape))


def _goodfellow_mlp(image_shape, z_dim, axis_name, d_norm):
  del axis_name, d_norm
  n = math.prod(image_shape)
  g = PaperMLP((1200, 1200), n, "relu", weights="uniform", scale=0.05, output="tanh")
  d = PaperMLP((240, 240), 1, "maxout", weights="uniform", scale=0.005, dropout=(0.2, 0.5))
  return _Reshaped(g, tuple(image_shape)), d


def _dcgan(image_shape, z_dim, axis_name, d_norm):
  return (
    DCGANGenerator(image_shape, z_dim, axis_name=axis_name),
    DCGANDiscriminator(image_shape, norm=d_norm, axis_name=axis_name),
  )


def _infogan(image_shape, z_dim, axis_name, d_norm):
  return (
    InfoGANGenerator(image_shape, z_dim, axis_name=axis_name),
    InfoGANDiscriminator(image_shape, norm=d_norm, axis_name=axis_name),
  )


def _sndcgan(image_shape, z_dim, axis_name, d_norm):
  return (
    DCGANGenerator(image_shape, z_dim, width=64, axis_name=axis_name),
    SNDiscriminator(image_shape, norm=d_norm, axis_name=axis_name),
  )


def _resnet(image_shape, z_dim, axis_name, d_norm):
  return (
    ResNetGenerator(image_shape, z_dim, axis_name=axis_name),
    ResNetDiscriminator(image_shape, norm=d_norm),
  )


MLP_CONDITIONALS = ("concat", "acgan")
IMAGE_CONDITIONALS = ("concat", "projection", "acgan")
ARCHS.register("mlp")(
  ArchSpec(_mlp, z_dim=100, d_norms=("none",), conditionals=MLP_CONDITIONALS, flat=True)
)
ARCHS.register("dcgan")(ArchSpec(_dcgan, z_dim=100, conditionals=IMAGE_CONDITIONALS))
ARCHS.register("infogan")(
  ArchSpec(_infogan, z_dim=64, z_prior="uniform", conditionals=("concat", "acgan"))
)
# SNDCGAN of Kurach et al. 2019: the DCGAN generator and Miyato et al.'s standard CNN
# discriminator with spectral normalization.
ARCHS.register("sndcgan")(
  ArchSpec(_sndcgan, z_dim=128, d_norm="spectral", conditionals=IMAGE_CONDITIONALS)
)
ARCHS.register("resnet")(
  ArchSpec(
    _resnet,
    z_dim=128,
    d_norm="spectral",
    d_norms=("spectral", "none"),
    conditionals=IMAGE_CONDITIONALS,
  )  # fmt: skip
)
# The 2-D toy networks (experiments.toy2d): z of 64 → 3×128 ReLU → 2, linear; D 2 → 3×128
# LeakyReLU → 1, no dropout.
ARCHS.register("toy_mlp")(
  ArchSpec(_toy_mlp, z_dim=64, d_norms=("none",), autoencoder_code=8, points=True)
)
# PacGAN's 2-D networks (fjxmlzn/PacGAN, synthetic_data_experiments, from ALI's code): z of 2
# → 4×400 batch-normalized ReLU → 2; D 2·m → 3×200 maxout of 5 pieces → 1; N(0, 0.02²).
ARCHS.register("pacgan_mlp")(ArchSpec(_pacgan_mlp, z_dim=2, d_norms=("none",), points=True))
# Metz et al.'s 2-D notebook (Unrolled GAN): z of 256 → 2×128 tanh → 2; D 2 → 2×128 tanh → 1;
# orthogonal weights of gain 1.4.
ARCHS.register("unrolled_mlp")(ArchSpec(_unrolled_mlp, z_dim=256, d_norms=("none",), points=True))
# Goodfellow et al. 2014's MNIST networks (goodfeli/adversarial, mnist.yaml): z of 100 → 2×1200
# ReLU → sigmoid pixels; D of 2×240 maxout units of 5 pieces with dropout (input 0.2, hidden
# 0.5); weights U(±0.05) in G, U(±0.005) in D.
ARCHS.register("goodfellow_mlp")(
  ArchSpec(_goodfellow_mlp, z_dim=100, d_norms=("none",), conditionals=MLP_CONDITIONALS, flat=True)
)
