"""One pixel of a raster explained by endmembers (spectrum, FCLS abundances, reconstruction, RMSE), as
``deepunmix:fcls`` would unmix it: the plugin's pixel tool without its GUI."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

from ..abundances.fcls import fcls
from ..core.errors import InputError
from ..io.endmember_csv import EndmemberTable
from ..io.matching import match_bands
from ..io.read import open_raster, raster_info, read_block
from ..io.scaling import choose_scale
from .metrics import per_pixel_rmse

__all__ = ["PixelExplanation", "pixel_at", "read_pixel", "unmix_pixel", "explain_pixel"]


@dataclass
class PixelExplanation:
    """A pixel's spectrum and its unmixing, in the endmembers' units, on the 1-based raster ``bands``."""

    row: int
    col: int
    bands: np.ndarray  # (L,) 1-based raster bands
    wavelengths: Optional[np.ndarray]  # (L,) nm, or None when unknown
    spectrum: np.ndarray  # (L,), NaN where the pixel is nodata
    valid: bool  # False for a nodata / NaN pixel
    scale: float = 1.0
    names: Optional[List[str]] = None  # endmember names
    endmembers: Optional[np.ndarray] = None  # (L, p)
    abundances: Optional[np.ndarray] = None  # (p,), non-negative, summing to one
    reconstruction: Optional[np.ndarray] = None  # (L,) endmembers @ abundances
    rmse: Optional[float] = None  # root mean square of spectrum - reconstruction


def pixel_at(
    x: float, y: float, x_min: float, y_max: float, pixel_width: float, pixel_height: float, width: int, height: int
) -> Optional[Tuple[int, int]]:
    """(row, col) of map point (x, y) in a north-up raster with upper-left corner (x_min, y_max), or None."""
    col = math.floor((x - x_min) / pixel_width)
    row = math.floor((y_max - y) / pixel_height)
    if 0 <= row < height and 0 <= col < width:
        return int(row), int(col)
    return None


def read_pixel(path: str, row: int, col: int, bands: Optional[List[int]] = None) -> Tuple[np.ndarray, bool]:
    """One pixel's values on ``bands`` (default all), with the file's scale/offset applied; NaN if nodata."""
    with open_raster(path) as ds:
        if not (0 <= row < ds.height and 0 <= col < ds.width):
            raise InputError(f"pixel (row {row}, col {col}) is outside the {ds.height} x {ds.width} raster")
        cube, valid = read_block(ds, (row, col, 1, 1), bands)
    return cube[:, 0, 0].astype(np.float64), bool(valid[0, 0])


def unmix_pixel(spectrum: np.ndarray, endmembers: np.ndarray) -> Tuple[np.ndarray, np.ndarray, float]:
    """FCLS abundances (p,), reconstruction (L,) and reconstruction RMSE of one spectrum."""
    y = np.asarray(spectrum, dtype=np.float64).reshape(-1, 1)
    E = np.asarray(endmembers, dtype=np.float64)
    if E.shape[0] != y.shape[0]:
        raise InputError(f"the spectrum has {y.shape[0]} bands, the endmembers {E.shape[0]}")
    a = fcls(y, E)[:, 0]
    return a, E @ a, float(per_pixel_rmse(y, E, a[:, None])[0])


def table_fits(path: str, table: EndmemberTable) -> bool:
    """Whether the rows of an endmember ``table`` match bands of raster ``path`` (as ``explain_pixel`` needs)."""
    try:
        info = raster_info(path)
        match_bands(table, info.wavelengths, info.count, info.bad_bands)
    except (ValueError, OSError):
        return False
    return True


def explain_pixel(path: str, row: int, col: int, table: Optional[EndmemberTable] = None) -> PixelExplanation:
    """Read pixel (row, col) of ``path`` and, with an endmember ``table``, unmix it by FCLS on the matching bands
    at the table's scale (InputError when the bands do not match)."""
    info = raster_info(path)
    if table is None:
        bands = list(range(1, info.count + 1))
        spectrum, valid = read_pixel(path, row, col, bands)
        wl = None if info.wavelengths is None else np.asarray(info.wavelengths, dtype=float)
        return PixelExplanation(
            row=row, col=col, bands=np.asarray(bands), wavelengths=wl, spectrum=spectrum, valid=valid
        )
    match = match_bands(table, info.wavelengths, info.count, info.bad_bands)
    bands, rows = match.bands, match.rows
    spectrum, valid = read_pixel(path, row, col, bands)
    rows_E = np.asarray(table.matrix, dtype=np.float64)[rows]
    scale, _ = choose_scale(None, table.comment, rows_E, spectrum if valid else None)
    spectrum = spectrum * scale
    if table.wavelengths is not None and np.all(np.isfinite(table.wavelengths)):
        wl = np.asarray(table.wavelengths, dtype=float)[rows]
    elif info.wavelengths is not None:
        wl = np.asarray(info.wavelengths, dtype=float)[np.asarray(bands) - 1]
    else:
        wl = None
    out = PixelExplanation(
        row=row,
        col=col,
        bands=np.asarray(bands),
        wavelengths=wl,
        spectrum=spectrum,
        valid=valid,
        scale=scale,
        names=list(table.names),
        endmembers=rows_E,
    )
    if valid:
        out.abundances, out.reconstruction, out.rmse = unmix_pixel(spectrum, out.endmembers)
    return out
