"""How far an iterative fit moved from its starting point (no reference data needed): near zero means the
training did not decide the result."""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from .metrics import _paired, sad


def change_from_start(
    start_endmembers: np.ndarray,
    endmembers: np.ndarray,
    start_abundances: Optional[np.ndarray] = None,
    abundances: Optional[np.ndarray] = None,
) -> Dict[str, float]:
    """``mean_sad``/``max_sad`` (degrees) between endmembers (L, p) column by column, and with both abundance
    arrays ``mean_abs_abundance``, the mean absolute change over the pixels finite in both."""
    angles = sad(start_endmembers, endmembers)
    out = {"mean_sad": float(np.mean(angles)), "max_sad": float(np.max(angles))}
    if start_abundances is not None and abundances is not None:
        R, E = _paired(start_abundances, abundances)
        out["mean_abs_abundance"] = float(np.mean(np.abs(R - E)))
    return out


def change_note(model) -> Optional[str]:
    """One sentence on how far ``model`` moved from its ``init_endmembers_``/``init_abundances_``, or None."""
    start_e, start_a = getattr(model, "init_endmembers_", None), getattr(model, "init_abundances_", None)
    end_e, end_a = getattr(model, "endmembers_", None), getattr(model, "abundances_", None)
    if any(x is None for x in (start_e, start_a, end_e, end_a)) or np.shape(start_e) != np.shape(end_e):
        return None
    change = change_from_start(start_e, end_e, start_a, end_a)
    return (
        f"Change from the starting point: endmembers {change['mean_sad']:.2f} degrees mean spectral angle "
        f"(largest {change['max_sad']:.2f}), abundances {change['mean_abs_abundance']:.4f} mean absolute change "
        "(near zero would mean the result is essentially its starting point)"
    )
