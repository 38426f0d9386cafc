"""Simplex Volume Maximisation (SiVM; Heylen, Burazerovic & Scheunders 2011), as used by BUDDIP and UnDIP.

Greedy: the pixel farthest from the origin, then repeatedly the pixel that most increases the simplex volume.
``denoise=True`` searches the rank-p truncated SVD of the data instead (UnDIP's preprocessing).
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from ..core.base import keep_params
from ..core.progress import ProgressCallback, report
from ._common import PixelExtractor, check_pixels


def svd_denoise(Y: np.ndarray, rank: int) -> np.ndarray:
    """Rank-``rank`` truncated SVD of Y (L, N) (uncentred), clipped to [0, max(Y)]."""
    _, U = np.linalg.eigh(Y @ Y.T)  # left singular vectors, ascending; L x L, cheap for any N
    U = U[:, ::-1][:, : int(min(rank, Y.shape[0]))]
    return np.clip(U @ (U.T @ Y), 0.0, float(np.max(Y)))


def sivm(
    Y: np.ndarray, p: int, progress: ProgressCallback = None, denoise: bool = False
) -> Tuple[np.ndarray, np.ndarray]:
    """Greedy SiVM on pixels Y (L, N): (E (L, p) = Y[:, idx], idx (p,)) in selection order (denoised if asked)."""
    Y, p = check_pixels(Y, p)
    if denoise:
        Y = svd_denoise(Y, p)
    N = Y.shape[1]
    sq = np.einsum("ij,ij->j", Y, Y)

    def sqdist(k: int) -> np.ndarray:
        return np.maximum(sq + sq[k] - 2.0 * (Y[:, k] @ Y), 0.0)

    idx = [int(np.argmax(sq))]
    d = np.empty((p, N))
    d[0] = sqdist(idx[0])
    for v in range(1, p):
        cm = np.zeros((v + 1, v + 1))
        cm[:v, :v] = d[:v][:, idx]
        cm[:v, v] = cm[v, :v] = 1.0
        D3 = np.vstack([d[:v], np.ones((1, N))])
        gain = np.einsum("ij,ij->j", D3, np.linalg.pinv(cm) @ D3)
        gain[idx] = -np.inf
        idx.append(int(np.argmax(gain)))
        report(progress, (v + 1) / p, f"SiVM: endmember {v + 1}/{p}")
        if v < p - 1:
            d[v] = sqdist(idx[-1])
    idx_arr = np.asarray(idx, dtype=int)
    return Y[:, idx_arr].copy(), idx_arr


class SiVM(PixelExtractor):
    """SiVM endmember extraction (see the module docstring); deterministic.

    Parameters
    ----------
    denoise : bool, default=False
        Search the rank-p SVD denoised pixels and return their denoised spectra.
    random_state : int or None, default=None
        Seeds only the ``max_pixels`` sample.
    n_endmembers, progress, max_pixels
        As :class:`~deepunmix.engine.extraction._common.PixelExtractor`.

    Attributes
    ----------
    endmembers_ : ndarray of shape (L, p)
        Spectra of the chosen pixels, denoised when ``denoise``.
    indices_, n_endmembers_, n_features_in_
        As :class:`~deepunmix.engine.extraction._common.PixelExtractor`.
    """

    def __init__(self, n_endmembers=3, *, random_state=None, progress=None, max_pixels=None, denoise=False):
        keep_params(self, locals())

    def _extract(self, Y, p):
        return sivm(Y, p, progress=self.progress, denoise=bool(self.denoise))
