"""Label-free refinement of endmembers from abundance maps: purest-pixel means and expansion steps.

Used by BUDDIP (to refine its extracted first guess) and by DDICA (to turn its abundance maps
into endmembers): a map says which pixels are purest in a material; their mean spectrum is a
low-noise endmember, and expansion steps then undo the inward pull of averaging mixed pixels.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np


def fcls_abundances(Y: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Exact FCLS abundances (p, N) of the pixels Y (L, N) for the endmembers E (L, p)."""
    from ..abundances.fcls import fcls  # noqa: PLC0415 - keeps module import light and order-independent

    return np.asarray(fcls(Y, E), dtype=np.float64)


def purify_endmembers(Y: np.ndarray, A: np.ndarray, n_pixels: int) -> np.ndarray:
    """Average, for each endmember, the ``n_pixels`` pixels with the largest abundance of it.

    A label-free denoising of extracted endmembers: a single extracted pixel carries its full
    noise, the mean of the purest pixels much less. ``Y`` (L, N), ``A`` (p, N) FCLS abundances.
    """
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
    """One step that moves each endmember so the near-pure pixels of it are explained without residual.

    For endmember j take the pixels S_j whose FCLS abundance of j is at least ``threshold`` (at
    least ``min_fraction`` of the pixels: the top ones if fewer pass). On S_j, Y ~ E A, so with
    the set means Ybar_j and Abar_j the p equations ``E [Abar_1 .. Abar_p] = [Ybar_1 .. Ybar_p]``
    give ``E_new = E + Rbar Abar^-1`` (Rbar: the mean FCLS residuals). Where the data stick out
    of the current simplex (no pure pixels in the scene, or an averaged endmember), the vertex
    moves out towards them; where the simplex already encloses the data it barely moves.
    Label-free. ``floor`` = 0: the result is clipped at 0, which zeroes every band the step
    overshoots (a dark endmember such as water, pushed below zero over a run of bands); ``floor`` > 0:
    each endmember moves along its step only as far as keeps every band at or above ``floor`` times
    its value before the step, so its shape stays a blend of the old and new spectra and no band
    reaches zero. ``Y`` (L, N), ``E`` (L, p), ``A`` (p, N) FCLS abundances.
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
    """Endmembers (L, p) as the mean of each map's ``purify`` fraction of purest pixels, then
    ``expand`` expansion steps; returns them with their FCLS abundances (p, N).

    ``A`` (p, N) can be any abundance-like maps (FCLS abundances, DDICA's network outputs);
    ``floor``: see :func:`expand_endmembers`.
    """
    E = purify_endmembers(Y, A, max(1, int(round(float(purify) * Y.shape[1]))))
    return expansion_steps(Y, E, fcls_abundances(Y, E), expand, threshold, floor)
