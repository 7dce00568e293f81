r"""Sample-quality metrics on feature vectors: the Fréchet distance, KID, a classifier score,
precision/recall, density/coverage, and for class-conditional samples the class accuracy and
the intra-class Fréchet distance.

Each function takes feature arrays (N, d) of real and generated samples (or class
posteriors, for :func:`classifier_score`), as the papers define them; which features (here a
dataset classifier's, :mod:`jaxgan.eval.quality`) is the caller's statement. Real first, then fake,
everywhere (torch-fidelity issue #58: their KID once took them the other way round; the KID is
symmetric, precision and recall are not). Distances are Euclidean, computed in float64 in
blocks of rows so that 10,000 × 10,000 pairs fit in memory.
"""

from __future__ import annotations

import numpy as np

_BLOCK = 1000


def kid(
  real: np.ndarray, fake: np.ndarray, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
  r"""Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs", ICLR,
  arXiv:1801.01401): the unbiased estimate of MMD² with the cubic polynomial kernel
  k(x, y) = (xᵀy / d + 1)³,

      MMD²ᵤ = 1/(m(m−1)) Σ_{i≠j} k(xᵢ, xⱼ) + 1/(m(m−1)) Σ_{i≠j} k(yᵢ, yⱼ) − 2/m² Σ_{i,j} k(xᵢ, yⱼ),

  on ``subsets`` random subsets of ``subset_size`` of each set (drawn without replacement
  within a subset); returns (mean, std) over the subsets. Unbiased: its mean is 0 for two sets
  from one distribution and may come out slightly negative. The defaults are the paper's (and
  torch-fidelity's) 100 subsets of 1,000."""
  real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
  m = min(subset_size, len(real), len(fake))
  rng = np.random.RandomState(seed)
  mmds = np.empty(subsets)
  for s in range(subsets):
    x = real[rng.choice(len(real), m, replace=False)]
    y = fake[rng.choice(len(fake), m, replace=False)]
    mmds[s] = _mmd2_unbiased(x, y)
  return float(mmds.mean()), float(mmds.std())


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
  d, m = x.shape[1], len(x)
  k = lambda a, b: (a @ b.T / d + 1.0) ** 3
  kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
  off = lambda a: (a.sum() - np.trace(a)) / (m * (m - 1))
  return float(off(kxx) + off(kyy) - 2.0 * kxy.mean())


def classifier_score(probs: np.ndarray, splits: int = 10) -> tuple[float, float]:
  r"""The Inception Score of Salimans et al. 2016 ("Improved Techniques for Training GANs",
  arXiv:1606.03498) with a classifier's class posteriors p(y|x) (N, classes):

      IS = exp( E_x KL(p(y|x) ‖ p(y)) ),  p(y) = E_x p(y|x),

  computed on each of ``splits`` consecutive equal parts; returns (mean, std) over them. It
  lies in [1, classes]: 1 when every sample gets the same posterior, ``classes`` when each is
  confidently one class and the classes are used equally."""
  p = np.asarray(probs, np.float64)
  scores = []
  for part in np.array_split(p, splits):
    marginal = part.mean(axis=0, keepdims=True)
    kl = np.sum(part * (_log(part) - _log(marginal)), axis=1)
    scores.append(np.exp(kl.mean()))
  return float(np.mean(scores)), float(np.std(scores))


def _log(p: np.ndarray) -> np.ndarray:
  return np.log(np.where(p > 0, p, 1.0))  # 0 · log 0 = 0


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """Euclidean distances (len(a), len(b)) in float64 (‖a‖² + ‖b‖² − 2abᵀ, clipped at 0)."""
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
  return np.sqrt(np.clip(sq, 0.0, None))


def nearest_neighbour_radii(x: np.ndarray, k: int) -> np.ndarray:
  """Each point's distance to its k-th nearest neighbour in ``x`` other than itself."""
  radii = np.empty(len(x))
  for i in range(0, len(x), _BLOCK):
    d = pairwise_distances(x[i : i + _BLOCK], x)
    radii[i : i + _BLOCK] = np.partition(d, k, axis=1)[:, k]  # index 0 is the point itself
  return radii


def _inside(points: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
  """(len(points),) counts: how many of the balls B(centre, radius) contain each point
  (strictly inside, as the reference code of Naeem et al. compares)."""
  counts = np.zeros(len(points), np.int64)
  for i in range(0, len(centres), _BLOCK):
    d = pairwise_distances(centres[i : i + _BLOCK], points)
    counts += (d < radii[i : i + _BLOCK, None]).sum(0)
  return counts


def precision_recall(
  real: np.ndarray, fake: np.ndarray, k: int = 3, real_radii: np.ndarray | None = None
) -> tuple[float, float]:
  r"""Improved precision and recall (Kynkäänniemi et al. 2019, arXiv:1904.06991): the
  manifold of a set is the union of balls around its points, each of radius the distance to
  its k-th nearest neighbour in the set;

      precision = share of fake samples inside the real manifold,
      recall    = share of real samples inside the fake manifold.

  A mode-collapsed generator keeps its precision and loses recall. k = 3, the paper's.
  ``real_radii``: :func:`nearest_neighbour_radii` of ``real`` for this k, if already known."""
  real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
  if real_radii is None:
    real_radii = nearest_neighbour_radii(real, k)
  precision = (_inside(fake, real, real_radii) > 0).mean()
  recall = (_inside(real, fake, nearest_neighbour_radii(fake, k)) > 0).mean()
  return float(precision), float(recall)


def density_coverage(
  real: np.ndarray, fake: np.ndarray, k: int = 5, real_radii: np.ndarray | None = None
) -> tuple[float, float]:
  r"""Density and coverage (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for
  Generative Models", ICML, arXiv:2002.09797), with B(x, r) the ball of radius r and NND_k(xᵢ)
  the distance from real xᵢ to its k-th nearest real neighbour:

      density  = 1/(kM) Σⱼ Σᵢ 1[yⱼ ∈ B(xᵢ, NND_k(xᵢ))],
      coverage = 1/N Σᵢ 1[∃ j: yⱼ ∈ B(xᵢ, NND_k(xᵢ))],

  over N real xᵢ and M fake yⱼ. Density is about 1 for matching distributions (it is not
  bounded by 1); coverage is the share of real neighbourhoods that hold a fake sample. k = 5,
  the paper's. ``real_radii`` as in :func:`precision_recall`."""
  real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
  radii = nearest_neighbour_radii(real, k) if real_radii is None else real_radii
  density = _inside(fake, real, radii).sum() / (k * len(fake))
  covered = np.zeros(len(real), bool)
  for i in range(0, len(real), _BLOCK):
    d = pairwise_distances(real[i : i + _BLOCK], fake)
    covered[i : i + _BLOCK] = d.min(axis=1) < radii[i : i + _BLOCK]
  return float(density), float(covered.mean())


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Mean and (unbiased, N − 1) covariance of features (N, d), in float64."""
  f = np.asarray(features, np.float64)
  return f.mean(axis=0), np.cov(f, rowvar=False)


def _psd_sqrt(m: np.ndarray) -> np.ndarray:
  w, v = np.linalg.eigh((m + m.T) / 2)
  return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(
  mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
  r"""‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^{1/2}) for covariance matrices Σ₁, Σ₂.

  Σ₁Σ₂ is not symmetric, but it is similar to the symmetric PSD matrix A Σ₂ A with A = Σ₁^{1/2}
  (Σ₁Σ₂ = A (A Σ₂ A) A⁻¹), so Tr((Σ₁Σ₂)^{1/2}) = Σᵢ √λᵢ(A Σ₂ A): two symmetric
  eigendecompositions, real throughout, where a general matrix square root of Σ₁Σ₂ (as
  ``scipy.linalg.sqrtm``) can return spurious imaginary parts for near-singular covariances.
  """
  mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
  sigma1, sigma2 = (
    np.atleast_2d(sigma1).astype(np.float64),
    np.atleast_2d(sigma2).astype(np.float64),
  )
  a = _psd_sqrt(sigma1)
  eig = np.linalg.eigvalsh(a @ sigma2 @ a)
  tr_covmean = np.sqrt(np.clip(eig, 0.0, None)).sum()
  diff = mu1 - mu2
  return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean)


def class_accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
  r"""The share of samples a classifier assigns to the class they were generated for:
  (1/N) Σᵢ 1[argmaxₖ logitsᵢₖ = yᵢ], for logits (N, K) and labels (N,).

  Odena et al. 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs"
  (arXiv:1610.09585), Section 4.1: an Inception network's accuracy on a class-conditional
  generator's samples, against its accuracy on real images as the ceiling."""
  logits, labels = np.asarray(logits), np.asarray(labels)
  if logits.ndim != 2 or labels.shape != logits.shape[:1]:
    raise ValueError(f"logits {logits.shape} and labels {labels.shape}: expected (N, K), (N,)")
  return float(np.mean(logits.argmax(-1) == labels))


def confusion(read: np.ndarray, asked: np.ndarray, num_classes: int) -> np.ndarray:
  r"""The (K, K) confusion matrix of a conditional generator, row-normalized:
  C[k, j] = #{i : yᵢ = k, ŷᵢ = j} / #{i : yᵢ = k}, with yᵢ the class sample i was generated
  for (``asked``) and ŷᵢ the class a classifier reads in it (``read``). Its diagonal is each
  class's accuracy; with the same number of samples per class, :func:`class_accuracy` is the
  diagonal's mean. A row with no samples is 0."""
  counts = np.zeros((num_classes, num_classes))
  np.add.at(counts, (np.asarray(asked), np.asarray(read)), 1)
  return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)


