r"""Sample quality: the Fréchet distance of a classifier's features (FCD).

The Fréchet (2-Wasserstein) distance between two Gaussians (Dowson & Landau 1982),

    FD = ‖μ_r − μ_g‖² + Tr(Σ_r + Σ_g − 2 (Σ_r Σ_g)^{1/2}),

fitted to features of real and generated images, is the FID of Heusel et al. 2017, "GANs
Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium" (NeurIPS), who
take the features from Inception-v3. Inception-v3 was trained on ImageNet photographs and is
not available offline here; for 28×28 digits and garments the features come instead from a
small CNN trained on the dataset's own labelled train split (:class:`Classifier`, its 128-d
penultimate layer), and the real statistics from the test split. The numbers are therefore
**not** comparable with Inception FIDs in papers, only between runs scored with the same
classifier and the same number of samples (the estimate is biased upward at small N;
Bińkowski et al. 2018, "Demystifying MMD GANs", ICLR).

``FrechetClassifierDistance.for_dataset(name)`` trains that classifier once (seeded, so the same on the
same platform) and caches it in ``$JAXGAN_CACHE`` (default ``~/.cache/jaxgan``), with the
reference split's features, the classifier's accuracy on it and their k-NN radii beside it; a
cached file that cannot be read is reported and replaced by a fresh training, never used.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxgan import __version__
from jaxgan.backend import platform
from jaxgan.config import CLASSIFIER_STEPS, dataset_tag
from jaxgan.data import datasets as data_lib
from jaxgan.data import folder
from jaxgan.data.pixels import to_unit_range
from jaxgan.eval import feature_metrics as fm
from jaxgan.eval.feature_metrics import gaussian_stats
from jaxgan.eval.scorer import FeatureScorer
from jaxgan.io import BadCache, load_cache, made_once, npz_arrays, npz_bytes, write_cache
from jaxgan.run.cache import cache_dir

# The metrics of FrechetClassifierDistance.metrics that tables and plots show.
METRICS = ("fd", "kid", "classifier_score", "precision", "recall", "density", "coverage")
# ... and of a class-conditional G's samples, beside them.
CLASS_METRICS = ("class_accuracy", "intra_class_fd")
CLASSIFIER_VERSION = 2  # bump when Classifier or its training changes: caches are keyed on it
RADII = (3, 5)  # the k of precision/recall and of density/coverage: their radii are cached


def metric_cell(record: dict, key: str) -> str:
  """A table cell of ``record[key]``, with its ± std when the record has one."""
  std = record.get(key + "_std")
  return f"{record[key]:.3g}" if std is None else f"{record[key]:.3g} ± {std:.2g}"


class Classifier(nn.Module):
  """conv 3×3 (32) → ReLU → max-pool 2 → conv 3×3 (64) → ReLU → max-pool 2 → dropout →
  dense 128 → ReLU (the features) → dropout → dense (classes). Returns ``(features,
  logits)``; inputs in [-1, 1]; dropout only with ``train``.

  Version 1 used two strided 4×4 convolutions without pooling or dropout: about 3.5× faster
  to train on XLA:CPU, but 90.2% on Fashion-MNIST's test split against this one's 92.4%
  (the evaluation issue's target is 92%; BENCHMARKS.md, "The feature classifier")."""

  num_classes: int = 10
  num_features: int = 128
  dropout: float = 0.3

  @nn.compact
  def __call__(self, x, train: bool = False):
    for width in (32, 64):
      x = nn.relu(nn.Conv(width, (3, 3), padding="SAME")(x))
      x = nn.max_pool(x, (2, 2), (2, 2))
    x = nn.Dropout(self.dropout, deterministic=not train)(x.reshape(x.shape[0], -1))
    h = nn.relu(nn.Dense(self.num_features)(x))
    logits = nn.Dense(self.num_classes)(nn.Dropout(self.dropout, deterministic=not train)(h))
    return h, logits


# Datasets whose labels survive a left-right mirror (garments, objects; not digits): their
# classifier trains on randomly mirrored images.
MIRROR_INVARIANT = ("fashion_mnist", "cifar10")


def train_classifier(
  images: np.ndarray,
  labels: np.ndarray,
  num_classes: int,
  steps: int,
  seed: int = 0,
  batch_size: int = 128,
  learning_rate: float = 1e-3,
  mirror: bool = False,
):
  """Parameters of a :class:`Classifier` fitted by Adam (learning rate cosine-decayed to 0
  over ``steps``) to softmax cross-entropy on ``images`` (uint8) and ``labels``, with
  dropout, and each image mirrored left-right with probability ½ when ``mirror``; batches
  drawn uniformly from ``fold_in(key, step)``, the data on the device. Its own scans, not
  :func:`jaxgan.run.periodic.drive`: a classifier, not a GAN, with nothing periodic to do."""
  model = Classifier(num_classes)
  key = jax.random.key(seed)
  params = model.init(jax.random.fold_in(key, 0), jnp.zeros((1, *images.shape[1:])))["params"]
  tx = optax.adam(optax.cosine_decay_schedule(learning_rate, steps))
  x, y = jax.device_put(images), jax.device_put(labels.astype(np.int32))

  def step(carry, i):
    params, opt_state = carry
    k = jax.random.fold_in(jax.random.fold_in(key, 1), i)
    k_idx, k_mirror, k_dropout = jax.random.split(k, 3)
    idx = jax.random.randint(k_idx, (batch_size,), 0, x.shape[0])
    batch = x[idx]
    if mirror:
      flip = jax.random.bernoulli(k_mirror, 0.5, (batch_size, 1, 1, 1))
      batch = jnp.where(flip, batch[:, :, ::-1], batch)

    def loss(p):
      logits = model.apply(
        {"params": p}, to_unit_range(batch), train=True, rngs={"dropout": k_dropout}
      )[1]
      return optax.softmax_cross_entropy_with_integer_labels(logits, y[idx]).mean()

    value, grads = jax.value_and_grad(loss)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), value

  per_call = platform.classifier_steps_per_call()

  @functools.partial(jax.jit, static_argnums=3, donate_argnums=(0, 1))
  def run(params, opt_state, start, n):
    if n == 1:  # a plain step: even a scan of length 1 is a slow while loop on the CPU
      carry, value = step((params, opt_state), start)
      return carry, value[None]
    return jax.lax.scan(step, (params, opt_state), start + jnp.arange(n))

  opt_state, losses = tx.init(params), []
  for start in range(0, steps, per_call):
    (params, opt_state), chunk = run(params, opt_state, start, min(per_call, steps - start))
    losses.append(chunk)
  if not np.isfinite(np.concatenate(jax.device_get(losses))).all():
    raise FloatingPointError("classifier training diverged")
  return params


