"""Unmixing scores (HySUPP conventions): SAD, abundance RMSE, aRMSE, reconstruction error.

Abundances are (p, rows, cols) or (p, N); pixels NaN in either input are left out of every abundance score.
"""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..core.errors import InputError

__all__ = [
    "sad",
    "sad_matrix",
    "match_endmembers",
    "abundance_rmse",
    "armse",
    "reconstruction_rmse",
    "matched_abs_corr",
    "score_unmixing",
]


def _as_matrix(A: np.ndarray) -> np.ndarray:
    """(p, rows, cols) or (p, N) -> (p, N) float64."""
    A = np.asarray(A, dtype=np.float64)
    if A.ndim == 3:
        return A.reshape(A.shape[0], -1)
    if A.ndim != 2:
        raise ValueError(f"expected (p, N) or (p, rows, cols) abundances, got shape {A.shape}")
    return A


def _paired(A_ref: np.ndarray, A_est: np.ndarray):
    """Both abundance sets as (p, n) over the pixels finite in both."""
    R, E = _as_matrix(A_ref), _as_matrix(A_est)
    if R.shape != E.shape:
        raise InputError(f"abundance shapes differ: {R.shape} vs {E.shape}")
    ok = np.all(np.isfinite(R), axis=0) & np.all(np.isfinite(E), axis=0)
    if not ok.any():
        raise InputError("no pixel is finite in both abundance sets")
    return R[:, ok], E[:, ok]


def sad_matrix(E_ref: np.ndarray, E_est: np.ndarray) -> np.ndarray:
    """Spectral angle in degrees between every reference column i and estimated column j, (p_ref, p_est)."""
    R = np.asarray(E_ref, dtype=np.float64)
    E = np.asarray(E_est, dtype=np.float64)
    if R.ndim == 1:
        R = R[:, None]
    if E.ndim == 1:
        E = E[:, None]
    if R.shape[0] != E.shape[0]:
        raise InputError(f"endmembers have {R.shape[0]} and {E.shape[0]} bands")
    nr = np.linalg.norm(R, axis=0)
    ne = np.linalg.norm(E, axis=0)
    denom = np.outer(nr, ne)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (R.T @ E) / denom
    cos = np.where(denom > 0, cos, 0.0)  # a zero spectrum is 90 deg from everything
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def sad(E_ref: np.ndarray, E_est: np.ndarray) -> np.ndarray:
    """Per-column spectral angle distance in degrees between paired columns (no matching)."""
    R = np.asarray(E_ref, dtype=np.float64)
    E = np.asarray(E_est, dtype=np.float64)
    if R.shape != E.shape:
        raise InputError(f"endmember shapes differ: {R.shape} vs {E.shape}")
    if R.ndim == 1:
        return sad_matrix(R, E)[0]
    return np.array([sad_matrix(R[:, k], E[:, k])[0, 0] for k in range(R.shape[1])])


def _rmse_matrix(A_ref: np.ndarray, A_est: np.ndarray) -> np.ndarray:
    """RMSE between every reference map i and estimated map j, (p_ref, p_est)."""
    R, E = _as_matrix(A_ref), _as_matrix(A_est)
    if R.shape[1] != E.shape[1]:
        raise InputError(f"abundances cover {R.shape[1]} and {E.shape[1]} pixels")
    ok = np.all(np.isfinite(R), axis=0) & np.all(np.isfinite(E), axis=0)
    R, E = R[:, ok], E[:, ok]
    d2 = (R**2).sum(1)[:, None] + (E**2).sum(1)[None, :] - 2.0 * R @ E.T
    return np.sqrt(np.maximum(d2, 0.0) / max(R.shape[1], 1))


def match_endmembers(
    E_ref: Optional[np.ndarray],
    E_est: Optional[np.ndarray],
    A_ref: Optional[np.ndarray] = None,
    A_est: Optional[np.ndarray] = None,
    match_on: str = "auto",
) -> np.ndarray:
    """``perm`` (p_ref,) with ``E_est[:, perm]`` and ``A_est[perm]`` matched to the reference (Hungarian).

    ``match_on``: 'sad', 'abundance' (map RMSE) or 'auto' (SAD when both endmember sets are given).
    """
    if match_on == "auto":
        match_on = "sad" if E_ref is not None and E_est is not None else "abundance"
    if match_on == "sad":
        if E_ref is None or E_est is None:
            raise ValueError("match_on='sad' needs both endmember matrices")
        cost = sad_matrix(E_ref, E_est)
    elif match_on == "abundance":
        if A_ref is None or A_est is None:
            raise ValueError("matching on abundances needs both abundance sets")
        cost = _rmse_matrix(A_ref, A_est)
    else:
        raise ValueError(f"match_on must be 'auto', 'sad' or 'abundance', got {match_on!r}")
    if cost.shape[1] < cost.shape[0]:
        raise InputError(f"{cost.shape[1]} estimated endmembers cannot match {cost.shape[0]} reference ones")
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(cost.shape[0], dtype=int)
    perm[rows] = cols
    return perm


