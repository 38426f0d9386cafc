"""Scaling integer rasters to 0..1 reflectance-like values, with the rule used stated for the log.

``detect_scale`` on sampled values: float or non-whole values, or integers within 0..1.5 -> 1; 8-bit -> 1/255;
99.9th percentile <= 12000 -> 1/10000; else 1/(the 16-bit type's maximum), or 1/(largest value) for wider types.
"""

from __future__ import annotations

import re
from typing import Any, Optional, Tuple

import numpy as np

from ..core.errors import InputError, ParameterError

__all__ = [
    "detect_scale",
    "resolve_scale",
    "units_comment",
    "check_scale",
    "choose_scale",
    "units_from_comment",
    "REFLECTANCE_X10000_MAX",
    "SCALE_RANGE",
]

REFLECTANCE_X10000_MAX = 12000.0  # 99.9th percentile limit of "reflectance x 10000" (120 % reflectance)
_UNIT_MAX = 1.5  # integer values up to this are already 0..1 data
# a factor to reflectance outside this range is a typo or a corrupt file (1/uint32 max is 2.3e-10)
SCALE_RANGE = (1e-12, 1e6)


def _dtype_of(info: Any) -> np.dtype:
    return np.dtype(getattr(info, "dtype", info))


def detect_scale(dtype: Any, sample_values: Optional[np.ndarray]) -> Tuple[float, str]:
    """(scale, reason): the factor that brings the data to about 0..1 and the rule that chose it."""
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return 1.0, "float data: used as is"
    if dt.kind not in "iu":
        raise InputError(f"cannot scale data of type {dt}")
    v = np.asarray(sample_values if sample_values is not None else [], dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 1.0, f"{dt} data with no valid value to inspect: used as is"
    if np.any(v != np.round(v)):
        return 1.0, f"{dt} data with the file's own scale/offset applied (values are not whole numbers): used as is"
    vmax = float(np.max(np.abs(v)))
    if vmax <= _UNIT_MAX:
        return 1.0, f"{dt} data already within 0..1 (largest value {vmax:g}): used as is"
    if dt.itemsize == 1:
        top = float(np.iinfo(dt).max)
        return 1.0 / top, f"8-bit data: scaled by 1/{top:g}"
    q = float(np.percentile(v, 99.9))
    if q <= REFLECTANCE_X10000_MAX:
        return 1e-4, (
            f"{dt} data looks like reflectance x 10000 (99.9th percentile {q:g} <= "
            f"{REFLECTANCE_X10000_MAX:g}): scaled by 1/10000"
        )
    if dt.itemsize == 2:
        top = float(np.iinfo(dt).max)
        return 1.0 / top, (
            f"{dt} data beyond reflectance x 10000 (99.9th percentile {q:g} > "
            f"{REFLECTANCE_X10000_MAX:g}): scaled by 1/{top:g}, the largest {dt} value"
        )
    return 1.0 / vmax, (
        f"{dt} data beyond reflectance x 10000 (99.9th percentile {q:g} > "
        f"{REFLECTANCE_X10000_MAX:g}): scaled by 1/{vmax:g}, the largest sampled value"
    )


def resolve_scale(user_scale: Optional[float], info: Any, sample: Optional[np.ndarray]) -> Tuple[float, str]:
    """The user's scale when > 0, else ``detect_scale``; ``info``: a ``RasterInfo`` or a dtype."""
    if user_scale is not None and float(user_scale) != 0.0:
        s = check_scale(user_scale, "the SCALE parameter")
        return s, f"scale {s:g} set by the user"
    return detect_scale(_dtype_of(info), sample)


def units_comment(scale: float, reason: str) -> str:
    """Header comment for an endmember CSV stating the units of its values (machine-readable ``scale=``)."""
    s = float(scale)
    if s == 1.0:
        units = "input units"
    elif abs(s - 1e-4) < 1e-12:
        units = "reflectance (input / 10000)"
    else:
        units = f"input x {s:.8g} (about 0..1)"
    return f"units: {units}; scale={s!r}; {reason}"


def units_from_comment(comment: Optional[str]) -> Optional[str]:
    """The ``units: ...`` text written by ``units_comment`` (e.g. ``reflectance (input / 10000)``), or None."""
    if not comment:
        return None
    m = re.search(r"units:\s*([^;]+)", comment)
    return m.group(1).strip() if m else None


def check_scale(value: Any, source: str) -> float:
    """``value`` as a float within ``SCALE_RANGE``, else InputError (a CSV's) or ParameterError naming ``source``."""
    error = InputError if "CSV" in source else ParameterError
    try:
        s = float(value)
    except (TypeError, ValueError):
        raise error(f"{source}: scale {value!r} is not a number") from None
    lo, hi = SCALE_RANGE
    if not np.isfinite(s) or not lo <= s <= hi:
        raise error(
            f"{source}: scale {value!r} is not a usable factor to reflectance (it must be a positive, finite number "
            f"from {lo:g} to {hi:g}, e.g. 0.0001 for reflectance x 10000)"
        )
    return s


#: Without stated units, a CSV whose values differ from the raster's by more than this factor (median magnitudes)
#: is in other units (e.g. reflectance against a raster of reflectance x 10000): refused, not guessed.
UNITS_MISMATCH = 30.0


def choose_scale(
    user_scale: Optional[float],
    comment: Optional[str],
    endmembers: Optional[np.ndarray] = None,
    raster_values: Optional[np.ndarray] = None,
) -> Tuple[float, str]:
    """Scale for applying an endmember CSV: the user's (> 0), else the CSV's, else 1.

    With no units stated, magnitudes of ``endmembers`` and ``raster_values`` ``UNITS_MISMATCH`` apart raise.
    """
    if user_scale:
        return check_scale(user_scale, "the SCALE parameter"), "given"
    if comment and re.search(r"scale=", comment):
        m = re.search(r"scale=(\S+?)(;|\s|$)", comment)
        return check_scale(
            m.group(1) if m else "", "the endmember CSV's units"
        ), "the scale stated in the endmember CSV"
    if endmembers is not None and raster_values is not None and np.size(raster_values):
        e, r = float(np.median(np.abs(endmembers))), float(np.median(np.abs(raster_values)))
        if e > 0 and r > 0 and not 1 / UNITS_MISMATCH <= r / e <= UNITS_MISMATCH:
            raise InputError(
                f"the endmember CSV states no units (its .aux.xml sidecar is missing?) and its values (median "
                f"{e:.3g}) are {max(r / e, e / r):.3g} times {'smaller' if r > e else 'larger'} than the raster's "
                f"(median {r:.3g}): give SCALE, the factor from the raster's values to the CSV's (e.g. "
                f"{e / r:.2g}), or restore the sidecar"
            )
    return 1.0, "the CSV states no units: taken to be in the raster's units"