def classifier_outputs(params, images, num_classes: int, chunk: int = 1000):
  """``(features, logits)`` as float64 NumPy arrays, computed ``chunk`` images at a time
  (all chunks dispatched before any is read back)."""
  apply = _jitted_apply(num_classes)
  outs = jax.device_get(
    [apply(params, images[i : i + chunk]) for i in range(0, len(images), chunk)]
  )
  return tuple(np.concatenate([o[k] for o in outs]).astype(np.float64) for k in range(2))


@functools.cache
def _jitted_apply(num_classes: int):
  model = Classifier(num_classes)
  return jax.jit(lambda p, x: model.apply({"params": p}, to_unit_range(x)))


def _cached_or_trained_classifier(
  cache_path, template, name, steps, seed, train_images, train_labels, num_classes, mirror
):
  """The classifier's parameters read from ``cache_path``, or trained now (and cached there);
  and whether they were trained now (then any cached reference features are stale)."""
  params = _read_cached(cache_path, template) if cache_path else None
  if params is not None:
    return params, False
  where = f"; cached in {cache_path}" if cache_path else ""
  print(f"training {name} feature classifier ({steps} steps, seed {seed}){where}", file=sys.stderr)
  params = train_classifier(train_images, train_labels, num_classes, steps, seed, mirror=mirror)
  if cache_path:
    write_cache(cache_path, flax.serialization.to_bytes(params), MADE_BY)
  return params, True


def _reference_outputs(params, ref_images, ref_labels, num_classes: int) -> dict:
  """The reference images' features, the classifier's accuracy on them and their
  k-nearest-neighbour radii."""
  features, logits = classifier_outputs(params, ref_images, num_classes)
  return {
    "features": features,
    "accuracy": np.float64((logits.argmax(-1) == ref_labels).mean()),
    **{f"radii_{k}": fm.nearest_neighbour_radii(features, k) for k in RADII},
  }


def _classifier_and_reference(
  cache_path, template, name, steps, seed, mirror, reference_name, train, ref, num_classes
) -> tuple:
  """(the classifier's parameters, the reference outputs), each read from the cache beside
  ``cache_path`` or made now (and cached). One process at a time reads or makes them: others
  that need them at once wait, then read what it made."""
  with made_once(cache_path, "feature classifier") if cache_path else contextlib.nullcontext():
    params, trained_now = _cached_or_trained_classifier(
      cache_path, template, name, steps, seed, *train, num_classes, mirror
    )
    ref_path = cache_path and _reference_path(cache_path, reference_name)
    reference = None if trained_now or not ref_path else _read_reference(ref_path, len(ref[0]))
    if reference is None:
      reference = _reference_outputs(params, *ref, num_classes)
      if ref_path:
        _write_reference(ref_path, reference)
  return params, reference


