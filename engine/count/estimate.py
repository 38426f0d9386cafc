"""Number of endmembers: the signal-subspace dimension (HySime; HFC / NWHFC virtual dimensionality), or the
count FCLS unmixing needs ('reconstruction', the default: ``count.reconstruction``)."""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
from scipy.stats import norm
from sklearn.base import BaseEstimator

from ..core.base import check_cube, keep_params, valid_mask, valid_positions
from ..core.errors import InputError, ParameterError
from ..core.params import N_ENDMEMBERS, SEED, Choices, Integral, Interval, Real, validate_params
from ..core.progress import ProgressCallback, report, sub_progress
from .reconstruction import DEFAULT_MAX_ENDMEMBERS, DEFAULT_MIN_GAIN, noise_rms, reconstruction_count

MAX_PIXELS = 100_000
BAND_SCALE_RATIO = 1e6  # a band this far from the median band's RMS is on another scale
OUTLIER_MADS = 20.0  # pixels whose norm is this many robust SDs above the median are left out


def _sample(Y: np.ndarray, max_pixels: Optional[int], random_state: Optional[int]) -> np.ndarray:
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim != 2 or Y.shape[0] < 2:
        raise ValueError(f"expected an (L, N) pixel matrix with L >= 2, got shape {Y.shape}")
    if not np.all(np.isfinite(Y)):
        raise InputError("the pixel matrix contains NaN or infinite values")
    if max_pixels is not None and Y.shape[1] > max_pixels:
        cols = np.sort(np.random.default_rng(random_state).choice(Y.shape[1], max_pixels, replace=False))
        Y = Y[:, cols]
    return _robust(Y)


def _robust(Y: np.ndarray) -> np.ndarray:
    """Y divided by its typical band scale, without outlier pixels; refuses bands on a wildly different scale.

    The counts' fixed regularisations depend on the scale, and one extreme pixel dominates the correlations.
    """
    norms = np.linalg.norm(Y, axis=0)
    med = np.median(norms)
    mad = 1.4826 * np.median(np.abs(norms - med))
    if mad > 0:
        keep = norms <= med + OUTLIER_MADS * mad
        if keep.sum() > Y.shape[0]:
            Y = Y[:, keep]
    band_rms = np.sqrt(np.mean(Y**2, axis=1))
    typical = float(np.median(band_rms))
    if typical == 0 or not np.isfinite(typical):
        raise InputError("most bands are zero everywhere: there is no signal to count endmembers in")
    odd = np.flatnonzero((band_rms > BAND_SCALE_RATIO * typical) | (band_rms < typical / BAND_SCALE_RATIO))
    if odd.size:
        raise InputError(
            f"band(s) {', '.join(str(i + 1) for i in odd[:5])} of the {Y.shape[0]} used are on a scale "
            f"more than {BAND_SCALE_RATIO:g} times off the others (a wrong scale/offset or a broken "
            "band): drop them (BAD_BANDS)"
        )
    return Y / typical


