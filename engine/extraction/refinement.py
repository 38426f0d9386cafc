"""Label-free endmembers from abundance maps: the mean of each map's purest pixels, then expansion steps that
undo the inward pull of averaging mixed pixels."""

from __future__ import annotations

from typing import Tuple

import numpy as np


def fcls_abundances(Y: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Exact FCLS abundances (p, N) of the pixels Y (L, N) for the endmembers E (L, p)."""
    from ..abundances.fcls import fcls  # noqa: PLC0415 - keeps module import light and order-independent

    return np.asarray(fcls(Y, E), dtype=np.float64)


def purify_endmembers(Y: np.ndarray, A: np.ndarray, n_pixels: int) -> np.ndarray:
    """Per endmember, the mean of the ``n_pixels`` pixels of Y (L, N) with the largest abundance of it in A (p, N)."""
    k = int(min(max(n_pixels, 1), Y.shape[1]))
    top = np.argpartition(-A, k - 1, axis=1)[:, :k]  # (p, k) column indices
    return Y[:, top].mean(axis=2)


def expand_endmembers(
    Y: np.ndarray,
    E: np.ndarray,
    A: np.ndarray,
    threshold: float = 0.8,
    min_fraction: float = 0.001,
    floor: float = 0.0,
) -> np.ndarray:
    """One step that moves each endmember so its near-pure pixels are explained without residual.

    With S_j the pixels whose abundance of j is at least ``threshold`` (at least ``min_fraction`` of them),
    the set means solve ``E [Abar_1 .. Abar_p] = [Ybar_1 .. Ybar_p]``. ``floor`` = 0 clips the result at 0;
    ``floor`` > 0 moves each endmember only as far as keeps every band >= ``floor`` x its old value.
    ``Y`` (L, N), ``E`` (L, p), ``A`` (p, N) FCLS abundances.
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
    new = Yb @ np.linalg.pinv(Ab)
    if floor <= 0:
        return np.clip(new, 0.0, None)
    step = new - E
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(step < 0, (float(floor) - 1.0) * E / step, np.inf)  # where E + t * step = floor * E
    return E + np.clip(room.min(axis=0), 0.0, 1.0) * step


def expansion_steps(
    Y: np.ndarray, E: np.ndarray, A: np.ndarray, n_steps: int, threshold: float = 0.8, floor: float = 0.0
) -> Tuple[np.ndarray, np.ndarray]:
    """``n_steps`` calls of :func:`expand_endmembers`, FCLS abundances recomputed after each: (E, A)."""
    for _ in range(int(n_steps)):
        E = expand_endmembers(Y, E, A, threshold, floor=floor)
        A = fcls_abundances(Y, E)
    return E, A


def endmembers_from_maps(
    Y: np.ndarray, A: np.ndarray, purify: float, expand: int, threshold: float = 0.8, floor: float = 0.0
) -> Tuple[np.ndarray, np.ndarray]:
    """(E (L, p), FCLS abundances (p, N)): the mean of each map's ``purify`` fraction of purest pixels, then
    ``expand`` expansion steps; ``A`` (p, N) may be any abundance-like maps."""
    E = purify_endmembers(Y, A, max(1, int(round(float(purify) * Y.shape[1]))))
    return expansion_steps(Y, E, fcls_abundances(Y, E), expand, threshold, floor)
