"""A warning when endmembers x abundances explain the data much worse than its noise would allow.

The noise level is the multiple-regression estimate of HySime (``estimate_count.estimate_noise``),
floored at 1e-5 of the data's RMS (float32 data without noise). POOR_FIT_FACTOR was chosen on 210
synthetic scenes by benchmarks/endmember_count.py: the 95th percentile, rounded up, of RMSE / noise
for FCLS with the right number of SiVM endmembers (5 % false alarms on good synthetic fits; fits
missing one endmember are flagged in 27 % of the scenes). The
check scenes, which did not choose it: Samson's right-count fit is at 10x its noise (so it IS
flagged: spectral variability keeps the linear fit well above the noise), Jasper Ridge's at 4x (not
flagged); with 2 endmembers both are above 20x.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .count_reconstruction import noise_rms
from .estimate_count import estimate_noise

POOR_FIT_FACTOR = 5.0
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


def poor_fit_warning(rmse: float, noise: Optional[float], factor: float = POOR_FIT_FACTOR) -> Optional[str]:
    """A sentence for the log and report when ``rmse`` exceeds ``factor`` x ``noise``, else None."""
    if noise is None or not np.isfinite(rmse) or noise <= 0 or rmse <= factor * noise:
        return None
    return (
        f"poor fit: the reconstruction RMSE ({rmse:.4g}) is {rmse / noise:.0f} times the estimated noise "
        f"({noise:.3g}); a material may be missing (more endmembers?), the endmembers may not match the "
        "data (scale, bands), or spectral variability or nonlinear mixing leave what a linear mixture "
        "cannot explain"
    )
