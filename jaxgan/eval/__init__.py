"""Scoring samples: the feature classifier and its metrics (FD, KID, classifier score,
precision/recall, density/coverage), the Parzen window, latent interpolation."""
