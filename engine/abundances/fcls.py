"""Exact fully-constrained least squares (FCLS), batched over pixels: min ||y - E a||² s.t. a >= 0, sum(a) = 1.

An active-set method in the Gram space; a singular Gram matrix gives the minimum-norm (pseudo-inverse) split.
"""

from __future__ import annotations

import warnings
from typing import Dict, Optional, Tuple

import numpy as np
from sklearn.base import BaseEstimator

from ..core.base import check_cube, keep_params, pixels_to_maps, valid_mask
from ..core.errors import InputError, ParameterError
from ..core.progress import ProgressCallback, report

DEFAULT_BLOCK = 65536  # pixels per solve: small arrays (p x block); larger blocks amortise per-block overhead


def project_simplex(V: np.ndarray) -> np.ndarray:
    """Euclidean projection of every column of ``V`` (p, n) onto the unit simplex."""
    p = V.shape[0]
    U = -np.sort(-V, axis=0)
    css = np.cumsum(U, axis=0) - 1.0
    k = np.arange(1, p + 1, dtype=np.float64)[:, None]
    rho = np.count_nonzero(U - css / k > 0, axis=0)  # >= 1 always
    theta = css[rho - 1, np.arange(V.shape[1])] / rho
    return np.maximum(V - theta, 0.0)


def _checked_inverse(K: np.ndarray) -> np.ndarray:
    """Inverse of each (k, k) matrix of K; pseudo-inverse where LU is not trustworthy."""
    eye = np.eye(K.shape[-1])
    try:
        Kinv = np.linalg.inv(K)
        with np.errstate(invalid="ignore", over="ignore"):
            bad = ~(np.abs(K @ Kinv - eye).max(axis=(1, 2)) < 1e-9)
    except np.linalg.LinAlgError:
        Kinv, bad = np.empty_like(K), np.ones(len(K), dtype=bool)
    if bad.any():
        Kinv[bad] = np.linalg.pinv(K[bad], rcond=1e-13)
    return Kinv


