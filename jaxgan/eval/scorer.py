"""Every sample-quality metric in one feature space: what the classifier's and Inception's
scorers share.

A :class:`FeatureScorer` holds a feature network (its ``outputs(images) -> (features,
logits)``) and the reference images' features; :meth:`FeatureScorer.metrics` scores generated
images against them with every metric of :mod:`jaxgan.eval.feature_metrics`, and names the
feature space and the reference in the record.
"""

from __future__ import annotations

import numpy as np

from jaxgan.eval import feature_metrics as fm
from jaxgan.eval.feature_metrics import frechet_distance, gaussian_stats


class FeatureScorer:
  """Subclasses set ``image_shape`` (or None: any size), ``feature_space``,
  ``reference_name``, ``reference_features`` (N, d), ``reference`` = (μ, Σ) and
  ``_radii_by_k`` ({k: radii} of the reference, may start empty), and define ``outputs``."""

  image_shape: tuple | None = None
  # The reference images' classes, set when the network's logits are those classes (the
  # dataset's classifier): then a conditional G's samples get the class metrics too.
  reference_labels: np.ndarray | None = None
  test_accuracy: float | None = None  # the network's accuracy on the reference images
  feature_space: str
  reference_name: str
  reference_features: np.ndarray
  reference: tuple[np.ndarray, np.ndarray]
  _radii_by_k: dict

  def outputs(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    raise NotImplementedError

  def _checked(self, images) -> np.ndarray:
    images = np.asarray(images)
    if self.image_shape is not None and images.shape[1:] != tuple(self.image_shape):
      raise ValueError(
        f"images of shape {images.shape[1:]}, the scorer takes {tuple(self.image_shape)}"
      )
    return images

  def features(self, images) -> np.ndarray:
    return self.outputs(self._checked(images))[0]

  def __call__(self, images) -> float:
    """The Fréchet distance of ``images`` to the reference, in these features."""
    return frechet_distance(*gaussian_stats(self.features(images)), *self.reference)

  def _radii(self, k: int) -> np.ndarray:
    """The reference features' k-NN radii, computed once per k."""
    if k not in self._radii_by_k:
      self._radii_by_k[k] = fm.nearest_neighbour_radii(self.reference_features, k)
    return self._radii_by_k[k]

  def metrics(
    self, images, kid_subsets: int = 100, kid_subset_size: int = 1000, labels=None
  ) -> dict:
    """Every metric of :mod:`jaxgan.eval.feature_metrics` for ``images`` against the
    reference images (real first): Fréchet distance (``fd``), KID, the classifier score of
    the network's class posteriors (10 splits; in Inception's features, the Inception Score),
    precision/recall (k = 3), density/coverage (k = 5); the record names the feature space,
    the reference and both sample sizes. With ``labels`` (the classes a conditional G made
    ``images`` for) and a network that classifies the reference's classes, also
    ``class_accuracy`` (with the reference's, ``class_accuracy_real``, its ceiling) and
    ``intra_class_fd``."""
    features, logits = self.outputs(self._checked(images))
    real = self.reference_features
    kid, kid_std = fm.kid(real, features, kid_subsets, kid_subset_size)
    logits = logits.astype(np.float64)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    score, score_std = fm.classifier_score(probs / probs.sum(axis=1, keepdims=True))
    precision, recall = fm.precision_recall(real, features, 3, self._radii(3))
    density, coverage = fm.density_coverage(real, features, 5, self._radii(5))
    return {
      "feature_space": self.feature_space,
      "reference": self.reference_name,
      "n_real": len(real),
      "n_fake": len(features),
      "fd": frechet_distance(*gaussian_stats(features), *self.reference),
      "kid": kid,
      "kid_std": kid_std,
      "classifier_score": score,
      "classifier_score_std": score_std,
      "precision": precision,
      "recall": recall,
      "density": density,
      "coverage": coverage,
      **self._class_metrics(features, logits, labels),
    }

  def _class_metrics(self, features, logits, labels) -> dict:
    if labels is None or self.reference_labels is None:
      return {}
    labels = np.asarray(labels)
    return {
      "class_accuracy": fm.class_accuracy(logits, labels),
      "class_accuracy_real": self.test_accuracy,
      "intra_class_fd": fm.intra_class_fd(
        features, labels, self.reference_features, self.reference_labels
      ),
    }
