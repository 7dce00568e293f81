"""Transposed convolutions that XLA:CPU runs slowly, in forms that compute the same values faster.

XLA:CPU computes the kernel gradient of a strided transposed convolution with a slow generic
loop, many times slower than PyTorch's (figures and causes in BENCHMARKS.md, "The CPU
convolution gap"). :class:`ConvTranspose` has ``nn.ConvTranspose``'s parameters,
initialization and outputs (tests/test_conv_cpu.py proves it equal to Flax's) and computes
them on the CPU in one of two forms whose gradients avoid that loop: the sub-pixel form for a
wide output (s²·features ≥ 64) and one matrix product with an overlap-add
(:func:`gemm_conv_transpose`) for a narrow one, such as a generator's last layer to the image's
channels. Each form won its place in whole-step measurements (BENCHMARKS.md): in isolation
the overlap-add is the faster for wide layers too, but not inside a generator's step. Other
platforms use ``lax.conv_transpose``.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

# A transposed convolution is wide when its sub-pixel form has at least this many channels
# (s²·features); the choices that depend on it are measured in BENCHMARKS.md.
WIDE = 64


def _auto_impl(strides: tuple[int, int], features: int) -> str:
  """The form ``impl='auto'`` computes in on this platform."""
  if jax.default_backend() != "cpu":
    return "lax"
  return "subpixel" if strides[0] * strides[1] * features >= WIDE else "gemm"


@functools.cache
def _impulse_taps(kernel: int, stride: int) -> dict[int, int]:
  """A 1-D 'SAME' ``lax.conv_transpose`` probed with an impulse: o − s·i ↦ the kernel index
  joining input i to output o, for every offset that has one (lax's own convention)."""
  n = 2 * kernel + 4
  x = np.zeros((1, n, 1), np.float32)
  x[0, n // 2, 0] = 1.0
  w = np.arange(1, kernel + 1, dtype=np.float32).reshape(kernel, 1, 1)
  with jax.ensure_compile_time_eval():  # concrete even when first called inside a jit
    y = np.asarray(
      jax.lax.conv_transpose(x, w, (stride,), "SAME", dimension_numbers=("NWC", "WIO", "NWC"))
    )[0, :, 0]
  return {o - stride * (n // 2): int(round(v)) - 1 for o, v in enumerate(y) if v != 0}


@functools.cache
def _subpixel_taps(kernel: int, stride: int) -> tuple[int, int, np.ndarray]:
  """The sub-pixel plan of a 1-D 'SAME' transposed convolution (as ``lax.conv_transpose``).

  Output o = s·j + c + a (phase a ∈ [0, s)) of window j reads inputs j + d_min … j + d_max
  with kernel index taps[a, d − d_min] (−1: none). The shift c ∈ [0, s) is the one with the
  fewest input offsets: ⌈k/s⌉ of them, every one used by some phase, where c = 0 can need
  one more (k = 4, s = 2: 2 instead of 3, so 4 taps in 2-D instead of 9). Found by probing
  with an impulse (:func:`_impulse_taps`), so it follows lax's own convention. Returns
  (c, d_min, taps).
  """
  tap_at = _impulse_taps(kernel, stride)
  plans = []
  for c in range(stride):
    ds = [(c + a - r) // stride for r in tap_at for a in range(stride) if (c + a - r) % stride == 0]
    d_min, d_max = min(ds), max(ds)
    taps = np.array(
      [
        [tap_at.get(c + a - stride * d, -1) for d in range(d_min, d_max + 1)] for a in range(stride)
      ],
      np.int32,
    )
    plans.append((d_max - d_min, c, d_min, taps))
  _, c, d_min, taps = min(plans, key=lambda plan: plan[:2])
  return c, d_min, taps


class ConvTranspose(nn.Module):
  """A 'SAME' strided transposed convolution with ``nn.ConvTranspose``'s parameters, init
  and outputs, computed on the CPU in sub-pixel form.

  The sub-pixel form (Shi et al. 2016,
  arXiv:1609.05158) computes the same outputs as one stride-1 convolution to s²·C channels
  followed by depth-to-space, whose forward pass and gradients all take XLA's fast
  convolution path. Each window reads ⌈k/s⌉ inputs per axis (a 2×2 convolution for the
  4×4 stride-2 layers, whose outputs start half a window early and are cropped), and the
  stride-1 kernel is gathered from the k×k one (zeros where a phase has no tap), so the
  parameters are unchanged. ``impl``: ``auto`` (on the CPU sub-pixel for a wide output and
  :func:`gemm_conv_transpose` for a narrow one, as the module says; ``lax.conv_transpose``
  elsewhere), ``subpixel``, ``gemm`` or ``lax``.
  """

  features: int
  kernel_size: tuple[int, int] = (4, 4)
  strides: tuple[int, int] = (2, 2)
  use_bias: bool = True
  impl: str = "auto"

  @nn.compact
  def __call__(self, x):
    kernel = self.param(
      "kernel", nn.initializers.lecun_normal(), (*self.kernel_size, x.shape[-1], self.features)
    )
    impl = self.impl
    if impl == "auto":
      impl = _auto_impl(self.strides, self.features)
    if impl == "lax":
      y = _lax_conv_transpose(x, kernel, self.strides)
    elif impl == "subpixel":
      y = self._subpixel(x, kernel)
    elif impl == "gemm":
      y = gemm_conv_transpose(x, kernel, self.strides)
    else:
      raise ValueError(f"unknown impl {impl!r}; choices: auto, gemm, subpixel, lax")
    if self.use_bias:
      y = y + self.param("bias", nn.initializers.zeros_init(), (self.features,))
    return y

  def _subpixel(self, x, kernel):
    """The sub-pixel form, a stride-1 convolution to s²·features channels, then depth-to-space."""
    (kh, kw), (sh, sw) = self.kernel_size, self.strides
    c_h, lo_h, taps_h = _subpixel_taps(kh, sh)
    c_w, lo_w, taps_w = _subpixel_taps(kw, sw)
    # w2[m, n, ci, a, b, co] = kernel[taps_h[a, m], taps_w[b, n], ci, co], 0 where no tap.
    th = np.maximum(taps_h, 0).T[:, None, :, None]  # (m, 1, a, 1)
    tw = np.maximum(taps_w, 0).T[None, :, None, :]  # (1, n, 1, b)
    mask = (taps_h >= 0).T[:, None, :, None] & (taps_w >= 0).T[None, :, None, :]
    w2 = kernel[th, tw] * mask[..., None, None].astype(kernel.dtype)  # (m, n, a, b, ci, co)
    cin, cout = kernel.shape[2], kernel.shape[3]
    w2 = w2.transpose(0, 1, 4, 2, 3, 5).reshape(w2.shape[0], w2.shape[1], cin, sh * sw * cout)
    b, h, w = x.shape[:3]
    # Windows j = j0 … j0 + n − 1 cover outputs s·j + c … ; padding puts window j's first
    # input, j + d_min, at position j − j0 of the padded input.
    windows = [
      _subpixel_windows(size, s, c, lo, taps.shape[1])
      for size, s, c, lo, taps in ((h, sh, c_h, lo_h, taps_h), (w, sw, c_w, lo_w, taps_w))
    ]
    (pad_h, nh, crop_h), (pad_w, nw, crop_w) = windows
    # Padding first and then a 'VALID' convolution, not the convolution's own padding: with
    # a 2×2 kernel and padding on both sides XLA:CPU takes a slow generic path for the kernel
    # gradient (BENCHMARKS.md). A wide layer's kernel gradient is
    # computed as matrix products, one per kernel offset (BENCHMARKS.md).
    xp = jax.lax.pad(x, jnp.zeros((), x.dtype), ((0, 0, 0), (*pad_h, 0), (*pad_w, 0), (0, 0, 0)))
    wide = sh * sw * cout >= WIDE
    y = (_conv_valid_dot_kernel_grad if wide else _conv_valid)(xp, w2)
    y = y.reshape(b, nh, nw, sh, sw, cout).transpose(0, 1, 3, 2, 4, 5)
    y = y.reshape(b, nh * sh, nw * sw, cout)
    return y[:, crop_h : crop_h + h * sh, crop_w : crop_w + w * sw]


def _conv_valid(x, w):
  return jax.lax.conv_general_dilated(
    x, w, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
  )


@jax.custom_vjp
def _conv_valid_dot_kernel_grad(x, w):
  """``_conv_valid(x, w)`` whose kernel gradient is m·n matrix products,
  ∂w[i, j] = Σ_{b,h,w} x[b, h + i, w + j, :]ᵀ g[b, h, w, :], instead of XLA:CPU's
  convolution for it, which runs several times slower than a matrix product when the kernel
  is 2×2 (the DCGAN step's gain is in BENCHMARKS.md). The
  backward pass is itself differentiable, so penalties and consensus can differentiate
  through it (reverse mode only, as for any ``custom_vjp``)."""
  return _conv_valid(x, w)


def _conv_valid_fwd(x, w):
  return _conv_valid(x, w), (x, w)


def _conv_valid_bwd(res, g):
  x, w = res
  (dx,) = jax.linear_transpose(lambda x: _conv_valid(x, w), x)(g)
  (m, n), (h, wd) = w.shape[:2], g.shape[1:3]
  dw = jnp.stack(
    [
      jnp.stack([jnp.einsum("bhwc,bhwo->co", x[:, i : i + h, j : j + wd], g) for j in range(n)])
      for i in range(m)
    ]
  )
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


def _lax_conv_transpose(x, kernel, strides):
  return jax.lax.conv_transpose(
    x, kernel, strides, "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
  )


def _gemm_offset(kernel: int, stride: int) -> int:
  """P of one axis: ``lax.conv_transpose`` ('SAME') adds input i times flipped-kernel tap u
  to output s·i + u − P (from :func:`_impulse_taps`: any offset and its kernel index)."""
  offset, index = next(iter(_impulse_taps(kernel, stride).items()))
  return (kernel - 1 - index) - offset


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def gemm_conv_transpose(x, kernel, strides):
  """``lax.conv_transpose(x, kernel, strides, 'SAME')`` (NHWC, HWIO) as one matrix product
  and an overlap-add (Caffe's deconvolution: GEMM, then col2im).

  Each input pixel times the flattened kernel gives its k×k×O block of contributions; the
  blocks are added into the output at stride s, as ⌈k/s⌉² shifted sums of space-to-depth
  tiles. The backward pass is the transposed convolution's own adjoint, a strided
  convolution, for ∂x, and that convolution's kernel gradient for ∂kernel: both take
  XLA:CPU's fast convolution path, where ``lax.conv_transpose``'s own kernel gradient does
  not (BENCHMARKS.md). Both are derived by ``jax.linear_transpose``, so they hold for any
  kernel and stride. Differentiable again (reverse mode), as gradient penalties need.
  """
  b, h, w, c = x.shape
  (kh, kw, _, o), (sh, sw) = kernel.shape, strides
  th, tw = -(-kh // sh), -(-kw // sw)  # taps per phase
  k = jnp.pad(kernel[::-1, ::-1], ((0, th * sh - kh), (0, tw * sw - kw), (0, 0), (0, 0)))
  k = k.reshape(th, sh, tw, sw, c, o).transpose(4, 0, 2, 1, 3, 5).reshape(c, -1)
  blocks = (x.reshape(-1, c) @ k).reshape(b, h, w, th, tw, sh * sw * o)
  tiles = sum(
    jnp.pad(blocks[:, :, :, a, d], ((0, 0), (a, th - 1 - a), (d, tw - 1 - d), (0, 0)))
    for a in range(th)
    for d in range(tw)
  )
  hh, ww = h + th - 1, w + tw - 1
  full = (
    tiles.reshape(b, hh, ww, sh, sw, o).transpose(0, 1, 3, 2, 4, 5).reshape(b, hh * sh, ww * sw, o)
  )
  ph, pw = _gemm_offset(kh, sh), _gemm_offset(kw, sw)
  crop = ((0, 0, 0), (-ph, ph + sh * h - hh * sh, 0), (-pw, pw + sw * w - ww * sw, 0), (0, 0, 0))
  return jax.lax.pad(full, jnp.zeros((), full.dtype), crop)


def _gemm_fwd(x, kernel, strides):
  return gemm_conv_transpose(x, kernel, strides), (x, kernel)


def _gemm_bwd(strides, res, g):
  x, kernel = res
  adjoint = lambda k: jax.linear_transpose(lambda x: _lax_conv_transpose(x, k, strides), x)(g)[0]
  (dk,) = jax.linear_transpose(adjoint, kernel)(x)
  return adjoint(kernel), dk


gemm_conv_transpose.defvjp(_gemm_fwd, _gemm_bwd)
