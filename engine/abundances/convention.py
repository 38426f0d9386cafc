"""Abundance conventions: ``"fractions"`` (FCLS, y = E a with a on the simplex; the default) or
``"peak_normalised"`` (y ~ Ê c by NNLS with peak-1 endmembers, abundance c / sum(c): Zhu's references)."""

from __future__ import annotations

from itertools import combinations
from typing import Tuple

import numpy as np
from scipy.optimize import nnls

CONVENTIONS = ("fractions", "peak_normalised")
MAX_ENUMERATED = 10  # 2^p supports are tried at once up to here; a per-pixel NNLS loop beyond


def peak_normalise(E: np.ndarray) -> np.ndarray:
    """Endmembers (L, p) each divided by its largest value (columns that are all zero are left alone)."""
    E = np.asarray(E, dtype=np.float64)
    peak = np.abs(E).max(axis=0)
    return E / np.where(peak > 0, peak, 1.0)


def nnls_pixels(Y: np.ndarray, E: np.ndarray, block_size: int = 65536) -> np.ndarray:
    """Exact NNLS coefficients C (p, n) of every pixel of Y (L, n) on E (L, p).

    For p <= ``MAX_ENUMERATED`` the support meeting the KKT conditions is found by enumeration; pixels none
    satisfies within tolerance fall back to ``scipy.optimize.nnls``.
    """
    Y = np.asarray(Y, dtype=np.float64)
    E = np.asarray(E, dtype=np.float64)
    p, n = E.shape[1], Y.shape[1]
    out = np.zeros((p, n))
    if p > MAX_ENUMERATED:
        for j in range(n):
            out[:, j] = nnls(E, Y[:, j])[0]
        return out
    G = E.T @ E
    scale = max(np.trace(G) / p, 1e-300)
    supports = [list(s) for k in range(p, 0, -1) for s in combinations(range(p), k)]
    for s0 in range(0, n, block_size):
        b = E.T @ Y[:, s0 : s0 + block_size]  # (p, m)
        C = np.zeros_like(b)
        done = np.zeros(b.shape[1], dtype=bool)
        tol = 1e-10 * scale * (1.0 + np.abs(b).max(axis=0))
        for S in supports:
            todo = np.flatnonzero(~done)
            if todo.size == 0:
                break
            try:
                cS = np.linalg.solve(G[np.ix_(S, S)], b[np.ix_(S, todo)])
            except np.linalg.LinAlgError:
                continue
            grad = G[:, S] @ cS - b[:, todo]  # gradient of 1/2 ||E c - y||^2 (up to the constant)
            off = np.setdiff1d(np.arange(p), S)
            ok = np.all(cS > 0, axis=0) & np.all(grad[off] >= -tol[todo], axis=0)
            hit = todo[ok]
            C[np.ix_(S, hit)] = cS[:, ok]
            done[hit] = True
        for j in np.flatnonzero(~done):  # all-zero solution or ill-conditioned supports
            C[:, j] = nnls(E, Y[:, s0 + j])[0]
        out[:, s0 : s0 + b.shape[1]] = C
    return out


def peak_normalised_abundances(Y: np.ndarray, E: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Shares A (p, n) of the peak-normalised endmembers and pixel scales (n,): ``Y ~ peak_normalise(E) @ (A * scale)``."""
    C = nnls_pixels(Y, peak_normalise(E))
    scale = C.sum(axis=0)
    A = np.where(scale > 0, C / np.where(scale > 0, scale, 1.0), 1.0 / C.shape[0])
    return A, scale
