"""The FID Inception-v3: the features papers score GANs in, as a Flax module.

The network is TensorFlow's Inception graph of 2015-12-05 that Heusel et al. (2017) computed
FID with and Salimans et al. (2016) the Inception Score, in the form pytorch-fid and
torch-fidelity ship it: torchvision's Inception-v3 with the TF graph's differences (average
pools that do not count padding in ``Mixed_5*``, ``Mixed_6b-e`` and ``Mixed_7b``, a max pool in
``Mixed_7c``'s pool branch; their ``FIDInceptionA/C/E``), 1008 classes. Weights come from the
standard file ``pt_inception-2015-12-05-6726825d.pth`` (the same tensors as torch-fidelity's
``weights-inception-2015-12-05-6726825d.pth``), read without PyTorch
(:mod:`jaxgan.eval.torch_weights`); each batch normalization (ε = 0.001) is folded into its
convolution's kernel and a bias.

Input: uint8 images of any size, 1 or 3 channels (grey repeated to 3, as compare_gan fed
MNIST). They are resized to 299×299 with TensorFlow 1's bilinear resize (source pixel
``i · in/out``, no half-pixel offset, no antialiasing), as the TF original and torch-fidelity
do, and scaled to ``(x - 128) / 128``. Output: the 2048-d pool3 features (FID, KID,
precision/recall) and the 1008 logits without the final layer's bias, the ones the original
Inception Score code took (``softmax/logits/MatMul``).
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.eval import torch_weights

SIZE = 299
BN_EPS = 1e-3
WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = (
  f"https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/{WEIGHTS_FILE}"
)
WEIGHTS_SHA256_PREFIX = "6726825d"  # torch.hub's convention: the file name ends in its hash


class BasicConv(nn.Module):
  """Convolution, batch normalization (folded in: a kernel and a bias), ReLU."""

  features: int
  kernel: tuple[int, int]
  stride: int = 1
  padding: tuple[int, int] = (0, 0)

  @nn.compact
  def __call__(self, x):
    (ph, pw), s = self.padding, self.stride
    conv = nn.Conv(self.features, self.kernel, (s, s), ((ph, ph), (pw, pw)), name="conv")
    return nn.relu(conv(x))


def _avg_pool(x):  # 3×3, stride 1, the padding not counted (TF's and the FID blocks')
  return nn.avg_pool(x, (3, 3), (1, 1), "SAME", count_include_pad=False)


def _max_pool(x, stride: int):
  return nn.max_pool(x, (3, 3), (stride, stride), "SAME" if stride == 1 else "VALID")


class InceptionA(nn.Module):
  pool_features: int

  @nn.compact
  def __call__(self, x):
    b1 = BasicConv(64, (1, 1), name="branch1x1")(x)
    b5 = BasicConv(48, (1, 1), name="branch5x5_1")(x)
    b5 = BasicConv(64, (5, 5), padding=(2, 2), name="branch5x5_2")(b5)
    b3 = BasicConv(64, (1, 1), name="branch3x3dbl_1")(x)
    b3 = BasicConv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(b3)
    b3 = BasicConv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_3")(b3)
    bp = BasicConv(self.pool_features, (1, 1), name="branch_pool")(_avg_pool(x))
    return jnp.concatenate([b1, b5, b3, bp], -1)


class InceptionB(nn.Module):
  @nn.compact
  def __call__(self, x):
    b3 = BasicConv(384, (3, 3), 2, name="branch3x3")(x)
    bd = BasicConv(64, (1, 1), name="branch3x3dbl_1")(x)
    bd = BasicConv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd)
    bd = BasicConv(96, (3, 3), 2, name="branch3x3dbl_3")(bd)
    return jnp.concatenate([b3, bd, _max_pool(x, 2)], -1)


class InceptionC(nn.Module):
  c7: int

  @nn.compact
  def __call__(self, x):
    c7, row, col = self.c7, ((1, 7), (0, 3)), ((7, 1), (3, 0))
    b1 = BasicConv(192, (1, 1), name="branch1x1")(x)
    b7 = BasicConv(c7, (1, 1), name="branch7x7_1")(x)
    b7 = BasicConv(c7, row[0], padding=row[1], name="branch7x7_2")(b7)
    b7 = BasicConv(192, col[0], padding=col[1], name="branch7x7_3")(b7)
    bd = BasicConv(c7, (1, 1), name="branch7x7dbl_1")(x)
    for i, (size, out) in enumerate([(col, c7), (row, c7), (col, c7), (row, 192)], start=2):
      bd = BasicConv(out, size[0], padding=size[1], name=f"branch7x7dbl_{i}")(bd)
    bp = BasicConv(192, (1, 1), name="branch_pool")(_avg_pool(x))
    return jnp.concatenate([b1, b7, bd, bp], -1)


class InceptionD(nn.Module):
  @nn.compact
  def __call__(self, x):
    b3 = BasicConv(192, (1, 1), name="branch3x3_1")(x)
    b3 = BasicConv(320, (3, 3), 2, name="branch3x3_2")(b3)
    b7 = BasicConv(192, (1, 1), name="branch7x7x3_1")(x)
    b7 = BasicConv(192, (1, 7), padding=(0, 3), name="branch7x7x3_2")(b7)
    b7 = BasicConv(192, (7, 1), padding=(3, 0), name="branch7x7x3_3")(b7)
    b7 = BasicConv(192, (3, 3), 2, name="branch7x7x3_4")(b7)
    return jnp.concatenate([b3, b7, _max_pool(x, 2)], -1)


class InceptionE(nn.Module):
  """``max_pool``: the pool branch of ``Mixed_7c`` (FIDInceptionE_2), else an average."""

  max_pool: bool

  @nn.compact
  def __call__(self, x):
    split = lambda h, name: jnp.concatenate(
      [
        BasicConv(384, (1, 3), padding=(0, 1), name=f"{name}a")(h),
        BasicConv(384, (3, 1), padding=(1, 0), name=f"{name}b")(h),
      ],
      -1,
    )
    b1 = BasicConv(320, (1, 1), name="branch1x1")(x)
    b3 = split(BasicConv(384, (1, 1), name="branch3x3_1")(x), "branch3x3_2")
    bd = BasicConv(448, (1, 1), name="branch3x3dbl_1")(x)
    bd = split(BasicConv(384, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd), "branch3x3dbl_3")
    pooled = _max_pool(x, 1) if self.max_pool else _avg_pool(x)
    bp = BasicConv(192, (1, 1), name="branch_pool")(pooled)
    return jnp.concatenate([b1, b3, bd, bp], -1)


class InceptionV3(nn.Module):
  """(N, 299, 299, 3) scaled images to pool3 features (N, 2048) and logits (N, 1008)
  without the bias."""

  @nn.compact
  def __call__(self, x):
    x = BasicConv(32, (3, 3), 2, name="Conv2d_1a_3x3")(x)
    x = BasicConv(32, (3, 3), name="Conv2d_2a_3x3")(x)
    x = BasicConv(64, (3, 3), padding=(1, 1), name="Conv2d_2b_3x3")(x)
    x = _max_pool(x, 2)
    x = BasicConv(80, (1, 1), name="Conv2d_3b_1x1")(x)
    x = BasicConv(192, (3, 3), name="Conv2d_4a_3x3")(x)
    x = _max_pool(x, 2)
    for name, pool in (("Mixed_5b", 32), ("Mixed_5c", 64), ("Mixed_5d", 64)):
      x = InceptionA(pool, name=name)(x)
    x = InceptionB(name="Mixed_6a")(x)
    for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
      x = InceptionC(c7, name=name)(x)
    x = InceptionD(name="Mixed_7a")(x)
    x = InceptionE(False, name="Mixed_7b")(x)
    x = InceptionE(True, name="Mixed_7c")(x)
    features = x.mean(axis=(1, 2))
    logits = nn.Dense(1008, use_bias=False, name="fc")(features)
    return features, logits


def resize_matrix(size_in: int, size_out: int) -> np.ndarray:
  """(out, in) weights of TensorFlow 1's bilinear resize, ``align_corners=False``: output
  pixel i reads source position ``i · in / out``, between its two neighbours."""
  src = np.arange(size_out) * (size_in / size_out)
  low = np.floor(src).astype(int)
  high = np.minimum(low + 1, size_in - 1)
  frac = src - low
  m = np.zeros((size_out, size_in))
  np.add.at(m, (np.arange(size_out), low), 1 - frac)
  np.add.at(m, (np.arange(size_out), high), frac)
  return m.astype(np.float32)


def preprocess(images: jax.Array) -> jax.Array:
  """uint8 (N, H, W, 1 or 3) images as the network's input: 3 channels, 299×299 (TF 1's
  bilinear), ``(x - 128) / 128``."""
  x = images.astype(jnp.float32)
  if x.shape[-1] == 1:
    x = jnp.repeat(x, 3, axis=-1)
  mh, mw = resize_matrix(x.shape[1], SIZE), resize_matrix(x.shape[2], SIZE)
  hp = jax.lax.Precision.HIGHEST
  x = jnp.einsum("oh,nhwc->nowc", mh, x, precision=hp)
  x = jnp.einsum("pw,nowc->nopc", mw, x, precision=hp)
  return (x - 128.0) / 128.0


def params_from_state_dict(state: dict[str, np.ndarray]) -> dict:
  """Flax parameters of :class:`InceptionV3` from the PyTorch state dict of pytorch-fid's
  or torch-fidelity's network, each batch normalization folded into its convolution."""
  template = jax.eval_shape(
    lambda: InceptionV3().init(jax.random.key(0), jnp.zeros((1, SIZE, SIZE, 3)))
  )["params"]
  params = {}
  for path, leaf in jax.tree_util.tree_flatten_with_path(template)[0]:
    names = [p.key for p in path]
    prefix = ".".join(names[:-2])  # the BasicConv (or "fc")
    if names[0] == "fc":
      value = state["fc.weight"].T
    else:
      scale = state[f"{prefix}.bn.weight"] / np.sqrt(state[f"{prefix}.bn.running_var"] + BN_EPS)
      if names[-1] == "kernel":
        value = state[f"{prefix}.conv.weight"].transpose(2, 3, 1, 0) * scale
      else:
        value = state[f"{prefix}.bn.bias"] - state[f"{prefix}.bn.running_mean"] * scale
    if value.shape != leaf.shape:
      raise torch_weights.UnreadableWeights(
        f"{'.'.join(names)}: shape {value.shape} in the file, {leaf.shape} in the network"
      )
    node = params
    for name in names[:-1]:
      node = node.setdefault(name, {})
    node[names[-1]] = jnp.asarray(value, jnp.float32)
  return params


@functools.cache
def _apply():
  return jax.jit(lambda params, images: InceptionV3().apply({"params": params}, preprocess(images)))


def outputs(params, images: np.ndarray, chunk: int = 50) -> tuple[np.ndarray, np.ndarray]:
  """pool3 features (N, 2048) and unbiased logits (N, 1008) of uint8 images, ``chunk`` at a
  time (the last chunk padded, so one program serves every size; fewer images, one chunk)."""
  chunk = max(1, min(chunk, len(images)))
  feats, logits = [], []
  for start in range(0, len(images), chunk):
    part = np.asarray(images[start : start + chunk])
    padded = np.concatenate([part, np.zeros((chunk - len(part), *part.shape[1:]), part.dtype)])
    f, l = jax.device_get(_apply()(params, padded))
    feats.append(f[: len(part)])
    logits.append(l[: len(part)])
  return np.concatenate(feats), np.concatenate(logits)