class FrechetClassifierDistance(FeatureScorer):
  """FCD of images against reference images (see the module docstring).

  ``fcd(images)`` takes generated images (floats in [-1, 1], or uint8) of the training
  images' shape. Attributes: ``test_accuracy`` of the classifier on the reference images, and
  ``reference`` = (μ, Σ) of their features. :meth:`for_dataset` builds one from TFDS splits.
  """

  def __init__(
    self,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    ref_images: np.ndarray,
    ref_labels: np.ndarray,
    steps: int = CLASSIFIER_STEPS,
    seed: int = 0,
    cache_path: str | None = None,
    name: str = "the",
    reference_name: str = "reference images",
    mirror: bool = False,
  ):
    """Trains the classifier on ``train_*`` (or reads it from ``cache_path``, keyed by the
    caller) and fits the reference statistics to ``ref_images``."""
    self.num_classes = int(max(train_labels.max(), ref_labels.max())) + 1
    self.image_shape = train_images.shape[1:]
    template = jax.eval_shape(
      lambda: Classifier(self.num_classes).init(
        jax.random.key(0), jnp.zeros((1, *self.image_shape))
      )["params"]
    )
    self.params, reference = _classifier_and_reference(
      cache_path, template, name, steps, seed, mirror, reference_name,
      (train_images, train_labels), (ref_images, ref_labels), self.num_classes,
    )  # fmt: skip
    features = reference["features"]
    self.test_accuracy = float(reference["accuracy"])
    self.reference = gaussian_stats(features)
    self.reference_features = features
    self.reference_labels = np.asarray(ref_labels)
    self.reference_name = reference_name
    self.feature_space = (
      f"{name.removeprefix('the ')} classifier v{CLASSIFIER_VERSION} ({steps} steps, seed "
      f"{seed}), 128-d penultimate layer"
    )
    self._train_images = train_images
    self._radii_by_k = {k: reference[f"radii_{k}"] for k in RADII}

  @classmethod
  def for_dataset(
    cls,
    dataset: str,
    data_dir: str | None = None,
    train_split: str = "train",
    reference_split: str | None = None,
    steps: int = CLASSIFIER_STEPS,
    seed: int = 0,
    cache: str | None = None,
    size: int = 0,
    channels: int = 0,
  ) -> FrechetClassifierDistance:
    """The classifier trained on ``train_split`` of a dataset (conformed to ``size`` and
    ``channels`` as :func:`jaxgan.data.datasets.load_images` does), cached in ``cache``
    (default :func:`cache_dir`), against
    ``train``) or ``reference_split`` (default :func:`jaxgan.data.datasets.reference_split`).
    Raises ValueError for a dataset without class labels."""
    reference_split = reference_split or data_lib.reference_split(dataset)
    load = functools.partial(
      data_lib.load_labeled, dataset, data_dir=data_dir, size=size, channels=channels
    )
    images, labels = load(train_split)
    ref_images, ref_labels = load(reference_split)
    conformed = f"-{size}x{channels}" if size or channels else ""
    if dataset.startswith(folder.PREFIX):  # a folder's content can change under its name
      conformed += "-" + hashlib.sha1(images.tobytes() + labels.tobytes()).hexdigest()[:10]
    file = (
      f"{dataset_tag(dataset)}{conformed}-classifier-v{CLASSIFIER_VERSION}-{train_split}-{len(images)}"
      f"-s{seed}-{steps}.msgpack"
    )
    return cls(
      images,
      labels,
      ref_images,
      ref_labels,
      steps,
      seed,
      os.path.join(cache or cache_dir(), file),
      name=f"the {dataset}",
      reference_name=f"{dataset} {reference_split} split",
      mirror=dataset in MIRROR_INVARIANT,
    )

  def train_split_fcd(self, num: int = 10000) -> float:
    """FCD of ``num`` real images of the train split: what a perfect generator would score
    with this many samples (the floor the finite sample sets)."""
    return self(self._train_images[:num])

  def outputs(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return classifier_outputs(self.params, images, self.num_classes)


def _reference_path(classifier_path: str, reference_name: str) -> str:
  name = "".join(c if c.isalnum() else "-" for c in reference_name)
  return classifier_path.removesuffix(".msgpack") + f"-reference-{name}.npz"


# What a cache file must have been made by to be read (jaxgan's and the classifier's versions).
MADE_BY = f"jaxgan {__version__}, feature classifier v{CLASSIFIER_VERSION}"


def _read_reference(path: str, num: int) -> dict | None:
  """The cached features, test accuracy and k-NN radii of the reference images, if there,
  intact and complete for ``num`` images."""

  def parse(payload):
    ref = npz_arrays(payload)
    keys = {"features", "accuracy", *(f"radii_{k}" for k in RADII)}
    if not keys <= set(ref) or len(ref["features"]) != num:
      raise BadCache(f"not the reference statistics of these {num} images")
    return ref

  return load_cache(path, MADE_BY, parse, "cached reference statistics", "recomputing them")


def _write_reference(path: str, reference: dict) -> None:
  write_cache(path, npz_bytes(reference), MADE_BY)


def _read_cached(path: str, template):
  def parse(payload):
    params = flax.serialization.from_bytes(template, payload)
    same = jax.tree.map(lambda a, b: a.shape == np.shape(b), template, params)
    if not all(jax.tree.leaves(same)):
      raise BadCache("its parameter shapes differ")
    return jax.tree.map(jnp.asarray, params)

  return load_cache(path, MADE_BY, parse, "cached classifier", "training a new one")
