"""Which raster band each endmember-CSV row describes, and which rows two CSVs share.

Never by position: by wavelength when both carry them (nearest band within half the spacing, no band twice),
else by the ``band`` number; rows on bad bands are dropped, anything else is an ``InputError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..core.errors import InputError
from .bands import format_band_ranges

__all__ = ["BandMatch", "match_bands", "align_to_bands", "align_tables"]


@dataclass
class BandMatch:
    """``bands[i]``: the raster band (1-based) of CSV row ``rows[i]``; ``dropped``: bad bands left out."""

    bands: List[int]
    rows: List[int]
    by: str  # "wavelength" or "band number"
    dropped: List[int]

    def describe(self, n_rows: int, count: int) -> str:
        text = f"{len(self.rows)} of the CSV's {n_rows} rows matched to raster bands (of {count}) by {self.by}"
        if self.dropped:
            text += f"; bands {format_band_ranges(self.dropped)} left out (the file's bad-band list)"
        return text


def _all_finite(values: Optional[np.ndarray]) -> bool:
    return values is not None and len(values) > 0 and bool(np.all(np.isfinite(np.asarray(values, dtype=float))))


def _nearest(wanted: np.ndarray, available: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Index of the nearest ``available`` value to each ``wanted`` one, and whether it is within half a spacing."""
    available = np.asarray(available, dtype=float)
    wanted = np.asarray(wanted, dtype=float)
    nearest = np.abs(available[None, :] - wanted[:, None]).argmin(axis=1)
    diffs = np.diff(np.sort(available))
    diffs = diffs[diffs > 0]
    tol = max(0.5 * float(diffs.min()), 1e-6) if diffs.size else 1e-6
    return nearest, np.abs(available[nearest] - wanted) <= tol


def _raster_bands(table, wavelengths: Optional[np.ndarray], count: int) -> Tuple[List[int], str]:
    """Raster band (1-based) of every CSV row, matched by wavelength or band number."""
    n_rows = table.matrix.shape[0]
    if _all_finite(table.wavelengths) and _all_finite(wavelengths):
        nearest, close = _nearest(table.wavelengths, wavelengths)
        if not close.all():
            far = np.asarray(table.wavelengths, dtype=float)[~close]
            raise InputError(
                f"the endmember CSV's wavelengths {_few(far)} nm match no band of the raster "
                f"({np.min(wavelengths):g}-{np.max(wavelengths):g} nm)"
            )
        if len(set(nearest.tolist())) != n_rows:
            raise InputError("two rows of the endmember CSV match the same raster band by wavelength")
        return [int(b) + 1 for b in nearest], "wavelength"
    bands = [int(b) for b in table.bands]
    outside = [b for b in bands if not 1 <= b <= count]
    if outside:
        raise InputError(
            f"the endmember CSV names bands {_few(outside)} but the raster has {count} bands "
            "(and the two do not both carry wavelengths to match by)"
        )
    if len(set(bands)) != len(bands):
        raise InputError("the endmember CSV lists a band number twice")
    return bands, "band number"


def _few(values: Sequence) -> str:
    values = [f"{v:g}" if isinstance(v, float) else str(v) for v in list(values)]
    return ", ".join(values[:5]) + (f" (and {len(values) - 5} more)" if len(values) > 5 else "")


def match_bands(
    table, wavelengths: Optional[np.ndarray], count: int, bad_bands: Optional[np.ndarray] = None
) -> BandMatch:
    """Match every row of an ``EndmemberTable`` to a band of a raster (``RasterInfo``'s facts); at least 2 rows."""
    bands, by = _raster_bands(table, wavelengths, count)
    bad = np.zeros(count, dtype=bool) if bad_bands is None else np.asarray(bad_bands, dtype=bool)
    rows = [i for i, b in enumerate(bands) if not bad[b - 1]]
    dropped = sorted(b for b in bands if bad[b - 1])
    if len(rows) < 2:
        raise InputError(
            f"only {len(rows)} row(s) of the endmember CSV fall on good bands of the raster; FCLS needs at least 2"
        )
    return BandMatch([bands[i] for i in rows], rows, by, dropped)


def align_to_bands(table, used_bands: Sequence[int], wavelengths: Optional[np.ndarray], count: int) -> np.ndarray:
    """The CSV's endmembers as a (len(used_bands), p) matrix, row k for band ``used_bands[k]`` (each required)."""
    bands, _ = _raster_bands(table, wavelengths, count)
    row_of = {b: i for i, b in enumerate(bands)}
    missing = [int(b) for b in used_bands if int(b) not in row_of]
    if missing:
        raise InputError(
            f"the endmember CSV has no row for raster band(s) {format_band_ranges(missing)}, which are "
            "used; drop them (BAD_BANDS) or give a CSV made from this raster"
        )
    return np.asarray(table.matrix, dtype=np.float64)[[row_of[int(b)] for b in used_bands]]


def align_tables(estimate, reference) -> Tuple[np.ndarray, np.ndarray]:
    """Two endmember tables' matrices with their rows in the same band order (by wavelength, else band number)."""
    if _all_finite(estimate.wavelengths) and _all_finite(reference.wavelengths):
        nearest, close = _nearest(estimate.wavelengths, reference.wavelengths)
        by = "wavelength"
    else:
        ref_row = {int(b): i for i, b in enumerate(reference.bands)}
        nearest = np.array([ref_row.get(int(b), -1) for b in estimate.bands])
        close = nearest >= 0
        by = "band number"
    n_est, n_ref = estimate.matrix.shape[0], reference.matrix.shape[0]
    if not close.all() or len(set(nearest.tolist())) != n_est or n_est != n_ref:
        raise InputError(
            f"the estimated endmember CSV ({n_est} rows) and the reference one ({n_ref} rows) do not "
            f"cover the same bands (matched by {by}); write both from the same raster bands"
        )
    return np.asarray(estimate.matrix, dtype=np.float64), np.asarray(reference.matrix, dtype=np.float64)[nearest]
