"""Generator and discriminator architectures (Flax linen), registered by name.

Both networks are used through pure ``init``/``apply``. Conventions:

* ``G(z, train) -> images`` in [-1, 1] with shape ``(batch, *image_shape)`` (NHWC).
* ``D(x, train) -> logits`` of shape ``(batch,)``: the sigmoid lives in the loss.
* Batch statistics live in the ``batch_stats`` collection; ``axis_name`` makes BatchNorm
  average them across devices, so a pmapped update over shards of a batch normalizes with
  the statistics of the whole batch, exactly as one device would.
* Dropout draws from the ``dropout`` RNG stream when ``train`` is true.

``ARCHS.get(name)(image_shape, z_dim, axis_name, d_norm)`` returns ``(generator,
discriminator)`` (``build`` does the same and can turn D into BEGAN's autoencoder); a generator whose class sets ``z_prior = "uniform"`` draws z from
U(−1, 1), the others from N(0, I). ``default_z_dim(name)`` is the architecture's own.
"""
from __future__ import annotations

import functools
import math
from typing import Callable, Optional, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.registry import Registry

Arch = Callable[..., tuple[nn.Module, nn.Module]]
ARCHS: Registry[Arch] = Registry("architecture")


def default_z_dim(arch: str) -> int:
  """The latent size an architecture's paper used (the default of its ``z_dim`` argument)."""
  import inspect
  return inspect.signature(ARCHS.get(arch)).parameters["z_dim"].default


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
  tanh_output: bool = True  # False: a linear output (2-D toy data)

  @nn.compact
  def __call__(self, z, train: bool = True):
    del train  # no dropout or normalization
    h, fan_in = z, self.z_dim
    for width in self.hidden:
      h = nn.relu(torch_linear(width, fan_in)(h))
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
  features: int = 1  # >1: a code of that size (the encoder of an autoencoder D)

  @nn.compact
  def __call__(self, x, train: bool = True):
    h = x.reshape((x.shape[0], -1))
    fan_in = h.shape[-1]
    for width in self.hidden:
      h = nn.leaky_relu(torch_linear(width, fan_in)(h), 0.2)
      h = nn.Dropout(self.dropout, deterministic=not train)(h)
      fan_in = width
    return _head(torch_linear(self.features, fan_in)(h))


