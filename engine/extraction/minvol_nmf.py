"""Minimum-volume NMF (Leplat, Gillis & Ang 2019/2020) with abundances on the simplex."""

from __future__ import annotations

from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator

from ..core.base import check_cube, check_n_endmembers, keep_params, pixels_to_maps, valid_mask, valid_positions
from ..core.params import N_ENDMEMBERS, SEED, Choices, Integral, non_negative, positive, validate_params
from ..core.progress import ProgressCallback, report
from .simplex import simplex_lsq


def _fgm_nonneg_quadratic(E: np.ndarray, H: np.ndarray, C: np.ndarray, n_iter: int) -> np.ndarray:
    """min_E>=0 0.5 tr(E H E^T) - tr(E^T C) by projected Nesterov gradient (H (p,p) SPD, C (L,p))."""
    lip = float(np.linalg.eigvalsh(H)[-1])
    step = 1.0 / lip
    Z, t = E.copy(), 1.0
    for _ in range(int(n_iter)):
        E_new = np.maximum(Z - step * (Z @ H - C), 0.0)
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        Z = E_new + ((t - 1.0) / t_new) * (E_new - E)
        E, t = E_new, t_new
    return E


INITS = ("vca", "sivm", "random")  # the starts initial_endmembers knows


def initial_endmembers(Y: np.ndarray, p: int, init: str, random_state: Optional[int]) -> np.ndarray:
    """Endmembers (L, p) to start from: 'vca', 'sivm' (engine.extraction) or 'random' (p random pixels)."""
    if init == "vca":
        from .vca import vca

        E, _ = vca(Y, p, random_state=random_state)
    elif init == "sivm":
        from .sivm import sivm

        E, _ = sivm(Y, p)
    elif init == "random":
        rng = np.random.default_rng(random_state)
        E = Y[:, rng.choice(Y.shape[1], p, replace=False)]
    else:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    return np.maximum(np.asarray(E, dtype=np.float64), 0.0)


