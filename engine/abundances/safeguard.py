"""Label-free checks for a degenerate blind-unmixing solution, each with what to try: duplicate endmembers, empty
or constant maps, endmembers zero over a run of bands, a fit far worse than VCA + FCLS, disagreeing restarts.
"""

from __future__ import annotations

from typing import List, Optional

import numpy as np

CLOSE_DEG = 3.0  # two endmembers closer than this (spectral angle) are one material found twice
EMPTY_MAX = 0.05  # a map whose largest abundance is below this holds the material nowhere
CONSTANT_STD = 0.01  # a map whose standard deviation is below this says nothing about where the material is
ZERO_RUN_BANDS = 5  # an endmember zero over this many consecutive bands where the data are not
RECON_FACTOR = 2.0  # reconstruction RMSE this many times that of VCA + FCLS on the same pixels
MIN_AGREEMENT = 0.35  # restarts' maps correlating with the consensus below this (median) disagree
MAX_PIXELS = 5000  # pixels the VCA + FCLS comparison uses (a random sample)


def zero_runs(Y: np.ndarray, E: np.ndarray, rel: float = 1e-6) -> np.ndarray:
    """Longest run of bands (per endmember, (p,)) over which E is zero while the data's mean is not."""
    Y = np.asarray(Y, dtype=np.float64)
    E = np.asarray(E, dtype=np.float64)
    level = np.abs(Y).mean(axis=1)  # (L,)
    data_on = level > rel * max(float(level.max()), 1e-300)
    out = np.zeros(E.shape[1], dtype=int)
    for j in range(E.shape[1]):
        zero = (np.abs(E[:, j]) <= rel * max(float(np.abs(E[:, j]).max()), 1e-300)) & data_on
        run = best = 0
        for z in zero:
            run = run + 1 if z else 0
            best = max(best, run)
        out[j] = best
    return out


def restart_agreement(unit_maps: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per map (p,), the median over restarts of its correlation with the consensus map (1: all agree).

    ``unit_maps`` (T, K, n) are the restarts' maps, ``labels`` (T, K) each unit's map (-1: none).
    """
    unit_maps = np.asarray(unit_maps, dtype=np.float64)
    labels = np.asarray(labels)
    p = int(labels.max()) + 1
    out = np.zeros(p)
    for c in range(p):
        members = unit_maps[labels == c]  # (m, n)
        if len(members) < 2:
            out[c] = 1.0
            continue
        consensus = members.mean(0)
        a = members - members.mean(1, keepdims=True)
        b = consensus - consensus.mean()
        den = np.linalg.norm(a, axis=1) * np.linalg.norm(b)
        out[c] = float(np.median(np.where(den > 0, a @ b / np.where(den > 0, den, 1.0), 0.0)))
    return out


def _angles_deg(E: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(E, axis=0)
    cos = (E.T @ E) / np.maximum(np.outer(n, n), 1e-300)
    ang = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    np.fill_diagonal(ang, np.inf)
    return ang


def vca_fcls_rmse(Y: np.ndarray, p: int, random_state: Optional[int] = 0) -> float:
    """Reconstruction RMSE of VCA + FCLS with p endmembers on pixels Y (L, n)."""
    from ..extraction.vca import vca  # noqa: PLC0415
    from ..reporting.metrics import reconstruction_rmse  # noqa: PLC0415
    from .fcls import fcls  # noqa: PLC0415

    E, _ = vca(Y, p, random_state=random_state)
    return reconstruction_rmse(Y, E, fcls(Y, E))


def check_solution(
    Y: np.ndarray,
    E: np.ndarray,
    A: np.ndarray,
    *,
    agreement: Optional[np.ndarray] = None,
    compare_vca: bool = True,
    random_state: Optional[int] = 0,
) -> List[str]:
    """Sentences warning of a degenerate solution for pixels Y (L, n), E (L, p), A (p, n); [] when none.

    ``agreement`` (p,): :func:`restart_agreement`, for methods with restarts.
    """
    Y = np.asarray(Y, dtype=np.float64)
    E = np.asarray(E, dtype=np.float64)
    A = np.asarray(A, dtype=np.float64)
    p = E.shape[1]
    out = []
    ang = _angles_deg(E)
    i, j = np.unravel_index(np.argmin(ang), ang.shape)
    if p > 1 and ang[i, j] < CLOSE_DEG:
        out.append(
            f"endmembers {i + 1} and {j + 1} are {ang[i, j]:.1f} degrees apart (one material found twice): "
            "try fewer endmembers, another seed, or a pure-pixel method (VCA, SiVM) to compare"
        )
    finite = np.isfinite(A).all(0)
    out += _map_warnings(A[:, finite])
    runs = zero_runs(Y, E)
    for k in np.flatnonzero(runs >= ZERO_RUN_BANDS):
        out.append(
            f"endmember {k + 1} is zero over {runs[k]} consecutive bands where the data are not: a clipped "
            "least-squares readout, not a material; try another seed or the purest-pixel endmembers"
        )
    if agreement is not None:
        for k in np.flatnonzero(np.asarray(agreement) < MIN_AGREEMENT):
            out.append(
                f"the restarts disagree on map {k + 1} (median correlation with the consensus {agreement[k]:.2f}): "
                "the result depends on the seed; try more restarts or compare two seeds"
            )
    if compare_vca and Y.shape[1] > p:
        out += _vca_comparison(Y, E, A, finite, random_state)
    return out


def _map_warnings(A: np.ndarray) -> List[str]:
    """Warnings about empty or nearly constant maps among the abundances ``A`` (p, n) of finite pixels."""
    out = []
    for k, a in enumerate(A):
        if a.size and a.max() < EMPTY_MAX:
            out.append(
                f"map {k + 1} is empty (at most {a.max():.3f} anywhere): the material is not in the scene; "
                "try fewer endmembers or another seed"
            )
        elif a.size and a.std() < CONSTANT_STD:
            out.append(
                f"map {k + 1} is nearly constant (standard deviation {a.std():.4f}): it does not locate a material; "
                "try another seed, more restarts, or fewer endmembers"
            )
    return out


def _vca_comparison(Y, E, A, finite, random_state) -> List[str]:
    """A warning when the reconstruction is much worse than VCA + FCLS's on (a sample of) the same pixels."""
    from ..reporting.metrics import reconstruction_rmse  # noqa: PLC0415

    idx = np.arange(Y.shape[1])
    if len(idx) > MAX_PIXELS:
        idx = np.sort(np.random.default_rng(random_state).choice(len(idx), MAX_PIXELS, replace=False))
    idx = idx[finite[idx]]
    ours = reconstruction_rmse(Y[:, idx], E, A[:, idx])
    ref = vca_fcls_rmse(Y[:, idx], E.shape[1], random_state)
    if ours > RECON_FACTOR * ref:
        return [
            f"the reconstruction RMSE ({ours:.4g}) is {ours / ref:.1f} times that of VCA + FCLS on the same "
            f"pixels ({ref:.4g}): the endmembers do not span the data; try another seed or VCA + FCLS"
        ]
    return []
