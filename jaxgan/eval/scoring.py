"""The scorer a run's settings ask for (``--features``): the dataset classifier's
(:class:`jaxgan.eval.quality.FrechetClassifierDistance`) or Inception-v3's
(:class:`jaxgan.eval.inception_scorer.InceptionDistance`), for a dataset as it is trained."""

from __future__ import annotations

from jaxgan.eval import inception_scorer, quality
from jaxgan.eval.scorer import FeatureScorer


def for_dataset(
  dataset: str,
  data_dir: str | None = None,
  features: str = "classifier",
  size: int = 0,
  channels: int = 0,
  classifier_steps: int = quality.CLASSIFIER_STEPS,
  classifier_seed: int = 0,
  inception_weights: str | None = None,
) -> FeatureScorer:
  """Raises ValueError when the classifier cannot be trained (a dataset without labels),
  :class:`inception_scorer.WeightsUnavailable` without Inception's weights."""
  if features == "inception":
    return inception_scorer.InceptionDistance.for_dataset(
      dataset, data_dir, inception_weights, size, channels
    )
  if features != "classifier":
    raise ValueError(f"--features={features}: choose classifier or inception")
  return quality.FrechetClassifierDistance.for_dataset(
    dataset, data_dir, steps=classifier_steps, seed=classifier_seed, size=size, channels=channels
  )


def for_config(cfg, data_dir: str | None = None, classifier_steps: int | None = None, **kw):
  """:func:`for_dataset` of a run's :class:`jaxgan.config.Config` (``data_dir`` and
  ``classifier_steps`` replace the run's own when given)."""
  return for_dataset(
    cfg.dataset,
    data_dir or cfg.data_dir,
    cfg.features,
    cfg.image_size,
    cfg.channels,
    classifier_steps or cfg.classifier_steps,
    inception_weights=cfg.inception_weights,
    **kw,
  )
