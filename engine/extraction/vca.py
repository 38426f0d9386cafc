"""Vertex Component Analysis (Nascimento & Bioucas-Dias, IEEE TGRS 43(4), 2005), as the authors' algorithm.

The data are projected (affine at low SNR, projective otherwise); then p times, the pixel with the largest
projection on a random direction orthogonal to the endmembers found so far.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from ..core.base import keep_params
from ..core.progress import ProgressCallback, report
from ._common import PixelExtractor, check_pixels


def estimate_snr(Y: np.ndarray, mean: np.ndarray, x_p: np.ndarray) -> float:
    """VCA's SNR estimate (dB) from the data and its p-dim centred projection ``x_p``."""
    L, N = Y.shape
    p = x_p.shape[0]
    P_y = np.sum(Y**2) / N
    P_x = np.sum(x_p**2) / N + mean @ mean
    num, den = P_x - p / L * P_y, P_y - P_x
    if den <= 0:
        return np.inf
    if num <= 0:
        return -np.inf
    return float(10 * np.log10(num / den))


def vca(
    Y: np.ndarray,
    p: int,
    random_state: Optional[int] = None,
    snr: Optional[float] = None,
    progress: ProgressCallback = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """VCA on pixels Y (L, N): (E (L, p) = Y[:, idx], idx (p,)); ``snr`` (dB) overrides the estimate."""
    Y, p = check_pixels(Y, p)
    L, N = Y.shape
    rng = np.random.default_rng(random_state)
    report(progress, 0.0, "VCA: band correlation")
    R = (Y @ Y.T) / N
    mean = Y.mean(axis=1)
    C = R - np.outer(mean, mean)
    _, Vc = np.linalg.eigh(C)
    Ud = Vc[:, ::-1][:, :p]
    if snr is None:
        snr = estimate_snr(Y, mean, Ud.T @ Y - (Ud.T @ mean)[:, None])
    snr_th = 15 + 10 * np.log10(p)

    if snr < snr_th:  # affine projection, lifted by a constant coordinate
        U1 = Ud[:, : p - 1]
        x = U1.T @ Y - (U1.T @ mean)[:, None]
        c = np.sqrt(np.max(np.sum(x**2, axis=0)))
        y = np.vstack([x, np.full((1, N), c)])
    else:  # uncentred subspace with projective scaling
        _, Vr = np.linalg.eigh(R)
        x = Vr[:, ::-1][:, :p].T @ Y
        u = x.mean(axis=1)
        scale = u @ x
        tiny = np.finfo(float).tiny
        scale = np.where(np.abs(scale) < tiny, tiny, scale)
        y = x / scale

    report(progress, 0.5, "VCA: projection")
    A = np.zeros((p, p))
    A[-1, 0] = 1.0
    idx = np.zeros(p, dtype=int)
    for i in range(p):
        w = rng.standard_normal(p)
        f = w - A @ (np.linalg.pinv(A) @ w)
        f /= np.linalg.norm(f) or 1.0
        v = np.abs(f @ y)
        idx[i] = int(np.argmax(v))
        A[:, i] = y[:, idx[i]]
        report(progress, 0.5 + 0.5 * (i + 1) / p, f"VCA: endmember {i + 1}/{p}")
    return Y[:, idx].copy(), idx


class VCA(PixelExtractor):
    """VCA endmember extraction (see the module docstring).

    Parameters
    ----------
    n_endmembers, random_state, progress, max_pixels
        As :class:`~deepunmix.engine.extraction._common.PixelExtractor`; ``random_state`` also seeds the directions.
    snr : float or None, default=None
        SNR (dB) that picks the projection, affine below ``15 + 10 log10(p)``; None estimates it.

    Attributes
    ----------
    endmembers_, indices_, n_endmembers_, n_features_in_
        As :class:`~deepunmix.engine.extraction._common.PixelExtractor`.
    """

    def __init__(self, n_endmembers=3, *, random_state=None, snr=None, progress=None, max_pixels=None):
        keep_params(self, locals())

    def _extract(self, Y, p):
        return vca(Y, p, random_state=self.random_state, snr=self.snr, progress=self.progress)
