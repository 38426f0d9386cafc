"""Shared plumbing for the pixel-based endmember extractors."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
from sklearn.base import BaseEstimator

from ..core.base import check_cube, check_n_endmembers, keep_params, valid_mask, valid_positions
from ..core.errors import InputError
from ..core.params import N_ENDMEMBERS, SEED, Integral, positive, validate_params
from ..core.progress import ProgressCallback


def check_pixels(Y: np.ndarray, p: int) -> Tuple[np.ndarray, int]:
    """Validate an (L, N) pixel matrix and the endmember count; return float64 Y and p."""
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim != 2:
        raise ValueError(f"expected an (L, N) pixel matrix, got shape {Y.shape}")
    if not np.all(np.isfinite(Y)):
        raise InputError("the pixel matrix contains NaN or infinite values")
    return Y, check_n_endmembers(p, Y.shape[0], Y.shape[1])


def pca_projection(Y: np.ndarray, d: int, center: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """Top-``d`` eigenvectors U (L, d) of the (centred) band covariance and the band mean (L,)."""
    L, N = Y.shape
    mean = Y.mean(axis=1) if center else np.zeros(L)
    C = (Y @ Y.T) / N - np.outer(mean, mean)
    w, V = np.linalg.eigh(C)
    return V[:, ::-1][:, :d], mean


class PixelExtractor(BaseEstimator):
    """Base for extractors that choose endmembers among the valid pixels: subclasses set ``_extract(Y, p) -> (E, idx)``.

    Parameters
    ----------
    n_endmembers : int, default=3
        Number of endmembers p to extract (at least 2, at most the bands and the valid pixels).
    random_state : int or None, default=None
        Seed of the ``max_pixels`` sample (and of the method's own random draws).
    progress : callable or None, default=None
        ``progress(fraction, message)``, called as the work advances; raising ``Cancelled`` stops.
    max_pixels : int or None, default=None
        Search a random sample of at most this many valid pixels; None searches them all.

    Attributes
    ----------
    endmembers_ : ndarray of shape (L, p)
        Spectra of the chosen pixels.
    indices_ : ndarray of shape (p, 2)
        (row, col) of the chosen pixels, in selection order.
    n_endmembers_ : int
        The validated number of endmembers p.
    n_features_in_ : int
        Number of bands L seen by ``fit``.
    """

    _parameter_constraints: dict = {
        "n_endmembers": [N_ENDMEMBERS],
        "random_state": [SEED, None],
        "max_pixels": [positive(Integral), None],
    }

    def __init__(
        self,
        n_endmembers: int = 3,
        *,
        random_state: Optional[int] = None,
        progress: ProgressCallback = None,
        max_pixels: Optional[int] = None,
    ):
        keep_params(self, locals())

    def _extract(self, Y: np.ndarray, p: int) -> Tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def fit(self, cube: np.ndarray, mask: Optional[np.ndarray] = None):
        """Choose endmembers among the valid pixels of ``cube`` (L, H, W); ``mask`` (H, W) True = valid."""
        validate_params(self)
        cube = check_cube(cube)
        _, pos = valid_positions(
            valid_mask(cube, mask), self.max_pixels, self.random_state
        )  # sampled before the float64 copy
        Y = cube.reshape(cube.shape[0], -1)[:, pos].astype(np.float64)
        p = check_n_endmembers(self.n_endmembers, Y.shape[0], Y.shape[1])
        E, idx = self._extract(Y, p)
        rows, cols = np.unravel_index(pos[idx], cube.shape[1:])
        self.n_features_in_ = cube.shape[0]
        self.endmembers_ = E
        self.indices_ = np.column_stack([rows, cols]).astype(int)
        self.n_endmembers_ = p
        return self
