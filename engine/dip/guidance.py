"""Initial estimates ("guidance") for the DIP methods: extractor endmembers and FCLS abundances."""
from __future__ import annotations

from importlib import import_module
from typing import Optional, Tuple

import numpy as np

EXTRACTORS = ("sivm", "vca", "nfindr")


def extract_endmembers(Y: np.ndarray, n_endmembers: int, extractor: str = "sivm",
                       random_state: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Endmembers (L, p) and the column indices of the chosen pixels, by SiVM, VCA or N-FINDR."""
    name = str(extractor).lower()
    if name not in EXTRACTORS:
        raise ValueError(f"unknown endmember extractor {extractor!r}; choose one of {', '.join(EXTRACTORS)}")
    func = getattr(import_module(f"..extraction.{name}", __package__), name)
    if name == "sivm":
        E, idx = func(Y, n_endmembers)
    else:
        E, idx = func(Y, n_endmembers, random_state=random_state)
    return np.asarray(E, dtype=np.float64), np.asarray(idx)


def fcls_abundances(Y: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Exact FCLS abundances (p, N) of the pixels Y (L, N) for the endmembers E (L, p)."""
    from ..fcls import fcls  # noqa: PLC0415 - keeps module import light and order-independent

    return np.asarray(fcls(Y, E), dtype=np.float64)


def check_endmembers(E: np.ndarray, n_bands: int, n_endmembers: Optional[int] = None) -> np.ndarray:
    """Validate user-given endmembers (L, p): shape, finiteness; return float64."""
    E = np.asarray(E, dtype=np.float64)
    if E.ndim != 2 or E.shape[0] != n_bands:
        raise ValueError(f"endmembers must be a (bands, endmembers) matrix with {n_bands} rows, got shape {E.shape}")
    if n_endmembers is not None and E.shape[1] != n_endmembers:
        raise ValueError(f"{E.shape[1]} endmembers were given but n_endmembers is {n_endmembers}")
    if not np.all(np.isfinite(E)):
        raise ValueError("the given endmembers contain NaN or infinite values")
    return E


def purify_endmembers(Y: np.ndarray, A: np.ndarray, n_pixels: int) -> np.ndarray:
    """Average, for each endmember, the ``n_pixels`` pixels with the largest abundance of it.

    A label-free denoising of extracted endmembers: a single extracted pixel carries its full
    noise, the mean of the purest pixels much less. ``Y`` (L, N), ``A`` (p, N) FCLS abundances.
    """
    k = int(min(max(n_pixels, 1), Y.shape[1]))
    top = np.argpartition(-A, k - 1, axis=1)[:, :k]  # (p, k) column indices
    return Y[:, top].mean(axis=2)


def expand_endmembers(Y: np.ndarray, E: np.ndarray, A: np.ndarray, threshold: float = 0.8,
                      min_fraction: float = 0.001) -> np.ndarray:
    """One step that moves each endmember so the near-pure pixels of it are explained without residual.

    For endmember j take the pixels S_j whose FCLS abundance of j is at least ``threshold`` (at
    least ``min_fraction`` of the pixels: the top ones if fewer pass). On S_j, Y ~ E A, so with
    the set means Ybar_j and Abar_j the p equations ``E [Abar_1 .. Abar_p] = [Ybar_1 .. Ybar_p]``
    give ``E_new = E + Rbar Abar^-1`` (Rbar: the mean FCLS residuals). Where the data stick out
    of the current simplex (no pure pixels in the scene, or an averaged endmember), the vertex
    moves out towards them; where the simplex already encloses the data it barely moves.
    Label-free; result clipped at 0. ``Y`` (L, N), ``E`` (L, p), ``A`` (p, N) FCLS abundances.
    """
    kmin = int(min(max(round(float(min_fraction) * Y.shape[1]), 1), Y.shape[1]))
    top = np.argpartition(-A, kmin - 1, axis=1)[:, :kmin]
    y_bar, a_bar = [], []
    for j in range(A.shape[0]):
        sel = np.flatnonzero(A[j] >= threshold)
        if sel.size < kmin:
            sel = top[j]
        y_bar.append(Y[:, sel].mean(axis=1))
        a_bar.append(A[:, sel].mean(axis=1))
    Yb, Ab = np.stack(y_bar, axis=1), np.stack(a_bar, axis=1)  # (L, p), (p, p)
    return np.clip(Yb @ np.linalg.pinv(Ab), 0.0, None)


def refine_guidance(Y: np.ndarray, E: np.ndarray, purify: float, expand: int,
                    threshold: float = 0.8) -> Tuple[np.ndarray, np.ndarray]:
    """Purify (mean of the ``purify`` fraction of purest pixels), then ``expand`` expansion steps.

    Returns the refined endmembers (L, p) and their FCLS abundances (p, N). ``purify=0`` and
    ``expand=0`` return ``E`` unchanged (the paper's guidance).
    """
    A = fcls_abundances(Y, E)
    if purify and purify > 0:
        E = purify_endmembers(Y, A, max(1, int(round(float(purify) * Y.shape[1]))))
        A = fcls_abundances(Y, E)
    for _ in range(int(expand)):
        E = expand_endmembers(Y, E, A, threshold)
        A = fcls_abundances(Y, E)
    return E, A
