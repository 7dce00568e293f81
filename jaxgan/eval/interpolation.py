"""Paths between latent vectors, for interpolation pictures.

Under a normal prior most latents lie near the sphere of radius √d, and the straight line
between two of them passes through latents of unusually small norm that G rarely saw; the
great-circle path (slerp) stays at their norm (White 2016, "Sampling Generative Networks",
arXiv:1609.04468). A uniform prior's cube has no such shell: straight lines (lerp) there.
"""

from __future__ import annotations

import numpy as np


def slerp(z0, z1, t):
  """Spherical interpolation between rows of z0 and z1 at fractions ``t`` (T,): (N, T, d)."""
  z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
  cos = np.sum(z0 * z1, -1) / (np.linalg.norm(z0, axis=-1) * np.linalg.norm(z1, axis=-1))
  omega = np.arccos(np.clip(cos, -1.0, 1.0))[:, None, None]
  t = np.asarray(t)[None, :, None]
  sin = np.sin(omega)
  safe = np.where(sin > 1e-6, sin, 1.0)
  spherical = (np.sin((1 - t) * omega) * z0[:, None] + np.sin(t * omega) * z1[:, None]) / safe
  straight = (1 - t) * z0[:, None] + t * z1[:, None]  # (anti)parallel latents: no unique arc
  return np.where(sin > 1e-6, spherical, straight)


def lerp(z0, z1, t):
  """Straight-line interpolation between rows of z0 and z1 at fractions ``t``: (N, T, d)."""
  t = np.asarray(t)[None, :, None]
  return (1 - t) * np.asarray(z0)[:, None] + t * np.asarray(z1)[:, None]