@functools.lru_cache(maxsize=None)
def _subpixel_taps(kernel: int, stride: int) -> tuple[int, int, np.ndarray]:
  """The sub-pixel plan of a 1-D 'SAME' transposed convolution (as ``lax.conv_transpose``).

  Output o = s·j + c + a (phase a ∈ [0, s)) of window j reads inputs j + d_min … j + d_max
  with kernel index taps[a, d − d_min] (−1: none). The shift c ∈ [0, s) is the one with the
  fewest input offsets: ⌈k/s⌉ of them, every one used by some phase, where c = 0 can need
  one more (k = 4, s = 2: 2 instead of 3, so 4 taps in 2-D instead of 9). Found by probing
  with an impulse, so it follows lax's own convention. Returns (c, d_min, taps).
  """
  n = 2 * kernel + 4
  x = np.zeros((1, n, 1), np.float32)
  x[0, n // 2, 0] = 1.0
  w = np.arange(1, kernel + 1, dtype=np.float32).reshape(kernel, 1, 1)
  with jax.ensure_compile_time_eval():  # concrete even when first called inside a jit
    y = np.asarray(jax.lax.conv_transpose(x, w, (stride,), "SAME",
                                          dimension_numbers=("NWC", "WIO", "NWC")))[0, :, 0]
  # o − s·i ↦ the kernel index joining input i to output o
  tap_at = {o - stride * (n // 2): int(round(v)) - 1 for o, v in enumerate(y) if v != 0}
  plans = []
  for c in range(stride):
    ds = [(c + a - r) // stride for r in tap_at for a in range(stride)
          if (c + a - r) % stride == 0]
    d_min, d_max = min(ds), max(ds)
    taps = np.array([[tap_at.get(c + a - stride * d, -1) for d in range(d_min, d_max + 1)]
                     for a in range(stride)], np.int32)
    plans.append((d_max - d_min, c, d_min, taps))
  _, c, d_min, taps = min(plans, key=lambda plan: plan[:2])
  return c, d_min, taps


class ConvTranspose(nn.Module):
  """A 'SAME' strided transposed convolution with ``nn.ConvTranspose``'s parameters, init
  and outputs, computed on the CPU in sub-pixel form.

  XLA:CPU computes the kernel gradient of a strided transposed convolution with a slow
  generic loop: 170 ms against PyTorch's 6.5 ms for the 128→64 7→14 layer of the DCGAN at
  batch 64 (``bench/conv_ops.py``, BENCHMARKS.md). The sub-pixel form (Shi et al. 2016,
  arXiv:1609.05158) computes the same outputs as one stride-1 convolution to s²·C channels
  followed by depth-to-space, whose forward pass and gradients all take XLA's fast
  convolution path. Each window reads ⌈k/s⌉ inputs per axis (a 2×2 convolution for the
  4×4 stride-2 layers, whose outputs start half a window early and are cropped), and the
  stride-1 kernel is gathered from the k×k one (zeros where a phase has no tap), so the
  parameters are unchanged. ``impl``: ``auto`` (sub-pixel on the CPU,
  ``lax.conv_transpose`` elsewhere), ``subpixel`` or ``lax``.
  """
  features: int
  kernel_size: tuple[int, int] = (4, 4)
  strides: tuple[int, int] = (2, 2)
  use_bias: bool = True
  impl: str = "auto"

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", nn.initializers.lecun_normal(),
                        (*self.kernel_size, x.shape[-1], self.features))
    impl = self.impl
    if impl == "auto":
      impl = "subpixel" if jax.default_backend() == "cpu" else "lax"
    if impl == "lax":
      y = jax.lax.conv_transpose(x, kernel, self.strides, "SAME",
                                 dimension_numbers=("NHWC", "HWIO", "NHWC"))
    elif impl == "subpixel":
      y = self._subpixel(x, kernel)
    else:
      raise ValueError(f"unknown impl {impl!r}; choices: auto, subpixel, lax")
    if self.use_bias:
      y = y + self.param("bias", nn.initializers.zeros_init(), (self.features,))
    return y

  def _subpixel(self, x, kernel):
    (kh, kw), (sh, sw) = self.kernel_size, self.strides
    c_h, lo_h, taps_h = _subpixel_taps(kh, sh)
    c_w, lo_w, taps_w = _subpixel_taps(kw, sw)
    # w2[m, n, ci, a, b, co] = kernel[taps_h[a, m], taps_w[b, n], ci, co], 0 where no tap.
    th = np.maximum(taps_h, 0).T[:, None, :, None]  # (m, 1, a, 1)
    tw = np.maximum(taps_w, 0).T[None, :, None, :]  # (1, n, 1, b)
    mask = ((taps_h >= 0).T[:, None, :, None] & (taps_w >= 0).T[None, :, None, :])
    w2 = kernel[th, tw] * mask[..., None, None].astype(kernel.dtype)  # (m, n, a, b, ci, co)
    cin, cout = kernel.shape[2], kernel.shape[3]
    w2 = w2.transpose(0, 1, 4, 2, 3, 5).reshape(w2.shape[0], w2.shape[1], cin, sh * sw * cout)
    b, h, w = x.shape[:3]
    # Windows j = j0 … j0 + n − 1 cover outputs s·j + c … ; padding puts window j's first
    # input, j + d_min, at position j − j0 of the padded input.
    windows = [_subpixel_windows(size, s, c, lo, taps.shape[1])
               for size, s, c, lo, taps in ((h, sh, c_h, lo_h, taps_h),
                                            (w, sw, c_w, lo_w, taps_w))]
    (pad_h, nh, crop_h), (pad_w, nw, crop_w) = windows
    # Padding first and then a 'VALID' convolution, not the convolution's own padding: with
    # a 2×2 kernel and padding on both sides XLA:CPU takes a slow generic path for the kernel
    # gradient (430 ms at DCGAN's 7×7×128 → 256 layer). A wide layer's kernel gradient is
    # computed as matrix products, one per kernel offset (BENCHMARKS.md).
    xp = jax.lax.pad(x, jnp.zeros((), x.dtype), ((0, 0, 0), (*pad_h, 0), (*pad_w, 0), (0, 0, 0)))
    wide = sh * sw * cout >= 64
    y = (_conv_valid_dot_kernel_grad if wide else _conv_valid)(xp, w2)
    y = y.reshape(b, nh, nw, sh, sw, cout).transpose(0, 1, 3, 2, 4, 5)
    y = y.reshape(b, nh * sh, nw * sw, cout)
    return y[:, crop_h:crop_h + h * sh, crop_w:crop_w + w * sw]


def _conv_valid(x, w):
  return jax.lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                      dimension_numbers=("NHWC", "HWIO", "NHWC"))


@jax.custom_vjp
def _conv_valid_dot_kernel_grad(x, w):
  """``_conv_valid(x, w)`` whose kernel gradient is m·n matrix products,
  ∂w[i, j] = Σ_{b,h,w} x[b, h + i, w + j, :]ᵀ g[b, h, w, :], instead of XLA:CPU's
  convolution for it, which runs at about 27 GFLOP/s when the kernel is 2×2 against about
  100 for a matrix product. Measured on the DCGAN step: +5–10% steps/s (BENCHMARKS.md). The
  backward pass is itself differentiable, so penalties and consensus can differentiate
  through it (reverse mode only, as for any ``custom_vjp``)."""
  return _conv_valid(x, w)


def _conv_valid_fwd(x, w):
  return _conv_valid(x, w), (x, w)


def _conv_valid_bwd(res, g):
  x, w = res
  dx, = jax.linear_transpose(lambda x: _conv_valid(x, w), x)(g)
  (m, n), (h, wd) = w.shape[:2], g.shape[1:3]
  dw = jnp.stack([jnp.stack([jnp.einsum("bhwc,bhwo->co", x[:, i:i + h, j:j + wd], g)
                             for j in range(n)]) for i in range(m)])
  return dx, dw


_conv_valid_dot_kernel_grad.defvjp(_conv_valid_fwd, _conv_valid_bwd)


def _subpixel_windows(size: int, stride: int, c: int, d_min: int, taps: int):
  """(conv padding, number of windows, output crop) of one spatial axis of the sub-pixel
  form: windows j0 … j1 with outputs s·j + c … s·j + c + s − 1 cover 0 … s·size − 1."""
  j0, j1 = -((c + stride - 1) // stride), (stride * size - 1 - c) // stride
  num = j1 - j0 + 1
  lo = -(j0 + d_min)
  hi = num - 1 + taps - size - lo
  return (lo, hi), num, -(stride * j0 + c)


def _head(out: jax.Array) -> jax.Array:
  """A discriminator's last layer output: (batch,) logits when it has one feature, else the
  (batch, features) code."""
  return out[:, 0] if out.shape[-1] == 1 else out


def _batch_norm(train: bool, axis_name: Optional[str]) -> nn.BatchNorm:
  # PyTorch's defaults (momentum 0.1 for the new value, eps 1e-5) in Flax's convention.
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                      axis_name=axis_name)


D_NORMS = ("none", "batch", "layer", "spectral")


class NormedLayer(nn.Module):
  """A Conv or Dense layer of a discriminator with the chosen normalization.

  ``spectral`` wraps the layer in ``nn.SpectralNorm`` (Miyato et al. 2018, arXiv:1802.05957),
  whose power-iteration vector u and estimate σ live in ``batch_stats`` and advance one
  iteration per training-mode call; ``batch`` and ``layer`` normalize the layer's output.
  """
  layer: nn.Module
  norm: str = "none"
  axis_name: Optional[str] = None

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
    x = ConvTranspose(2 * self.width, (4, 4), strides=(2, 2), use_bias=False)(x)
    x = nn.relu(_batch_norm(train, self.axis_name)(x))
    x = ConvTranspose(c, (4, 4), strides=(2, 2))(x)
    return jnp.tanh(x)


def _strided_conv_trunk(x, train: bool, widths: tuple[int, int], norm: str,
                        axis_name: Optional[str]):
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
  axis_name: Optional[str] = None
  features: int = 1

  @nn.compact
  def __call__(self, x, train: bool = True):
    x = _strided_conv_trunk(x, train, (self.width, 2 * self.width), self.norm, self.axis_name)
    sn = "spectral" if self.norm == "spectral" else "none"
    return _head(NormedLayer(nn.Dense(self.features), sn)(x.reshape((x.shape[0], -1)), train))


class InfoGANGenerator(nn.Module):
  """The generator Lucic et al. 2018 (arXiv:1711.10337, table 7) used for every model:
  FC 1024, BN, ReLU, FC 128·(h/4)·(w/4), BN, ReLU, deconv 4×4/2 64, BN, ReLU, deconv 4×4/2 c.
  z: 64 dimensions from U(−1, 1). Their code ends in a sigmoid over data in [0, 1]; jaxgan's
  data lie in [−1, 1], where the same model ends in tanh(a) = 2σ(2a) − 1."""
  image_shape: Sequence[int]
  z_dim: int = 64
  axis_name: Optional[str] = None
  z_prior = "uniform"

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
  axis_name: Optional[str] = None
  features: int = 1

  @nn.compact
  def __call__(self, x, train: bool = True):
    sn = "spectral" if self.norm == "spectral" else "none"
    bias = self.norm != "batch"  # a bias before BatchNorm is cancelled by it
    x = _strided_conv_trunk(x, train, (64, 128), self.norm, self.axis_name)
    x = x.reshape((x.shape[0], -1))
    x = nn.leaky_relu(
        NormedLayer(nn.Dense(1024, use_bias=bias), self.norm, self.axis_name)(x, train), 0.2)
    return _head(NormedLayer(nn.Dense(self.features), sn)(x, train))


class SNDiscriminator(nn.Module):
  """The 'standard CNN' discriminator of Miyato et al. 2018 (arXiv:1802.05957, table 3):
  conv 3×3/1 64, 4×4/2 64, 3×3/1 128, 4×4/2 128, 3×3/1 256, 4×4/2 256, 3×3/1 512, each with
  LeakyReLU(0.1), then FC 1; spectrally normalized by default."""
  image_shape: Sequence[int]
  norm: str = "spectral"
  axis_name: Optional[str] = None
  features: int = 1

  @nn.compact
  def __call__(self, x, train: bool = True):
    sn = "spectral" if self.norm == "spectral" else "none"
    for i, (f, k, s) in enumerate([(64, 3, 1), (64, 4, 2), (128, 3, 1), (128, 4, 2),
                                   (256, 3, 1), (256, 4, 2), (512, 3, 1)]):
      layer = nn.Conv(f, (k, k), strides=(s, s), padding="SAME",
                      use_bias=not (i and self.norm == "batch"))
      x = nn.leaky_relu(NormedLayer(layer, self.norm if i else sn, self.axis_name)(x, train), 0.1)
    return _head(NormedLayer(nn.Dense(self.features), sn)(x.reshape((x.shape[0], -1)), train))


def _upsample(x):
  b, h, w, c = x.shape
  return jax.image.resize(x, (b, 2 * h, 2 * w, c), "nearest")


def _avg_pool(x):
  return nn.avg_pool(x, (2, 2), strides=(2, 2))


class GBlock(nn.Module):
  """SNGAN generator block: BN, ReLU, ×2 nearest upsampling, conv 3×3, BN, ReLU, conv 3×3;
  shortcut: upsampling and conv 1×1."""
  features: int
  axis_name: Optional[str] = None

  @nn.compact
  def __call__(self, x, train: bool):
    h = nn.relu(_batch_norm(train, self.axis_name)(x))
    h = nn.Conv(self.features, (3, 3), padding="SAME")(_upsample(h))
    h = nn.relu(_batch_norm(train, self.axis_name)(h))
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
    conv = lambda k: NormedLayer(nn.Conv(self.features, (k, k), padding="SAME"),
                                 "spectral" if self.norm == "spectral" else "none")
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
  axis_name: Optional[str] = None

  @nn.compact
  def __call__(self, z, train: bool = True):
    h, w, c = self.image_shape
    ups = 3 if h % 8 == 0 and w % 8 == 0 else 2
    if h % (2 ** ups) or w % (2 ** ups):
      raise ValueError(f"resnet needs image sides divisible by 4, got {self.image_shape}")
    x = nn.Dense((h >> ups) * (w >> ups) * self.width)(z)
    x = x.reshape((z.shape[0], h >> ups, w >> ups, self.width))
    for _ in range(ups):
      x = GBlock(self.width, self.axis_name)(x, train)
    x = nn.relu(_batch_norm(train, self.axis_name)(x))
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
    return _head(NormedLayer(nn.Dense(self.features), sn)(x, train))


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


def build(arch: str, image_shape, z_dim: Optional[int] = None, axis_name: Optional[str] = None,
          d_norm: Optional[str] = None, autoencoder_code: Optional[int] = None,
          ) -> tuple[nn.Module, nn.Module]:
  """(G, D) of a registered architecture; ``d_norm`` None keeps the architecture's own.

  ``autoencoder_code``: D becomes an :class:`AutoencoderDiscriminator` with a code of that
  size (BEGAN; 64 in Lucic et al. 2018), built from the same architecture's D and G.
  """
  builder = ARCHS.get(arch)
  z_dim = z_dim or default_z_dim(arch)
  norm = {} if d_norm is None else {"d_norm": d_norm}
  generator, discriminator = builder(image_shape, z_dim, axis_name, **norm)
  if autoencoder_code:
    encoder = discriminator.clone(features=autoencoder_code)
    decoder, _ = builder(image_shape, autoencoder_code, axis_name, **norm)
    discriminator = AutoencoderDiscriminator(encoder, decoder)
  return generator, discriminator


@ARCHS.register("mlp")
def mlp(image_shape, z_dim=100, axis_name=None, d_norm="none"):
  del axis_name  # no batch statistics to share
  if d_norm != "none":
    raise ValueError("the classic mlp has no D normalization; use --d_norm=none")
  return MLPGenerator(tuple(image_shape), z_dim), MLPDiscriminator(tuple(image_shape))


@ARCHS.register("dcgan")
def dcgan(image_shape, z_dim=100, axis_name=None, d_norm="none"):
  return (DCGANGenerator(tuple(image_shape), z_dim, axis_name=axis_name),
          DCGANDiscriminator(tuple(image_shape), norm=d_norm, axis_name=axis_name))


@ARCHS.register("infogan")
def infogan(image_shape, z_dim=64, axis_name=None, d_norm="none"):
  return (InfoGANGenerator(tuple(image_shape), z_dim, axis_name=axis_name),
          InfoGANDiscriminator(tuple(image_shape), norm=d_norm, axis_name=axis_name))


@ARCHS.register("sndcgan")
def sndcgan(image_shape, z_dim=128, axis_name=None, d_norm="spectral"):
  """SNDCGAN of Kurach et al. 2019: the DCGAN generator and Miyato et al.'s standard CNN
  discriminator with spectral normalization."""
  return (DCGANGenerator(tuple(image_shape), z_dim, width=64, axis_name=axis_name),
          SNDiscriminator(tuple(image_shape), norm=d_norm, axis_name=axis_name))


@ARCHS.register("resnet")
def resnet(image_shape, z_dim=128, axis_name=None, d_norm="spectral"):
  """The SNGAN ResNet pair for CIFAR-10 (D norm: spectral or none)."""
  if d_norm not in ("spectral", "none"):
    raise ValueError(f"resnet's D takes --d_norm=spectral or none, not {d_norm!r}")
  return (ResNetGenerator(tuple(image_shape), z_dim, axis_name=axis_name),
          ResNetDiscriminator(tuple(image_shape), norm=d_norm))