def estimate_noise(Y: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Noise by regressing each band on the others: (noise W (L, N), per-band noise variance (L,))."""
    L, N = Y.shape
    RR = Y @ Y.T
    P = np.linalg.pinv(RR + 1e-6 * np.eye(L))
    beta = -P / np.diag(P)[:, None]
    np.fill_diagonal(beta, 0.0)
    W = Y - beta @ Y
    return W, np.einsum("ij,ij->i", W, W) / N


def hysime(
    Y: np.ndarray, max_pixels: Optional[int] = MAX_PIXELS, random_state: Optional[int] = 0
) -> Tuple[int, Dict[str, np.ndarray]]:
    """HySime on pixels Y (L, N): (k, details with 'noise_var', 'signal_power', 'noise_power', 'cost', 'subspace')."""
    Y = _sample(Y, max_pixels, random_state)
    L, N = Y.shape
    W, noise_var = estimate_noise(Y)
    X = Y - W
    Ry = Y @ Y.T / N
    Rx = X @ X.T / N
    w, V = np.linalg.eigh(Rx)
    V = V[:, ::-1]
    Rn = np.diag(noise_var) + np.trace(Rx) / L / 1e5 * np.eye(L)
    Py = np.einsum("li,lm,mi->i", V, Ry, V)
    Pn = np.einsum("li,lm,mi->i", V, Rn, V)
    cost = -Py + 2.0 * Pn
    k = int(np.count_nonzero(cost < 0))
    order = np.argsort(cost)
    details = {"noise_var": noise_var, "signal_power": Py, "noise_power": Pn, "cost": cost, "subspace": V[:, order[:k]]}
    return k, details


def hfc_vd(
    Y: np.ndarray,
    far: float = 1e-3,
    noise_whitened: bool = False,
    max_pixels: Optional[int] = MAX_PIXELS,
    random_state: Optional[int] = 0,
) -> int:
    """HFC virtual dimensionality of pixels Y (L, N) at false-alarm rate ``far``; NWHFC if ``noise_whitened``."""
    if not 0 < far < 0.5:
        raise ParameterError(f"far must be in (0, 0.5), got {far}")
    Y = _sample(Y, max_pixels, random_state)
    L, N = Y.shape
    if noise_whitened:
        _, noise_var = estimate_noise(Y)
        Y = Y / np.sqrt(np.maximum(noise_var, 1e-12 * noise_var.max() + np.finfo(float).tiny))[:, None]
    mean = Y.mean(axis=1)
    R = Y @ Y.T / N
    K = R - np.outer(mean, mean)
    lam_r = np.sort(np.linalg.eigvalsh(R))[::-1]
    lam_k = np.sort(np.linalg.eigvalsh(K))[::-1]
    sigma = np.sqrt(2.0 * (lam_r**2 + lam_k**2) / N)
    tau = sigma * norm.isf(far)
    return int(np.count_nonzero(lam_r - lam_k > tau))


# In the order of the QGIS algorithm's published METHOD indices (0 = HySime in users' scripts); append new ones.
METHODS = ("hysime", "hfc", "nwhfc", "reconstruction")


class EndmemberCountEstimator(BaseEstimator):
    """Estimate the number of endmembers of an image.

    Parameters
    ----------
    method : {'reconstruction', 'hysime', 'hfc', 'nwhfc'}, default='reconstruction'
        'reconstruction': where FCLS's error with SiVM endmembers stops improving; the others: the signal subspace.
    far : float, default=1e-3
        False-alarm rate of HFC / NWHFC.
    max_endmembers : int, default=DEFAULT_MAX_ENDMEMBERS
        Cap on every method's count (``capped_`` says whether it applied); at least 2.
    min_gain : float, default=DEFAULT_MIN_GAIN
        Relative error decrease below which 'reconstruction' stops adding endmembers.
    max_pixels : int or None, default=MAX_PIXELS
        Random sample of at most this many valid pixels; None uses them all.
    random_state : int or None, default=0
        Seed of the sample.
    progress : callable or None, default=None
        ``progress(fraction, message)``, called between the steps; raising ``Cancelled`` stops.

    Attributes
    ----------
    n_endmembers_ : int
        The estimated count, capped at ``max_endmembers``.
    details_ : dict
        HySime: cost per eigenvector; reconstruction: ``errors`` (indexed by k), ``noise_rms``.
    capped_ : bool
        Whether the cap at ``max_endmembers`` applied.
    n_features_in_ : int
        Number of bands L seen by ``fit``.
    """

    _parameter_constraints: dict = {
        "random_state": [SEED, None],
        "method": [Choices(METHODS)],
        "far": [Interval(Real, 0, 0.5, closed="neither")],
        "max_endmembers": [Interval(Integral, N_ENDMEMBERS.left, None, closed="left")],
        "min_gain": [Interval(Real, 0, 1, closed="left")],
        "max_pixels": [Interval(Integral, 1, None, closed="left"), None],
        "progress": [callable, None],
    }

    def __init__(
        self,
        method: str = "reconstruction",
        *,
        far: float = 1e-3,
        max_endmembers: int = DEFAULT_MAX_ENDMEMBERS,
        min_gain: float = DEFAULT_MIN_GAIN,
        max_pixels: Optional[int] = MAX_PIXELS,
        random_state: Optional[int] = 0,
        progress: ProgressCallback = None,
    ):
        keep_params(self, locals())

    def fit(self, cube: np.ndarray, mask: Optional[np.ndarray] = None) -> "EndmemberCountEstimator":
        """Estimate the number of endmembers of ``cube`` (L, H, W); ``mask`` (H, W) True = valid."""
        validate_params(self)
        cube = check_cube(cube)
        _, pos = valid_positions(valid_mask(cube, mask), self.max_pixels, self.random_state)  # sampled before copying
        Y = cube.reshape(cube.shape[0], -1)[:, pos].astype(np.float64)
        report(self.progress, 0.0, f"endmember count ({self.method}) on {Y.shape[1]} pixels")
        try:
            if self.method == "hysime":
                k, self.details_ = hysime(Y, self.max_pixels, self.random_state)
            elif self.method in ("hfc", "nwhfc"):
                k = hfc_vd(Y, self.far, self.method == "nwhfc", self.max_pixels, self.random_state)
                self.details_ = {}
            else:
                Y = _robust(Y)  # one extreme pixel would be taken as an endmember
                noise = noise_rms(estimate_noise(Y)[1])
                report(self.progress, 0.1, "noise estimated")
                k, self.details_ = reconstruction_count(
                    Y, noise, int(self.max_endmembers), sub_progress(self.progress, 0.1, 1.0), min_gain=self.min_gain
                )
        except np.linalg.LinAlgError as exc:
            raise InputError(
                f"the endmember count could not be computed on these values ({exc}); check the "
                "raster's scale and drop broken bands (BAD_BANDS)"
            ) from exc
        report(self.progress, 1.0, "endmember count done")
        self.n_features_in_ = cube.shape[0]
        self.capped_ = k > int(self.max_endmembers) or bool(self.details_.get("capped", False))
        self.n_endmembers_ = int(min(k, int(self.max_endmembers)))
        return self
