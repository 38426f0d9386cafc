"""Exact fully-constrained least squares (FCLS), batched over pixels.

For every pixel y the problem is  min ||y - E a||²  s.t.  a >= 0, sum(a) = 1.
All pixels share E, so the work happens in the p-dimensional Gram space
(G = EᵀE, b = Eᵀy). The solver is a primal active-set method run on many
pixels at once:

1. the sum-to-one least-squares solution on all endmembers is computed for the
   whole block; where it is non-negative it is already optimal (KKT holds);
2. the other pixels start from the Euclidean projection of that solution onto
   the simplex (a feasible point) and iterate the textbook primal active set
   (equality-constrained solve on the working set; ratio test and drop, or add
   the most negative Lagrange multiplier). Pixels are grouped by working-set
   pattern, and each pattern's KKT system is solved once (cached
   pseudo-inverse), so the step is a small matrix product per pattern.

The result is exact up to floating point (no penalty weight, no iteration
tolerance on the objective). A singular Gram matrix (duplicate endmembers) is
handled through the pseudo-inverse: a minimum-norm split among duplicates.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
from sklearn.base import BaseEstimator

from .base import check_cube, valid_mask, pixels_to_maps
from .progress import ProgressCallback, report

DEFAULT_BLOCK = 16384


def project_simplex(V: np.ndarray) -> np.ndarray:
    """Euclidean projection of every column of ``V`` (p, n) onto the unit simplex."""
    p = V.shape[0]
    U = -np.sort(-V, axis=0)
    css = np.cumsum(U, axis=0) - 1.0
    k = np.arange(1, p + 1, dtype=np.float64)[:, None]
    rho = np.count_nonzero(U - css / k > 0, axis=0)  # >= 1 always
    theta = css[rho - 1, np.arange(V.shape[1])] / rho
    return np.maximum(V - theta, 0.0)


class _SimplexLS:
    """Batched exact solver of min ½aᵀGa − bᵀa s.t. a >= 0, 1ᵀa = 1 for a fixed G."""

    def __init__(self, E: np.ndarray, max_iter: Optional[int] = None):
        self.E = E
        self.p = E.shape[1]
        self.G = E.T @ E
        scale = float(np.max(np.diag(self.G))) or 1.0
        self.tol_grad = 1e-11 * scale
        self.tol_neg = 1e-13
        self.max_iter = max_iter if max_iter is not None else 8 * self.p + 20
        self._cache: Dict[int, Tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._bits = (1 << np.arange(self.p, dtype=np.int64))[:, None]
        self.n_iter_ = 0

    def _pattern(self, code: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indices, M, c) with a_S = M b_S + c the sum-to-one LS solution on support ``code``."""
        hit = self._cache.get(code)
        if hit is None:
            idx = np.flatnonzero((code >> np.arange(self.p)) & 1)
            k = idx.size
            kkt = np.zeros((k + 1, k + 1))
            kkt[:k, :k] = self.G[np.ix_(idx, idx)]
            kkt[:k, k] = 1.0
            kkt[k, :k] = 1.0
            inv = np.linalg.pinv(kkt, rcond=1e-13)
            hit = (idx, inv[:k, :k].copy(), inv[:k, k].copy())
            self._cache[code] = hit
        return hit

    def _eqp(self, b: np.ndarray, S: np.ndarray) -> np.ndarray:
        """Sum-to-one LS solution restricted to each column's working set S (p, m)."""
        codes = (S * self._bits).sum(axis=0)
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
        ends = np.r_[starts[1:], codes.size]
        Z = np.zeros_like(b)
        for s, e in zip(starts, ends):
            cols = order[s:e]
            idx, M, c = self._pattern(int(sorted_codes[s]))
            Z[np.ix_(idx, cols)] = M @ b[np.ix_(idx, cols)] + c[:, None]
        return Z

    def solve_gram(self, b: np.ndarray) -> np.ndarray:
        """Solve for every column of b = Eᵀy (p, n); returns A (p, n)."""
        p, n = b.shape
        full = (1 << p) - 1
        idx, M, c = self._pattern(full)
        A = M @ b + c[:, None]
        todo = np.flatnonzero(np.any(A < 0, axis=0))
        if todo.size == 0:
            return A
        bt = b[:, todo]
        a = project_simplex(A[:, todo])
        S = a > 0
        active = np.arange(todo.size)
        it = 0
        while active.size and it < self.max_iter:
            it += 1
            ba, aa, Sa = bt[:, active], a[:, active], S[:, active]
            Z = self._eqp(ba, Sa)
            blocked = np.any((Z < -self.tol_neg) & Sa, axis=0)
            done = np.zeros(active.size, dtype=bool)

            # feasible EQP solution: move there, then check the multipliers
            f = ~blocked
            if f.any():
                zf = np.maximum(Z[:, f], 0.0) * Sa[:, f]
                g = self.G @ zf - ba[:, f]
                Sf = Sa[:, f]
                mu = (g * Sf).sum(axis=0) / Sf.sum(axis=0)
                nu = np.where(Sf, np.inf, g - mu)
                j = np.argmin(nu, axis=0)
                add = nu[j, np.arange(j.size)] < -self.tol_grad
                cols = np.flatnonzero(f)
                aa[:, cols] = zf
                Sa[j[add], cols[add]] = True
                done[cols[~add]] = True

            # infeasible: step to the first blocking bound, drop that index
            if blocked.any():
                cols = np.flatnonzero(blocked)
                ab, zb, Sb = aa[:, cols], Z[:, cols], Sa[:, cols]
                d = zb - ab
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = np.where(Sb & (d < 0), ab / -d, np.inf)
                i = np.argmin(ratio, axis=0)
                alpha = np.clip(ratio[i, np.arange(cols.size)], 0.0, 1.0)
                ab = ab + alpha * d
                ab[i, np.arange(cols.size)] = 0.0
                ab = np.maximum(ab, 0.0) * Sb
                Sb[i, np.arange(cols.size)] = False
                ab *= Sb
                aa[:, cols] = ab
                Sa[:, cols] = Sb

            a[:, active] = aa
            S[:, active] = Sa
            active = active[~done]
        self.n_iter_ = max(self.n_iter_, it)
        a /= a.sum(axis=0, keepdims=True)  # exact ASC despite round-off
        A[:, todo] = a
        return A


