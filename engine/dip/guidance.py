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
