r"""Parzen-window log-likelihood, the protocol of Goodfellow et al. 2014 (Table 1 of
"Generative Adversarial Nets", arXiv:1406.2661; their code: ``parzen_ll.py`` of goodfeli/adversarial).

A Gaussian kernel density is fitted to generated samples g₁…g_N (d dimensions):

    log p(x) = logsumexp_i( −‖x − gᵢ‖² / (2σ²) ) − log N − (d/2) log(2πσ²).

σ is chosen on a validation set from a grid (theirs: 10^linspace(−1, 0, 10) for MNIST pixels
in [0, 1]) by the highest mean log-likelihood; the score is the mean log-likelihood of the
test set under that σ, ± its standard error (std / √n). An estimate with known faults (Theis
et al. 2016, "A note on the evaluation of generative models"): reported because papers do.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def log_likelihoods(
  x: np.ndarray, samples: np.ndarray, sigma: float, block: int = 100
) -> np.ndarray:
  """log p(xⱼ) for each row of ``x`` under the Parzen window of ``samples`` with width σ,
  computed in blocks of ``block`` rows of x (memory: block × N)."""
  x = np.asarray(x, np.float32).reshape(len(x), -1)
  g = jnp.asarray(np.asarray(samples, np.float32).reshape(len(samples), -1))
  out = [
    np.asarray(_block_ll(jnp.asarray(x[i : i + block]), g, sigma)) for i in range(0, len(x), block)
  ]
  return np.concatenate(out).astype(np.float64)


@jax.jit
def _block_ll(x, g, sigma):
  d = x.shape[1]
  sq = (x * x).sum(1)[:, None] + (g * g).sum(1)[None, :] - 2.0 * x @ g.T
  a = -jnp.maximum(sq, 0.0) / (2.0 * sigma**2)
  return (
    jax.scipy.special.logsumexp(a, axis=1)
    - jnp.log(g.shape[0])
    - 0.5 * d * jnp.log(2.0 * jnp.pi * sigma**2)
  )


def parzen_score(
  samples: np.ndarray,
  validation: np.ndarray,
  test: np.ndarray,
  sigmas: np.ndarray | None = None,
) -> dict:
  """σ chosen on ``validation`` from ``sigmas`` (default 10^linspace(−1, 0, 10)), then the
  mean test log-likelihood and its standard error. Inputs on the same scale (pixels in
  [0, 1] for the paper's numbers)."""
  sigmas = np.logspace(-1, 0, 10) if sigmas is None else np.asarray(sigmas)
  val = [float(log_likelihoods(validation, samples, s).mean()) for s in sigmas]
  sigma = float(sigmas[int(np.argmax(val))])
  ll = log_likelihoods(test, samples, sigma)
  return {
    "parzen_ll": float(ll.mean()),
    "parzen_se": float(ll.std() / np.sqrt(len(ll))),
    "parzen_sigma": sigma,
    "n_samples": len(samples),
    "n_test": len(ll),
  }