def abundance_rmse(A_ref: np.ndarray, A_est: np.ndarray) -> np.ndarray:
    """Per-endmember RMSE over pixels (the DDICA paper's per-material RMSE), shape (p,)."""
    R, E = _paired(A_ref, A_est)
    return np.sqrt(np.mean((R - E) ** 2, axis=1))


def armse(A_ref: np.ndarray, A_est: np.ndarray) -> float:
    """HySUPP aRMSE: mean over pixels of the per-pixel RMSE across endmembers."""
    R, E = _paired(A_ref, A_est)
    return float(np.mean(np.sqrt(np.mean((R - E) ** 2, axis=0))))


def per_pixel_rmse(Y: np.ndarray, E: np.ndarray, A: np.ndarray) -> np.ndarray:
    """RMSE over bands of ``Y - E A`` for each pixel column: Y (L, N), E (L, p), A (p, N) -> (N,)."""
    return np.sqrt(np.mean((Y - E @ A) ** 2, axis=0))


def pooled_rmse(per_pixel: np.ndarray) -> float:
    """The RMSE over every band and finite pixel, from per-pixel RMSEs over the same bands (NaN = no pixel)."""
    return float(np.sqrt(np.nanmean(np.asarray(per_pixel, dtype=np.float64) ** 2)))


def reconstruction_rmse(Y: np.ndarray, E: np.ndarray, A: np.ndarray) -> float:
    """RMSE of ``Y - E A`` over all bands and the pixels finite in Y (L, ...) and A (p, ...)."""
    Y = _as_matrix(Y)
    A = _as_matrix(A)
    E = np.asarray(E, dtype=np.float64)
    if Y.shape[1] != A.shape[1]:
        raise InputError(f"data has {Y.shape[1]} pixels, abundances {A.shape[1]}")
    ok = np.all(np.isfinite(Y), axis=0) & np.all(np.isfinite(A), axis=0)
    if not ok.any():
        raise InputError("no pixel is finite in both the data and the abundances")
    resid = Y[:, ok] - E @ A[:, ok]
    return float(np.sqrt(np.mean(resid**2)))


def matched_abs_corr(S: np.ndarray, S_est: np.ndarray) -> np.ndarray:
    """|Pearson correlation| (k,) of each true source S (n, k) with its Hungarian-matched estimate in S_est (n, m)."""
    k = S.shape[1]
    C = np.abs(np.corrcoef(S.T, S_est.T)[:k, k:])
    rows, cols = linear_sum_assignment(-C)
    return C[rows, cols]


def score_unmixing(
    E_ref: Optional[np.ndarray],
    A_ref: Optional[np.ndarray],
    E_est: Optional[np.ndarray],
    A_est: Optional[np.ndarray],
    Y: Optional[np.ndarray] = None,
    match_on: str = "auto",
) -> Dict[str, object]:
    """Match estimates to the reference and score them.

    Returns 'perm', 'sad' (deg), 'asad', 'rmse', 'mean_rmse', 'armse' and 'recon_rmse'; None where the inputs
    do not allow a score.
    """
    perm = match_endmembers(E_ref, E_est, A_ref, A_est, match_on=match_on)
    out: Dict[str, object] = {
        "perm": perm,
        "sad": None,
        "asad": None,
        "rmse": None,
        "mean_rmse": None,
        "armse": None,
        "recon_rmse": None,
    }
    if E_ref is not None and E_est is not None:
        s = sad(np.asarray(E_ref), np.asarray(E_est)[:, perm])
        out["sad"], out["asad"] = s, float(np.mean(s))
    if A_ref is not None and A_est is not None:
        A_m = _as_matrix(A_est)[perm]
        r = abundance_rmse(A_ref, A_m)
        out["rmse"], out["mean_rmse"] = r, float(np.mean(r))
        out["armse"] = armse(A_ref, A_m)
    if Y is not None and E_est is not None and A_est is not None:
        out["recon_rmse"] = reconstruction_rmse(Y, E_est, A_est)
    return out
