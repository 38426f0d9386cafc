"""The fit check: the RMSE against ``VARIABILITY_FACTOR`` x the HySime noise, and the pixels' brightness against
their reconstruction's within ``SCALE_MISMATCH``."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ..count.estimate import estimate_noise
from ..count.reconstruction import noise_rms

VARIABILITY_FACTOR = 35.0
SCALE_MISMATCH = 3.0
MAX_PIXELS = 20_000


def noise_level(Y: np.ndarray, random_state: int = 0) -> Optional[float]:
    """Noise RMS of pixels Y (L, N) (a sample of at most MAX_PIXELS), or None when too few pixels."""
    Y = np.asarray(Y, dtype=np.float64)
    Y = Y[:, np.all(np.isfinite(Y), axis=0)]
    if Y.shape[1] < 2 * Y.shape[0] or Y.shape[0] < 3:
        return None
    if Y.shape[1] > MAX_PIXELS:
        Y = Y[:, np.random.default_rng(random_state).choice(Y.shape[1], MAX_PIXELS, replace=False)]
    floor = 1e-5 * float(np.sqrt(np.mean(Y**2)))
    return max(noise_rms(estimate_noise(Y)[1]), floor)


def brightness(Y: np.ndarray, Yhat: np.ndarray) -> float:
    """How many times the pixels Y are as bright as their reconstruction Yhat (least squares; NaN when Yhat is 0)."""
    Y, Yhat = np.asarray(Y, dtype=np.float64), np.asarray(Yhat, dtype=np.float64)
    den = float(np.sum(Yhat * Yhat))
    return float(np.sum(Y * Yhat)) / den if den > 0 else float("nan")


def poor_fit_warning(
    rmse: float, noise: Optional[float], brightness: Optional[float] = None, factor: float = VARIABILITY_FACTOR
) -> Optional[str]:
    """A sentence naming what is wrong with the fit, or None; ``brightness`` (:func:`brightness`) None skips the
    scale check."""
    ratio = rmse / noise if noise and noise > 0 and np.isfinite(rmse) else None
    times = "" if ratio is None else f", {ratio:.0f} times the estimated noise"
    if brightness is not None and not (1 / SCALE_MISMATCH <= brightness <= SCALE_MISMATCH):
        return (
            f"scale mismatch: the pixels are {brightness:.3g} times as bright as their best reconstruction from the "
            f"endmembers (RMSE {rmse:.4g}{times}): the endmembers are in other units than the raster; set the "
            "scale factor (SCALE) or use a CSV that states its units"
        )
    if ratio is None or ratio <= factor:
        return None
    return (
        f"poor fit: the reconstruction RMSE ({rmse:.4g}) is {ratio:.0f} times the estimated noise ({noise:.3g}), "
        f"beyond the {factor:g} times ordinary fits of real scenes reach (spectral variability): a material may be "
        "missing (more endmembers?) or the endmembers' bands may not match the raster's"
    )