class _SimplexLS:
    """Batched exact solver of min ½aᵀGa − bᵀa s.t. a >= 0, 1ᵀa = 1 for a fixed G."""

    def __init__(self, E: np.ndarray, max_iter: Optional[int] = None):
        self.E = E
        self.p = E.shape[1]
        if self.p > 52:  # working sets are coded as exact integers in float64
            raise ParameterError(f"FCLS supports at most 52 endmembers, got {self.p}")
        self.G = E.T @ E
        scale = float(np.max(np.diag(self.G))) or 1.0
        self.tol_grad = 1e-11 * scale
        self.tol_neg = 1e-13
        self.max_iter = max_iter if max_iter is not None else 8 * self.p + 20
        self.max_guesses = 2 * self.p
        self._scale = scale
        self._row: Dict[int, int] = {}  # working-set code -> row of the tables below
        self._M = np.zeros((0, self.p, self.p))
        self._c = np.zeros((0, self.p))
        self._bits = (1 << np.arange(self.p, dtype=np.int64)).astype(np.float64)
        # code -> row lookup without hashing (up to 2^16 codes); the dict serves larger p
        self._lut = np.full(1 << self.p, -1, dtype=np.intp) if self.p <= 16 else None
        self.n_iter_ = 0

    def _add_patterns(self, codes) -> None:
        """Tabulate (M, c) with a = M b + c the sum-to-one LS solution on each new support code (zero off it)."""
        new = [c for c in codes if c not in self._row]
        if not new:
            return
        p = self.p
        on = ((np.array(new, dtype=np.int64)[:, None] >> np.arange(p)) & 1).astype(bool)  # (k, p)
        pair = on[:, :, None] & on[:, None, :]
        K = np.zeros((len(new), p + 1, p + 1))
        K[:, :p, :p] = np.where(pair, self.G / self._scale, 0.0)
        K[:, :p, p] = on
        K[:, p, :p] = on
        K[:, np.arange(p), np.arange(p)] += ~on
        Kinv = _checked_inverse(K)
        M = np.where(pair, Kinv[:, :p, :p], 0.0) / self._scale
        c = np.where(on, Kinv[:, :p, p], 0.0)
        for i, code in enumerate(new):
            self._row[code] = self._M.shape[0] + i
            if self._lut is not None:
                self._lut[code] = self._M.shape[0] + i
        self._M = np.concatenate([self._M, M])
        self._c = np.concatenate([self._c, c])

    def _pattern(self, code: int) -> Tuple[np.ndarray, np.ndarray]:
        """(M (p, p), c (p,)) for one support code."""
        self._add_patterns([code])
        r = self._row[code]
        return self._M[r], self._c[r]

    def _eqp(self, b: np.ndarray, S: np.ndarray) -> np.ndarray:
        """Sum-to-one LS solution restricted to each column's working set S (p, m)."""
        codes = (self._bits @ S).astype(np.int64)
        if self._lut is not None:
            rows = self._lut[codes]
            missing = rows < 0
            if missing.any():
                self._add_patterns(np.unique(codes[missing]).tolist())
                rows = self._lut[codes]
        else:
            uniq, inv = np.unique(codes, return_inverse=True)
            uniq = uniq.tolist()
            self._add_patterns(uniq)
            rows = np.array([self._row[u] for u in uniq])[inv]
        return np.einsum("nij,jn->in", self._M[rows], b, optimize=False) + self._c[rows].T

    def _kkt(self, Z: np.ndarray, b: np.ndarray, S: np.ndarray):
        """KKT test of each column's EQP solution Z on its working set S (exact: the QP is convex).

        Returns (optimal, infeasible, feasible part of Z, multipliers of the bounds off S, +inf on S).
        """
        infeasible = np.any((Z < -self.tol_neg) & S, axis=0)
        zf = np.maximum(Z, 0.0) * S
        g = self.G @ zf - b
        mu = (g * S).sum(axis=0) / S.sum(axis=0)
        nu = np.where(S, np.inf, g - mu)
        optimal = ~infeasible & ~np.any(nu < -self.tol_grad, axis=0)
        return optimal, infeasible, zf, nu

    def solve_gram(self, b: np.ndarray) -> np.ndarray:
        """A (p, n) for every column of b = Eᵀy (p, n): support guessing, then the primal active set if it cycles."""
        p, n = b.shape
        full = (1 << p) - 1
        M, c = self._pattern(full)
        A = M @ b + c[:, None]
        todo = np.flatnonzero(np.any(A < 0, axis=0))
        if todo.size == 0:
            return A
        bt = b[:, todo]
        S = A[:, todo] > 0
        res = np.empty_like(bt)
        ids = np.arange(todo.size)
        guesses = 0
        while ids.size and guesses < self.max_guesses:
            guesses += 1
            Z = self._eqp(bt, S)
            optimal, infeasible, zf, nu = self._kkt(Z, bt, S)
            if optimal.any():
                res[:, ids[optimal]] = zf[:, optimal]
                keep = ~optimal
                ids, bt, S, Z, nu, infeasible = (
                    ids[keep],
                    bt[:, keep],
                    S[:, keep],
                    Z[:, keep],
                    nu[:, keep],
                    infeasible[keep],
                )
            if not ids.size:
                break
            cols = np.arange(ids.size)
            added = S.copy()
            added[np.argmin(nu, axis=0), cols] = True
            S = np.where(infeasible, S & (Z >= -self.tol_neg), added)
            empty = ~S.any(axis=0)
            S[np.argmax(Z, axis=0)[empty], cols[empty]] = True
        it = 0
        if ids.size:
            res[:, ids], it = self._primal(bt)
        self.n_iter_ = max(self.n_iter_, guesses + it)
        res /= res.sum(axis=0, keepdims=True)  # exact ASC despite round-off
        A[:, todo] = res
        return A

    def _primal(self, bt: np.ndarray) -> Tuple[np.ndarray, int]:
        """Textbook primal active set from the simplex projection of the sum-to-one solution."""
        M, c = self._pattern((1 << self.p) - 1)
        a = project_simplex(M @ bt + c[:, None])
        S = a > 0
        ids = np.arange(bt.shape[1])
        res = np.empty_like(a)
        it = 0
        while ids.size and it < self.max_iter:
            it += 1
            m = ids.size
            cols = np.arange(m)
            Z = self._eqp(bt, S)
            # feasible EQP solution: move there; add the most negative multiplier, if any
            done, blocked, zf, nu = self._kkt(Z, bt, S)
            j = np.argmin(nu, axis=0)
            add = ~blocked & ~done

            # infeasible: step to the first blocking bound and drop that index
            d = Z - a
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(S & (d < 0), a / -d, np.inf)
            i = np.argmin(ratio, axis=0)
            alpha = np.clip(ratio[i, cols], 0.0, 1.0)
            S[i[blocked], cols[blocked]] = False
            S[j[add], cols[add]] = True
            a = np.where(blocked, np.maximum(a + alpha * d, 0.0) * S, zf)

            if done.any():
                res[:, ids[done]] = a[:, done]
                keep = ~done
                ids, bt, a, S = ids[keep], bt[:, keep], a[:, keep], S[:, keep]
        if ids.size:  # max_iter reached (cycling on degenerate data): keep the feasible iterate
            warnings.warn(
                f"FCLS: {ids.size} pixel(s) stopped at max_iter={self.max_iter}; "
                "their abundances are feasible but may be slightly sub-optimal",
                RuntimeWarning,
            )
            res[:, ids] = a
        return res, it


