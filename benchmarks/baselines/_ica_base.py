"""Shared plumbing of the ICA comparators: input checks, PCA whitening, cube helpers."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from deepunmix.engine.core.base import cube_to_pixels, pixels_to_maps

from .ica_to_abundance import ica_to_abundances


def check_samples(X: np.ndarray, min_samples: int = 2) -> np.ndarray:
    """Return X as a finite (n_samples, n_features) float64 array or raise ValueError."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"expected X of shape (n_samples, n_features), got {X.shape}")
    if X.shape[0] < min_samples:
        raise ValueError(f"need at least {min_samples} samples, got {X.shape[0]}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or inf")
    return X


def n_components_for(n_components: Optional[int], n_features: int) -> int:
    """Validate ``n_components`` (None -> n_features)."""
    k = n_features if n_components is None else int(n_components)
    if not 1 <= k <= n_features:
        raise ValueError(f"n_components must be in [1, {n_features}], got {k}")
    return k


def pca_whitener(X: np.ndarray, k: int, eps: float = 1e-12) -> Tuple[np.ndarray, np.ndarray]:
    """Mean (n_features,) and whitening matrix K (k, n_features): Z = (X - mean) K^T has identity covariance."""
    mean = X.mean(axis=0)
    cov = np.cov(X - mean, rowvar=False).reshape(X.shape[1], X.shape[1])
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1][:k]
    evals, evecs = np.maximum(evals[order], eps), evecs[:, order]
    evecs *= np.sign(evecs[np.argmax(np.abs(evecs), axis=0), np.arange(k)])  # deterministic sign
    return mean, (evecs / np.sqrt(evals)).T


class CubeICAMixin:
    """Adds ``fit_cube`` / ``unmix_cube`` to an estimator with ``fit(X)`` and ``transform(X)``.

    A cube has shape (L, H, W), bands first; its valid pixels become the samples and its bands the
    features: X = cube pixels, shape (n_valid, L).

    Parameters
    ----------
    random_state : int or None, default=None
        Seed of every random draw of ``fit``.
    device : str, default='cpu'
        Torch device of the torch comparators: 'cpu', 'cuda', 'cuda:N' or 'auto' (CUDA when available).
    progress : callable or None, default=None
        ``progress(fraction, message)``, called during training; raising ``Cancelled`` stops.

    Attributes
    ----------
    valid_ : ndarray of bool, shape (H, W)
        The pixels used (set by ``fit_cube``).
    source_maps_ : ndarray of shape (k, H, W)
        Sources as maps, NaN at invalid pixels (set by ``fit_cube``).
    abundances_ : ndarray of shape (k, H, W)
        Sources mapped to abundances (set by ``unmix_cube``).
    n_features_in_ : int
        Number of features seen by ``fit``.
    """

    def fit_cube(self, cube: np.ndarray, mask: Optional[np.ndarray] = None) -> np.ndarray:
        """Fit on the valid pixels of a (bands, rows, cols) cube; return source maps (k, rows, cols)."""
        Y, valid = cube_to_pixels(cube, mask)
        self.fit(Y.T)
        sources = self.transform(Y.T)
        self.valid_ = valid
        self.source_maps_ = pixels_to_maps(sources.T, valid)
        return self.source_maps_

    def unmix_cube(self, cube: np.ndarray, mask: Optional[np.ndarray] = None) -> np.ndarray:
        """Fit on a cube and map the sources to abundances (k, rows, cols) with :func:`ica_to_abundances`."""
        maps = self.fit_cube(cube, mask)
        self.abundances_ = pixels_to_maps(ica_to_abundances(maps[:, self.valid_].T), self.valid_)
        return self.abundances_
