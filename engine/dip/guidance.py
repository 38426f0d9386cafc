"""Initial estimates ("guidance") for the DIP methods: extractor endmembers and FCLS abundances."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from ..core.errors import InputError, ParameterError
from ..extraction.nfindr import nfindr
from ..extraction.refinement import endmembers_from_maps, expansion_steps, fcls_abundances
from ..extraction.sivm import sivm
from ..extraction.vca import vca

_EXTRACT = {"sivm": sivm, "vca": vca, "nfindr": nfindr}
EXTRACTORS = tuple(_EXTRACT)


def extract_endmembers(
    Y: np.ndarray, n_endmembers: int, extractor: str = "sivm", random_state: Optional[int] = None, denoise: bool = False
) -> Tuple[np.ndarray, np.ndarray]:
    """Endmembers (L, p) and the column indices of the chosen pixels, by SiVM, VCA or N-FINDR; ``denoise``
    (SiVM only): rank-p SVD denoising first, as in UnDIP and the BUDDIP code."""
    name = str(extractor).lower()
    if name not in EXTRACTORS:
        raise ParameterError(f"unknown endmember extractor {extractor!r}; choose one of {', '.join(EXTRACTORS)}")
    func = _EXTRACT[name]
    if denoise and name != "sivm":
        raise ParameterError("SVD denoising is implemented for the SiVM extractor only")
    if name == "sivm":
        E, idx = func(Y, n_endmembers, denoise=denoise)
    else:
        E, idx = func(Y, n_endmembers, random_state=random_state)
    return np.asarray(E, dtype=np.float64), np.asarray(idx)


def check_endmembers(E: np.ndarray, n_bands: int, n_endmembers: Optional[int] = None) -> np.ndarray:
    """Validate user-given endmembers (L, p): shape, finiteness; return float64."""
    E = np.asarray(E, dtype=np.float64)
    if E.ndim != 2 or E.shape[0] != n_bands:
        raise InputError(f"endmembers must be a (bands, endmembers) matrix with {n_bands} rows, got shape {E.shape}")
    if n_endmembers is not None and E.shape[1] != n_endmembers:
        raise ParameterError(f"{E.shape[1]} endmembers were given but n_endmembers is {n_endmembers}")
    if not np.all(np.isfinite(E)):
        raise InputError("the given endmembers contain NaN or infinite values")
    return E


def refine_guidance(
    Y: np.ndarray, E: np.ndarray, purify: float, expand: int, threshold: float = 0.8
) -> Tuple[np.ndarray, np.ndarray]:
    """Refined endmembers (L, p) and their FCLS abundances (p, N): mean of the ``purify`` fraction of purest
    pixels, then ``expand`` expansion steps (both 0: ``E`` unchanged, the paper's guidance)."""
    A = fcls_abundances(Y, E)
    if purify and purify > 0:
        return endmembers_from_maps(Y, A, purify, expand, threshold)
    return expansion_steps(Y, E, A, expand, threshold)