def _check_inputs(Y: np.ndarray, E: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    E = np.asarray(E, dtype=np.float64)
    if E.ndim != 2:
        raise ValueError(f"endmembers must be an (L, p) matrix, got shape {E.shape}")
    if not np.all(np.isfinite(E)):
        raise InputError("endmembers contain NaN or infinite values")
    Y = np.asarray(Y)
    if Y.ndim != 2 or Y.shape[0] != E.shape[0]:
        raise InputError(f"pixels {Y.shape} and endmembers {E.shape} disagree on the number of bands")
    return Y, E


def _rhs(Y: np.ndarray, s: int, e: int, Et: np.ndarray, want_sq: bool, chunk: int = 2048):
    """b = Eᵀy (p, m) for pixels s:e, and Σ y² per pixel if asked; non-float64 pixels converted in chunks."""
    b = np.empty((Et.shape[0], e - s))
    sq = np.empty(e - s) if want_sq else None
    step = (e - s) if Y.dtype == np.float64 else chunk
    for c0 in range(s, e, step):
        c1 = min(c0 + step, e)
        Yc = np.asarray(Y[:, c0:c1], dtype=np.float64)
        b[:, c0 - s : c1 - s] = Et @ Yc
        if want_sq:
            sq[c0 - s : c1 - s] = np.einsum("ij,ij->j", Yc, Yc)
    return b, sq


def _run_blocks(Y, E, block_size, progress, want_rmse):
    Y, E = _check_inputs(Y, E)
    if block_size < 1:
        raise ValueError("block_size must be positive")
    L, n = Y.shape
    solver = _SimplexLS(E)
    Et = np.ascontiguousarray(E.T)
    A = np.empty((E.shape[1], n))
    rmse = np.empty(n) if want_rmse else None
    report(progress, 0.0, "FCLS")
    for s in range(0, n, block_size):
        e = min(s + block_size, n)
        b, sq = _rhs(Y, s, e, Et, want_rmse)
        Ab = solver.solve_gram(b)
        A[:, s:e] = Ab
        if want_rmse:
            # ||y - Ea||² = yᵀy - 2 aᵀb + aᵀGa: no second pass over the pixels
            r2 = sq - 2.0 * np.einsum("ij,ij->j", Ab, b) + np.einsum("ij,ij->j", Ab, solver.G @ Ab)
            rmse[s:e] = np.sqrt(np.maximum(r2, 0.0) / L)
        report(progress, e / n, f"FCLS: {e}/{n} pixels")
    return A, rmse, solver.n_iter_


def fcls(
    Y: np.ndarray, E: np.ndarray, block_size: int = DEFAULT_BLOCK, progress: ProgressCallback = None
) -> np.ndarray:
    """Exact FCLS abundances A (p, N) float64 for pixels Y (L, N) (a 1-D Y is one pixel) and endmembers E (L, p)."""
    single = np.ndim(Y) == 1
    Y2 = np.asarray(Y)[:, None] if single else Y
    A = _run_blocks(Y2, E, block_size, progress, want_rmse=False)[0]
    return A[:, 0] if single else A


class FCLS(BaseEstimator):
    """Fully-constrained (ANC + ASC) least-squares abundances for given endmembers.

    Parameters
    ----------
    endmembers : array-like of shape (L, p)
        Endmember spectra as columns, one row per band of the cube; required.
    block_size : int, default=DEFAULT_BLOCK
        Pixels solved at a time (memory, not the result, depends on it).
    progress : callable or None, default=None
        ``progress(fraction, message)`` after each block; raising ``Cancelled`` stops.

    Attributes
    ----------
    abundances_ : ndarray of shape (p, H, W), float32
        Abundances, non-negative and summing to one per pixel; NaN at invalid pixels.
    endmembers_ : ndarray of shape (L, p)
        The endmembers used, as float64.
    reconstruction_error_ : ndarray of shape (H, W)
        Per-pixel RMSE of the reconstruction over the bands (NaN at invalid pixels).
    n_iter_ : int
        Most active-set iterations needed in a block.
    n_features_in_ : int
        Number of bands L seen by ``fit``.
    """

    def __init__(self, endmembers=None, *, block_size: int = DEFAULT_BLOCK, progress: ProgressCallback = None):
        keep_params(self, locals())

    def fit(self, cube: np.ndarray, mask: Optional[np.ndarray] = None) -> "FCLS":
        """Solve the abundances of every valid pixel of ``cube`` (L, H, W); ``mask`` (H, W) True = valid."""
        if self.endmembers is None:
            raise ValueError("FCLS needs an (L, p) endmember matrix")
        cube = check_cube(cube)
        E = np.asarray(self.endmembers, dtype=np.float64)
        if E.ndim != 2 or E.shape[0] != cube.shape[0]:
            raise InputError(f"endmembers {E.shape} do not match the image's {cube.shape[0]} bands")
        valid = valid_mask(cube, mask)
        if not valid.any():
            raise InputError("the image has no valid pixel (all nodata or NaN)")
        Y = cube[:, valid]  # float32 copy; converted to float64 per block
        A, rmse, n_iter = _run_blocks(Y, E, int(self.block_size), self.progress, want_rmse=True)
        self.n_features_in_ = cube.shape[0]
        self.endmembers_ = E
        self.abundances_ = pixels_to_maps(A, valid)
        self.reconstruction_error_ = pixels_to_maps(rmse[None], valid)[0]
        self.n_iter_ = n_iter
        return self


RMSE_STRIDE = 16  # the streamed run's RMSE from every 16th pixel: a full residual would cost as much as FCLS itself
MAX_NOISE_PIXELS = 20_000  # pixels kept for the poor-fit warning's noise estimate


class RasterFCLS:
    """FCLS (or peak-normalised shares) of every pixel of a raster, streamed block by block.

    ``run`` writes the abundance maps (and, with ``error_path``, the per-pixel RMSE) and keeps, from every
    ``RMSE_STRIDE``-th pixel, what the report and the poor-fit warning need: ``rmse_`` (pooled RMSE),
    ``sample_`` (up to ``MAX_NOISE_PIXELS`` pixels, for the noise estimate) and ``brightness_`` (the pixels'
    brightness over their reconstruction, None when nothing was fitted). ``endmembers_`` are the endmembers
    used (peak-normalised under that convention).
    """

    def __init__(self, endmembers, convention: str = "fractions"):
        from .convention import CONVENTIONS, peak_normalise

        if convention not in CONVENTIONS:
            raise ParameterError(f"abundance convention must be one of {CONVENTIONS}, got {convention!r}")
        self.peak = convention == "peak_normalised"
        E = np.asarray(endmembers, dtype=np.float64)
        self.endmembers_ = peak_normalise(E) if self.peak else E

    def solve(self, Y: np.ndarray):
        """Abundances (p, n) in the convention and each pixel's brightness (n,): Y ~ E (A * brightness)."""
        from .convention import peak_normalised_abundances

        E = self.endmembers_
        return peak_normalised_abundances(Y, E) if self.peak else (fcls(Y, E), np.ones(Y.shape[1]))

    def _abundances(self, Y: np.ndarray) -> np.ndarray:
        from ..reporting.metrics import per_pixel_rmse

        A, scale = self.solve(Y)
        Ys, As = Y[:, ::RMSE_STRIDE], A[:, ::RMSE_STRIDE] * scale[::RMSE_STRIDE]
        Yhat = self.endmembers_ @ As
        self._rmse.append(per_pixel_rmse(Ys, self.endmembers_, As))
        self._dot += float(np.sum(Ys * Yhat))
        self._norm += float(np.sum(Yhat * Yhat))
        if sum(b.shape[1] for b in self._sample) < MAX_NOISE_PIXELS:
            self._sample.append(np.asarray(Ys, dtype=np.float64))
        return A

    def _error(self, Y: np.ndarray) -> np.ndarray:
        from ..reporting.metrics import per_pixel_rmse

        A, scale = self.solve(Y)
        return per_pixel_rmse(Y, self.endmembers_, A * scale)[None]

    def run(self, src, dst, names, error_path=None, progress: ProgressCallback = None, **stream) -> "RasterFCLS":
        """Stream ``src`` into ``dst`` (``stream``: ``apply_blockwise``'s bands, scale, max_block_bytes)."""
        from ..core.progress import sub_progress
        from ..io.blockwise import apply_blockwise
        from ..reporting.metrics import pooled_rmse

        self._rmse, self._sample, self._dot, self._norm = [], [], 0.0, 0.0
        split = 0.5 if error_path else 1.0
        p = self.endmembers_.shape[1]
        apply_blockwise(src, dst, self._abundances, p, names, progress=sub_progress(progress, 0, split), **stream)
        if error_path:
            apply_blockwise(
                src, error_path, self._error, 1, ["rmse"], progress=sub_progress(progress, split, 1), **stream
            )
        self.rmse_ = pooled_rmse(np.concatenate(self._rmse)) if self._rmse else 0.0
        self.sample_ = np.hstack(self._sample) if self._sample else np.empty((self.endmembers_.shape[0], 0))
        self.brightness_ = self._dot / self._norm if self._norm > 0 else None
        del self._rmse, self._sample, self._dot, self._norm
        return self