def intra_class_fd(
  features: np.ndarray, labels: np.ndarray, ref_features: np.ndarray, ref_labels: np.ndarray
) -> float:
  r"""The Fréchet distance within each class, averaged over the reference's classes:
  (1/K) Σₖ FD(𝒩(μₖ, Σₖ), 𝒩(μₖʳ, Σₖʳ)), with μₖ, Σₖ the mean and covariance of the features
  of the samples generated for class k and μₖʳ, Σₖʳ those of the reference images of class k.

  Miyato & Koyama 2018, "cGANs with Projection Discriminator" (arXiv:1802.05637), Section 5.1:
  "intra-FID", the FID computed per class and averaged. Every reference class needs at least
  two samples (a covariance); raises ValueError naming the classes that have fewer."""
  labels, ref_labels = np.asarray(labels), np.asarray(ref_labels)
  classes = np.unique(ref_labels)
  short = [int(k) for k in classes if (labels == k).sum() < 2 or (ref_labels == k).sum() < 2]
  if short:
    raise ValueError(f"intra-class FD needs at least 2 samples of every class; not of {short}")
  features, ref_features = np.asarray(features), np.asarray(ref_features)
  distances = [
    frechet_distance(
      *gaussian_stats(features[labels == k]), *gaussian_stats(ref_features[ref_labels == k])
    )
    for k in classes
  ]
  return float(np.mean(distances))
