"""One shared mapping from ICA sources to abundance maps, used for every ICA method."""

from __future__ import annotations

import numpy as np


def ica_to_abundances(sources: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Map ICA sources (n_samples, p) to abundances A (p, n_samples) on the simplex.

    ICA recovers each source only up to sign, scale and offset, so this is the one
    rule applied to every ICA method compared here (FastICA, Infomax, MISEP,
    MINE-ICA and DDICA's DeepICA in ICA mode), in this order:

    1. sign: flip a component when its skewness is negative, so that its heavy tail
       (the few pixels where a material dominates) is positive;
    2. scale: min-max scale each component to [0, 1] (a constant one becomes 0);
    3. sum-to-one: divide each pixel by the sum over components; a pixel whose
       components are all 0 gets 1/p everywhere.

    The result satisfies ANC (>= 0) and ASC (columns sum to 1). It uses no ground
    truth; order and permutation are left to the scorer.
    """
    s = np.asarray(sources, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"expected sources of shape (n_samples, p), got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("sources contain NaN or inf")
    n, p = s.shape
    centred = s - s.mean(axis=0)
    skew = (centred**3).mean(axis=0)
    s = np.where(skew < 0, -s, s)
    lo, hi = s.min(axis=0), s.max(axis=0)
    span = hi - lo
    scaled = np.where(span > eps, (s - lo) / np.where(span > eps, span, 1.0), 0.0)
    total = scaled.sum(axis=1, keepdims=True)
    a = np.where(total > eps, scaled / np.where(total > eps, total, 1.0), 1.0 / p)
    return a.T
