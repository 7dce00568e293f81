"""Scores in Inception-v3's features (``--features=inception``): FID, KID, the Inception Score,
precision/recall and density/coverage as papers compute them (:mod:`jaxgan.eval.inception`).

The weights: ``--inception_weights=PATH``, else ``$JAXGAN_CACHE/inception/`` (default
``~/.cache/jaxgan``), where they are downloaded once from pytorch-fid's release when its host
answers (and ``$JAXGAN_OFFLINE`` is unset), their SHA-256 checked against the ``6726825d`` in
the file's name (torch.hub's convention). Offline without them: :class:`WeightsUnavailable`
says where to get the file (exit code 1). A dataset's reference features (its reference split,
conformed as it is trained) are computed once and cached beside the weights, keyed by the
dataset, split, size, channels and the weights' hash, with the checksum rules of every jaxgan
cache (:mod:`jaxgan.io`).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import urllib.request

import numpy as np

from jaxgan import __version__
from jaxgan.config import dataset_tag
from jaxgan.data import datasets as data_lib
from jaxgan.eval import feature_metrics as fm
from jaxgan.eval import inception, torch_weights
from jaxgan.eval.scorer import FeatureScorer
from jaxgan.io import BadCache, load_cache, npz_arrays, npz_bytes, write_atomic, write_cache
from jaxgan.run.cache import cache_dir

MADE_BY = f"jaxgan {__version__}, Inception-v3 features v1"


class WeightsUnavailable(RuntimeError):
  """The Inception weights are neither given, nor cached, nor downloadable."""

  exit_code = 1


class NoSuchWeights(WeightsUnavailable):
  """``--inception_weights`` names no file: a bad flag."""

  exit_code = 2


@functools.cache
def _sha256(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


def weights_path(given: str | None = None) -> str:
  """The weight file to use: ``given`` (which must exist), else the cached download, else a
  fresh download (hash checked); raises :class:`WeightsUnavailable` when there is none."""
  if given:
    if not os.path.isfile(given):
      raise NoSuchWeights(f"--inception_weights={given}: no such file")
    return given
  path = os.path.join(cache_dir(), "inception", inception.WEIGHTS_FILE)
  if os.path.isfile(path):
    if _sha256(path).startswith(inception.WEIGHTS_SHA256_PREFIX):
      return path
    print(f"note: ignoring {path}: not the file its name promises (sha256)", file=sys.stderr)
  if data_lib.host_reachable(inception.WEIGHTS_URL):
    print(f"downloading {inception.WEIGHTS_URL} into {path}", file=sys.stderr)
    try:
      with urllib.request.urlopen(inception.WEIGHTS_URL, timeout=60) as response:
        payload = response.read()
    except OSError as e:  # the connection dropped, a proxy refused, ...
      raise WeightsUnavailable(f"downloading {inception.WEIGHTS_URL} failed: {e}") from None
    if not hashlib.sha256(payload).hexdigest().startswith(inception.WEIGHTS_SHA256_PREFIX):
      raise WeightsUnavailable(f"the download of {inception.WEIGHTS_URL} has the wrong hash")
    write_atomic(path, lambda f: f.write(payload))
    _sha256.cache_clear()  # the path now holds the checked download
    return path
  raise WeightsUnavailable(
    "--features=inception needs the FID Inception weights, and they cannot be downloaded here.\n"
    f"  Get {inception.WEIGHTS_FILE} (from {inception.WEIGHTS_URL}, or torch-fidelity's\n"
    "  weights-inception-2015-12-05-6726825d.pth, the same tensors) and either pass\n"
    f"  --inception_weights=PATH or put it at {path}"
  )


@functools.cache
def _params(path: str):
  return inception.params_from_state_dict(torch_weights.load_state_dict(path))


class InceptionDistance(FeatureScorer):
  """Every metric in Inception-v3's pool3 features against a reference image set."""

  image_shape = None  # any size: every image is resized to 299×299

  def __init__(self, ref_images: np.ndarray, weights: str, reference_name: str, cache: str | None):
    self.params = _params(weights)
    self.weights_hash = _sha256(weights)[:16]
    self.feature_space = f"Inception-v3 pool3, 2048-d (FID weights, sha256 {self.weights_hash})"
    self.reference_name = reference_name
    reference = _read_reference(cache, len(ref_images)) if cache else None
    if reference is None:
      print(
        f"computing Inception features of the {reference_name} ({len(ref_images)} images)",
        file=sys.stderr,
      )
      features = inception.outputs(self.params, ref_images)[0]
      reference = {
        "features": features,
        **{f"radii_{k}": fm.nearest_neighbour_radii(features, k) for k in (3, 5)},
      }
      if cache:
        write_cache(cache, npz_bytes(reference), MADE_BY)
    self.reference_features = reference["features"]
    self.reference = fm.gaussian_stats(self.reference_features)
    self._radii_by_k = {k: reference[f"radii_{k}"] for k in (3, 5)}

  def outputs(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    images = np.asarray(images)
    if images.dtype != np.uint8:  # G's floats in [-1, 1], as the data's pixels were mapped
      images = np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return inception.outputs(self.params, images)

  @classmethod
  def for_dataset(
    cls,
    dataset: str,
    data_dir: str | None = None,
    weights: str | None = None,
    size: int = 0,
    channels: int = 0,
    reference_split: str | None = None,
  ) -> InceptionDistance:
    """Against ``reference_split`` (default :func:`jaxgan.data.datasets.reference_split`) of a
    dataset, conformed to ``size`` and ``channels``; unlabelled datasets too."""
    path = weights_path(weights)
    split = reference_split or data_lib.reference_split(dataset)
    images = data_lib.load_images(dataset, split, data_dir, size, channels)
    key = hashlib.sha1(f"{dataset}|{split}|{size}|{channels}|{_sha256(path)}".encode()).hexdigest()[
      :12
    ]
    cache = os.path.join(cache_dir(), "inception", f"{dataset_tag(dataset)}-{split}-{key}.npz")
    return cls(images, path, f"{dataset} {split} split", cache)


def _read_reference(path: str, num: int) -> dict | None:
  def parse(payload):
    ref = npz_arrays(payload)
    if len(ref.get("features", ())) != num or not {"radii_3", "radii_5"} <= set(ref):
      raise BadCache(f"not the reference features of these {num} images")
    return ref

  return load_cache(path, MADE_BY, parse, "cached Inception reference", "recomputing it")
