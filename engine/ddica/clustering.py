"""Label-free post-processing of the restarts: endmembers by NNLS, reconstruction error, k-means of units."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment, nnls

from ..core.errors import ParameterError
from ..reporting.metrics import reconstruction_rmse


def nnls_endmembers(Y: np.ndarray, A: np.ndarray, ridge: float = 1e-8) -> np.ndarray:
    """Non-negative E (L, p) minimising ||Y - E A||_F for Y (L, n), A (p, n): one NNLS per band on the shared
    Cholesky-reduced p x p system (||A^T e - y||^2 = ||R e - R^-T A y||^2 + const)."""
    Y = np.asarray(Y, dtype=np.float64)
    A = np.asarray(A, dtype=np.float64)
    G = A @ A.T
    G += ridge * max(np.trace(G) / len(G), 1e-12) * np.eye(len(G))
    R = np.linalg.cholesky(G).T  # G = R^T R
    rhs = np.linalg.solve(R.T, A @ Y.T)  # (p, L)
    E = np.empty((Y.shape[0], A.shape[0]))
    for band in range(Y.shape[0]):
        E[band] = nnls(R, rhs[:, band])[0]
    return E


def nnls_reconstruction_rmse(Y: np.ndarray, A: np.ndarray) -> float:
    """RMSE of Y - E A (:func:`engine.reporting.metrics.reconstruction_rmse`) for the NNLS endmembers E of A."""
    return reconstruction_rmse(Y, nnls_endmembers(Y, A), A)


def select_restarts(errors: np.ndarray, keep_fraction: float) -> np.ndarray:
    """Indices of the restarts with the lowest reconstruction errors (at least one), in index order."""
    errors = np.asarray(errors, dtype=float)
    n_keep = max(1, int(round(keep_fraction * len(errors))))
    return np.sort(np.argsort(errors, kind="stable")[:n_keep])


def cluster_units(
    maps: np.ndarray, n_clusters: int, random_state: Optional[int], n_init: int = 20
) -> Tuple[np.ndarray, np.ndarray]:
    """k-means over unit maps (n_units, n_pixels) -> (labels (n_units,), centres (k, n_pixels)), clusters numbered
    by decreasing mean abundance so the order is a function of the data only."""
    from sklearn.cluster import KMeans  # noqa: PLC0415 - slow to import, needed after training only

    maps = np.asarray(maps, dtype=np.float64)
    if n_clusters > len(maps):
        raise ParameterError(f"cannot form {n_clusters} clusters from {len(maps)} unit maps")
    km = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state).fit(maps)
    labels = km.labels_
    centres = np.stack([maps[labels == c].mean(0) for c in range(n_clusters)])
    order = np.argsort(-centres.mean(1), kind="stable")
    relabel = np.empty_like(order)
    relabel[order] = np.arange(n_clusters)
    return relabel[labels], centres[order]


NEAREST_UNITS = 100  # the authors' consensus (plot/k_means_8.py): each centre from the 100 maps nearest it


def nearest_units(
    maps: np.ndarray, labels: np.ndarray, centres: np.ndarray, n_nearest: int = NEAREST_UNITS
) -> np.ndarray:
    """The authors' consensus: each cluster keeps its ``n_nearest`` units nearest its k-means centre (the others
    labelled -1)."""
    out = np.full_like(labels, -1)
    for c in range(len(centres)):
        members = np.flatnonzero(labels == c)
        d = ((maps[members] - centres[c]) ** 2).sum(1)
        out[members[np.argsort(d, kind="stable")[:n_nearest]]] = c
    return out


def matched_clusters(unit_maps: np.ndarray, random_state: Optional[int], n_iter: int = 20) -> np.ndarray:
    """Labels (T, p) when every restart has p units: from k-means centres, Hungarian matching of each restart's
    units alternates with a centre update, so each cluster averages one unit per restart (maps sum to one)."""
    T, p, _ = unit_maps.shape
    _, centres = cluster_units(unit_maps.reshape(T * p, -1), p, random_state)
    labels = np.empty((T, p), dtype=int)
    for _ in range(n_iter):
        for t in range(T):
            cost = ((unit_maps[t][:, None, :] - centres[None]) ** 2).mean(-1)
            rows, cols = linear_sum_assignment(cost)
            labels[t, rows] = cols
        new = np.stack([unit_maps[labels == c].mean(0) for c in range(p)])
        if np.allclose(new, centres):
            break
        centres = new
    order = np.argsort(-centres.mean(1), kind="stable")
    relabel = np.empty_like(order)
    relabel[order] = np.arange(p)
    return relabel[labels]


def combine_units(unit_maps: np.ndarray, labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """Average unit maps (n_units, n) per cluster and renormalise to non-negative, sum-to-one abundances."""
    A = np.stack([unit_maps[labels == c].mean(0) for c in range(n_clusters)])
    A = np.clip(A, 0.0, None)
    s = A.sum(0, keepdims=True)
    return np.where(s > 0, A / np.where(s > 0, s, 1.0), 1.0 / n_clusters)