def _check_inputs(Y: np.ndarray, E: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    E = np.asarray(E, dtype=np.float64)
    if E.ndim != 2:
        raise ValueError(f"endmembers must be an (L, p) matrix, got shape {E.shape}")
    if not np.all(np.isfinite(E)):
        raise ValueError("endmembers contain NaN or infinite values")
    Y = np.asarray(Y)
    if Y.ndim != 2 or Y.shape[0] != E.shape[0]:
        raise ValueError(f"pixels {Y.shape} and endmembers {E.shape} disagree on the number of bands")
    return Y, E


def _run_blocks(Y, E, block_size, progress, want_rmse):
    Y, E = _check_inputs(Y, E)
    if block_size < 1:
        raise ValueError("block_size must be positive")
    L, n = Y.shape
    solver = _SimplexLS(E)
    A = np.empty((E.shape[1], n))
    rmse = np.empty(n) if want_rmse else None
    report(progress, 0.0, "FCLS")
    for s in range(0, n, block_size):
        e = min(s + block_size, n)
        Yb = np.asarray(Y[:, s:e], dtype=np.float64)
        Ab = solver.solve_gram(E.T @ Yb)
        A[:, s:e] = Ab
        if want_rmse:
            R = Yb - E @ Ab
            rmse[s:e] = np.sqrt(np.einsum("ij,ij->j", R, R) / L)
        report(progress, e / n, f"FCLS: {e}/{n} pixels")
    return A, rmse, solver.n_iter_


def fcls(Y: np.ndarray, E: np.ndarray, block_size: int = DEFAULT_BLOCK,
         progress: ProgressCallback = None) -> np.ndarray:
    """Exact FCLS abundances A (p, N) float64 for pixels Y (L, N) and endmembers E (L, p).

    Y may be float32 (it is converted block by block); a 1-D Y is one pixel.
    """
    single = np.ndim(Y) == 1
    Y2 = np.asarray(Y)[:, None] if single else Y
    A = _run_blocks(Y2, E, block_size, progress, want_rmse=False)[0]
    return A[:, 0] if single else A


class FCLS(BaseEstimator):
    """Fully-constrained (ANC + ASC) least-squares abundances for given endmembers.

    Attributes after ``fit``: ``abundances_`` (p, rows, cols) float32, NaN at
    invalid pixels; ``endmembers_`` (L, p); ``reconstruction_error_`` (rows,
    cols) per-pixel RMSE; ``n_iter_`` (most active-set iterations in a block).
    """

    def __init__(self, endmembers=None, block_size: int = DEFAULT_BLOCK,
                 progress: ProgressCallback = None):
        self.endmembers = endmembers
        self.block_size = block_size
        self.progress = progress

    def fit(self, cube: np.ndarray, mask: Optional[np.ndarray] = None) -> "FCLS":
        if self.endmembers is None:
            raise ValueError("FCLS needs an (L, p) endmember matrix")
        cube = check_cube(cube)
        E = np.asarray(self.endmembers, dtype=np.float64)
        if E.ndim != 2 or E.shape[0] != cube.shape[0]:
            raise ValueError(f"endmembers {E.shape} do not match the image's {cube.shape[0]} bands")
        valid = valid_mask(cube, mask)
        if not valid.any():
            raise ValueError("the image has no valid pixel (all nodata or NaN)")
        Y = cube[:, valid]  # float32 copy; converted to float64 per block
        A, rmse, n_iter = _run_blocks(Y, E, int(self.block_size), self.progress, want_rmse=True)
        self.endmembers_ = E
        self.abundances_ = pixels_to_maps(A, valid)
        self.reconstruction_error_ = pixels_to_maps(rmse[None], valid)[0]
        self.n_iter_ = n_iter
        return self