class MinVolNMF(BaseEstimator):
    """Minimum-volume NMF: min 0.5||Y - E A||_F^2 + 0.5 lam_ logdet(E^T E + delta_ I), E >= 0, A on the simplex.

    Block coordinate descent with projected fast gradient steps (logdet majorised by its tangent), on the data
    divided by their maximum; the returned abundances are exact FCLS of every valid pixel.

    Parameters
    ----------
    n_endmembers : int, default=3
        Number of endmembers p (at least 2, at most the bands and the valid pixels).
    lam : float, default=0.1
        Volume weight (>= 0), relative to the initial misfit over |logdet| (``lam_``).
    delta : float, default=0.1
        Log-determinant regulariser (> 0), relative to the initial endmembers' mean squared norm (``delta_``).
    max_iter : int, default=300
        Most outer iterations.
    tol : float, default=1e-4
        Stop when E's relative change between outer iterations falls below this (from the sixth on).
    init : {'vca', 'sivm', 'random'}, default='vca'
        Initial endmembers: VCA, SiVM, or p random valid pixels.
    inner_iter : int, default=10
        Fast-gradient steps per block and outer iteration.
    max_fit_pixels : int or None, default=200_000
        Fit E on a random sample of at most this many valid pixels; None fits on all.
    random_state : int or None, default=None
        Seed of the pixel sample and of the 'vca' / 'random' initialisation.
    progress : callable or None, default=None
        ``progress(fraction, message)``, called each iteration; raising ``Cancelled`` stops.

    Attributes
    ----------
    endmembers_ : ndarray of shape (L, p)
        Endmembers, in the data's units.
    abundances_ : ndarray of shape (p, H, W), float32
        FCLS abundances of every valid pixel for ``endmembers_``; NaN off-mask.
    init_endmembers_ : ndarray of shape (L, p)
        The initial endmembers, in the data's units.
    loss_curve_ : ndarray of shape (n_iter_,)
        Objective per outer iteration, in the scaled units.
    n_iter_ : int
        Outer iterations run.
    lam_, delta_ : float
        The volume weight and log-determinant regulariser used.
    reconstruction_error_ : ndarray of shape (H, W)
        Per-pixel RMSE over the bands (NaN off-mask).
    n_fit_pixels_ : int
        Pixels E was fitted on.
    n_features_in_ : int
        Number of bands L seen by ``fit``.
    """

    _parameter_constraints: dict = {
        "n_endmembers": [N_ENDMEMBERS],
        "random_state": [SEED, None],
        "lam": [non_negative()],
        "delta": [positive()],
        "max_iter": [positive(Integral)],
        "tol": [non_negative()],
        "init": [Choices(INITS)],
        "inner_iter": [positive(Integral)],
        "max_fit_pixels": [positive(Integral), None],
    }

    def __init__(
        self,
        n_endmembers: int = 3,
        *,
        lam: float = 0.1,
        delta: float = 0.1,
        max_iter: int = 300,
        tol: float = 1e-4,
        init: str = "vca",
        inner_iter: int = 10,
        max_fit_pixels: Optional[int] = 200_000,
        random_state: Optional[int] = None,
        progress: ProgressCallback = None,
    ):
        keep_params(self, locals())

    def fit(self, cube: np.ndarray, mask: Optional[np.ndarray] = None) -> "MinVolNMF":
        """Unmix the valid pixels of a (bands, rows, cols) cube; ``mask`` (rows, cols) True = valid."""
        from ..abundances.fcls import fcls

        validate_params(self)
        cube = check_cube(cube)
        valid = valid_mask(cube, mask)
        pos, fit_pos = valid_positions(valid, self.max_fit_pixels, self.random_state)  # sampled before float64
        p = check_n_endmembers(self.n_endmembers, cube.shape[0], pos.size)
        flat = cube.reshape(cube.shape[0], -1)
        Y = flat[:, fit_pos].astype(np.float64)
        scale = float(np.abs(Y).max()) or 1.0
        Y /= scale
        report(self.progress, 0.0, f"min-vol NMF: initialising with {self.init}")
        E = initial_endmembers(Y, p, self.init, self.random_state)
        E_init = E.copy()
        A = simplex_lsq(Y, E, n_iter=100)
        E, A, curve = self._solve(Y, E, A)
        del Y, A
        self.n_features_in_ = cube.shape[0]
        self.endmembers_ = E * scale
        self.init_endmembers_ = E_init * scale
        # final abundances: exact FCLS for every valid pixel, block by block
        Y_all = flat[:, pos]
        A = fcls(
            Y_all,
            self.endmembers_,
            progress=lambda f, m: report(self.progress, 0.9 + 0.1 * f, "min-vol NMF: abundances"),
        )
        self.abundances_ = pixels_to_maps(A, valid)
        rmse = np.empty(pos.size)
        for s in range(0, pos.size, 65536):  # chunked: no full float64 copy of the image
            blk = Y_all[:, s : s + 65536].astype(np.float64)
            rmse[s : s + 65536] = np.sqrt(((blk - self.endmembers_ @ A[:, s : s + 65536]) ** 2).mean(axis=0))
        self.reconstruction_error_ = pixels_to_maps(rmse[None], valid)[0]
        self.loss_curve_ = curve
        self.n_iter_ = len(curve)
        self.n_fit_pixels_ = int(fit_pos.size)
        report(self.progress, 1.0, "min-vol NMF: done")
        return self

    def _solve(self, Y: np.ndarray, E: np.ndarray, A: np.ndarray):
        p = E.shape[1]
        eye = np.eye(p)
        sq_y = float((Y**2).sum())
        self.delta_ = float(self.delta * max((E**2).sum(axis=0).mean(), 1e-12))

        def misfit(E, A, gram=None, EtY=None):
            G = E.T @ E if gram is None else gram
            B = E.T @ Y if EtY is None else EtY
            return max(sq_y - 2.0 * float((B * A).sum()) + float(((G @ A) * A).sum()), 0.0)

        logdet0 = np.linalg.slogdet(E.T @ E + self.delta_ * eye)[1]
        self.lam_ = float(self.lam * misfit(E, A) / max(abs(logdet0), 1e-12))
        curve = []
        for it in range(int(self.max_iter)):
            E_prev = E
            # abundances: simplex-constrained least squares, warm-started
            G = E.T @ E
            A = simplex_lsq(Y, E, A, n_iter=self.inner_iter, gram=G)
            # endmembers: logdet majorised at E_k
            P = np.linalg.inv(G + self.delta_ * eye)
            H = A @ A.T + self.lam_ * P
            E = _fgm_nonneg_quadratic(E, H, Y @ A.T, self.inner_iter)
            G = E.T @ E
            loss = 0.5 * misfit(E, A, gram=G) + 0.5 * self.lam_ * np.linalg.slogdet(G + self.delta_ * eye)[1]
            curve.append(float(loss))
            report(self.progress, 0.9 * (it + 1) / self.max_iter, f"min-vol NMF iteration {it + 1}")
            change = np.linalg.norm(E - E_prev) / max(np.linalg.norm(E_prev), 1e-300)
            if it >= 5 and change < self.tol:
                break
        return E, A, np.asarray(curve)
