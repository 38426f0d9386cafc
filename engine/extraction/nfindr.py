"""N-FINDR (Winter 1999): the p pixels spanning the simplex of largest volume in the (p-1)-dim PCA space,
by sweeps of vertex replacements until none increases the volume."""

from __future__ import annotations

import warnings
from math import factorial
from typing import Optional, Tuple

import numpy as np

from ..core.base import keep_params
from ..core.progress import ProgressCallback, report
from ._common import PixelExtractor, check_pixels, pca_projection
from .sivm import sivm

_REL_GAIN = 1e-9  # a replacement must grow |det| by more than this fraction


def _volume(M: np.ndarray) -> float:
    return abs(float(np.linalg.det(M))) / factorial(M.shape[0] - 1)


def _well_posed(M: np.ndarray) -> bool:
    return np.isfinite(np.linalg.cond(M)) and np.linalg.cond(M) < 1e12


def _initial(X: np.ndarray, Y: np.ndarray, p: int, init: str, rng) -> np.ndarray:
    N = X.shape[1]
    if init == "random":
        for _ in range(20):
            idx = rng.choice(N, size=p, replace=False)
            if _well_posed(X[:, idx]):
                return idx
    elif init != "sivm":
        raise ValueError(f"init must be 'random' or 'sivm', got {init!r}")
    return sivm(Y, p)[1]


def nfindr_full(
    Y: np.ndarray,
    p: int,
    random_state: Optional[int] = None,
    max_iter: int = 50,
    init: str = "random",
    progress: ProgressCallback = None,
) -> Tuple[np.ndarray, np.ndarray, float, int]:
    """N-FINDR on Y (L, N): (E = Y[:, idx], idx, simplex volume in PCA space, sweeps run)."""
    Y, p = check_pixels(Y, p)
    N = Y.shape[1]
    rng = np.random.default_rng(random_state)
    U, mean = pca_projection(Y, p - 1)
    X = np.vstack([np.ones((1, N)), U.T @ Y - (U.T @ mean)[:, None]])
    idx = np.array(_initial(X, Y, p, init, rng), dtype=int)
    M = X[:, idx].copy()
    if not _well_posed(M):
        warnings.warn("N-FINDR: the data span fewer than p affinely independent pixels", RuntimeWarning)
        return Y[:, idx].copy(), idx, _volume(M), 0
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        changed = False
        for j in range(p):
            ratio = np.abs(np.linalg.solve(M.T, np.eye(p)[j]) @ X)  # row j of M⁻¹ times X
            k = int(np.argmax(ratio))
            if ratio[k] > 1.0 + _REL_GAIN and k not in idx:
                idx[j] = k
                M[:, j] = X[:, k]
                changed = True
        report(progress, n_iter / max_iter, f"N-FINDR: sweep {n_iter}")
        if not changed:
            break
    report(progress, 1.0, "N-FINDR: done")
    return Y[:, idx].copy(), idx, _volume(M), n_iter


def nfindr(
    Y: np.ndarray, p: int, random_state: Optional[int] = None, max_iter: int = 50, init: str = "random"
) -> Tuple[np.ndarray, np.ndarray]:
    """N-FINDR on pixels Y (L, N); returns (E (L, p) = Y[:, idx], idx (p,))."""
    E, idx, _, _ = nfindr_full(Y, p, random_state=random_state, max_iter=max_iter, init=init)
    return E, idx


class NFINDR(PixelExtractor):
    """N-FINDR endmember extraction (see the module docstring).

    Parameters
    ----------
    n_endmembers, random_state, progress, max_pixels
        As :class:`~deepunmix.engine.extraction._common.PixelExtractor`; ``random_state`` also seeds the start.
    max_iter : int, default=50
        Most sweeps over the vertices; a sweep with no replacement stops earlier.
    init : {'random', 'sivm'}, default='random'
        Initial vertices: random pixels or SiVM's.

    Attributes
    ----------
    volume_ : float
        Volume of the final simplex in the (p-1)-dimensional PCA space.
    n_iter_ : int
        Sweeps run.
    endmembers_, indices_, n_endmembers_, n_features_in_
        As :class:`~deepunmix.engine.extraction._common.PixelExtractor`.
    """

    def __init__(
        self, n_endmembers=3, *, random_state=None, max_iter=50, init="random", progress=None, max_pixels=None
    ):
        keep_params(self, locals())

    def _extract(self, Y, p):
        E, idx, self.volume_, self.n_iter_ = nfindr_full(
            Y, p, random_state=self.random_state, max_iter=self.max_iter, init=self.init, progress=self.progress
        )
        return E, idx
