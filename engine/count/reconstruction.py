"""Number of endmembers for linear unmixing: the first k whose FCLS error with k nested SiVM endmembers the next
one lowers by less than ``min_gain`` x a reference error, or that is within ``noise_factor`` x the noise."""

from __future__ import annotations

from typing import Dict, Tuple

import numpy as np

from ..abundances.fcls import DEFAULT_BLOCK, _run_blocks
from ..core.progress import ProgressCallback, report, sub_progress
from ..extraction.sivm import sivm

# Chosen on synthetic scenes only (benchmarks/count.py --case endmember_count); Samson and Jasper Ridge check it.
DEFAULT_MIN_GAIN = 0.03
DEFAULT_NOISE_FACTOR = 1.1
DEFAULT_RELATIVE_TO = "first"
DEFAULT_MAX_ENDMEMBERS = 15


def reconstruction_curve(Y: np.ndarray, max_endmembers: int, progress: ProgressCallback = None) -> np.ndarray:
    """FCLS reconstruction RMSE of pixels Y (L, N) with the first k SiVM endmembers, indexed by k (0, 1: NaN)."""
    kmax = int(min(max_endmembers, Y.shape[0], Y.shape[1]))
    if kmax < 2:
        raise ValueError(f"at least 2 endmembers are needed, the data allow {kmax}")
    E_all, _ = sivm(Y, kmax, progress=sub_progress(progress, 0.0, 0.2))
    errors = np.full(kmax + 1, np.nan)
    for k in range(2, kmax + 1):
        report(progress, 0.2 + 0.8 * (k - 2) / (kmax - 1), f"FCLS with {k} endmembers")
        _, rmse, _ = _run_blocks(Y, E_all[:, :k], DEFAULT_BLOCK, None, True)
        errors[k] = float(np.sqrt(np.mean(rmse**2)))
    return errors


def elbow(
    errors: np.ndarray,
    noise_rms: float,
    min_gain: float = DEFAULT_MIN_GAIN,
    noise_factor: float = DEFAULT_NOISE_FACTOR,
    relative_to: str = DEFAULT_RELATIVE_TO,
) -> int:
    """The first k (>= 2) whose error is at the noise level or that the next endmember improves by
    less than ``min_gain`` x (the 2-endmember error for 'first', the k-endmember error for 'previous')."""
    if relative_to not in ("first", "previous"):
        raise ValueError(f"relative_to must be 'first' or 'previous', got {relative_to!r}")
    kmax = len(errors) - 1
    for k in range(2, kmax):
        if errors[k] <= noise_factor * noise_rms:
            return k
        reference = errors[2] if relative_to == "first" else errors[k]
        if errors[k] - errors[k + 1] < min_gain * reference:
            return k
    return kmax


def reconstruction_count(
    Y: np.ndarray, noise_rms: float, max_endmembers: int = DEFAULT_MAX_ENDMEMBERS, progress=None, **criteria
) -> Tuple[int, Dict[str, np.ndarray]]:
    """(k, {'errors', 'noise_rms', 'capped'}) for pixels Y (L, N), with :func:`elbow`'s ``criteria``."""
    min_gain = criteria.get("min_gain", DEFAULT_MIN_GAIN)
    if not 0 < min_gain < 1:
        raise ValueError(f"min_gain must be in (0, 1), got {min_gain}")
    errors = reconstruction_curve(Y, max_endmembers, progress)
    k = elbow(errors, noise_rms, **criteria)
    # the last k is returned when the criterion never stopped: the cap, not the data, decided
    capped = k == len(errors) - 1 and elbow(np.append(errors, 0.0), noise_rms, **criteria) > k
    return k, {"errors": errors, "noise_rms": np.float64(noise_rms), "capped": capped}


def noise_rms(noise_var: np.ndarray) -> float:
    """Overall noise RMS from per-band noise variances."""
    return float(np.sqrt(np.mean(noise_var)))


__all__ = [
    "reconstruction_curve",
    "elbow",
    "reconstruction_count",
    "noise_rms",
    "DEFAULT_MIN_GAIN",
    "DEFAULT_NOISE_FACTOR",
    "DEFAULT_MAX_ENDMEMBERS",
    "DEFAULT_RELATIVE_TO",
]
