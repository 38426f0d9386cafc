"""Projection onto the probability simplex and simplex-constrained least squares (fast gradient)."""

from __future__ import annotations

import numpy as np


def project_simplex_columns(V: np.ndarray) -> np.ndarray:
    """Euclidean projection of every column of V (p, n) onto {a >= 0, sum(a) = 1} (Michelot: at most p passes)."""
    V = np.asarray(V, dtype=np.float64)
    p = V.shape[0]
    theta = (V.sum(axis=0) - 1.0) / p
    for _ in range(p + 1):
        active = V > theta
        new = ((V * active).sum(axis=0) - 1.0) / active.sum(axis=0)  # the largest entry is always active
        if np.array_equal(new, theta):
            break
        theta = new
    return np.maximum(V - theta, 0.0)


def simplex_lsq(
    Y: np.ndarray,
    E: np.ndarray,
    A: np.ndarray | None = None,
    n_iter: int = 50,
    gram: np.ndarray | None = None,
    EtY: np.ndarray | None = None,
) -> np.ndarray:
    """Approximately min ||Y - E A||_F^2 over A (p, n) with columns on the simplex (Nesterov fast gradient).

    A is the warm start (uniform if None); ``gram`` = E^T E and ``EtY`` = E^T Y spare recomputing them.
    """
    G = E.T @ E if gram is None else gram
    B = E.T @ Y if EtY is None else EtY
    p, n = B.shape
    A = np.full((p, n), 1.0 / p) if A is None else project_simplex_columns(A)
    lip = float(np.linalg.eigvalsh(G)[-1])
    if lip <= 0:
        return A
    step = 1.0 / lip
    Z, t = A.copy(), 1.0
    for _ in range(int(n_iter)):
        A_new = project_simplex_columns(Z - step * (G @ Z - B))
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        Z = A_new + ((t - 1.0) / t_new) * (A_new - A)
        A, t = A_new, t_new
    return A
