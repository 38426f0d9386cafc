"""Reading a raster for fitting: bad bands dropped, scale resolved, and the cube read whole when
``WORKING_COPIES`` float32 copies fit the budget and free memory, else a pixel sample or a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..core.errors import InputError, MemoryBudgetError
from ..core.progress import ProgressCallback
from .bands import describe_band_selection, select_bands
from .blockwise import no_valid_pixel_message, sample_valid_pixels
from .memory import DEFAULT_MEMORY_MB, MiB, available_bytes, check_allocation, check_budget
from .read import raster_info, read_raster
from .scaling import resolve_scale, units_comment

__all__ = ["FitData", "load_for_fitting", "DEFAULT_MEMORY_MB", "MAX_SAMPLE", "WORKING_COPIES", "block_bytes"]

MAX_SAMPLE = 200_000
# fitting holds the cube plus float64 working copies: budget for about four times the float32 cube
WORKING_COPIES = 4


def block_bytes(memory_mb: float) -> int:
    """Size of one streamed block for a budget: an eighth of it (or of the free memory when that is less),
    within 4..64 MiB."""
    free = available_bytes()
    if free is not None:
        memory_mb = min(memory_mb, free / MiB)
    return int(min(64, max(4, memory_mb // 8)) * MiB)


@dataclass
class FitData:
    """What a fitting algorithm needs from the input raster."""

    path: str
    cube: np.ndarray  # (bands, rows, cols) float32, scaled; (bands, 1, n) when sampled
    mask: np.ndarray  # True = valid
    wavelengths: Optional[np.ndarray]
    bands: np.ndarray  # 1-based band numbers (in the file) of the cube's bands
    scale: float
    csv_comment: str  # the units line for endmember CSVs
    sampled: bool  # True: cube holds a pixel sample, not the image
    georef: dict  # transform, crs, height, width of the input (for writing outputs)


#: A pixel with a value this many times the 99th percentile of the data's magnitudes is corrupt (or an undeclared
#: nodata value such as 1e30): it would become an endmember of its own.
EXTREME_FACTOR = 1e3


def _check_extreme(values: np.ndarray) -> None:
    """InputError naming the pixels whose values are far beyond the rest of the data, before any fit."""
    step = max(1, values.shape[1] // 20000)
    typical = float(np.percentile(np.abs(values[:, ::step]), 99))
    if typical == 0:
        return
    peak = np.maximum(values.max(axis=0), -values.min(axis=0))  # per pixel, no copy of the data
    extreme = peak > EXTREME_FACTOR * typical
    if extreme.any():
        raise InputError(
            f"{int(extreme.sum())} pixel(s) hold values up to {float(peak.max()):.3g}, more than "
            f"{EXTREME_FACTOR:g} times the 99th percentile of the data ({typical:.3g}): corrupt pixels or an "
            "undeclared nodata value; declare the nodata value (e.g. gdal_edit.py -a_nodata) or mask them"
        )


def _no_log(message: str) -> None:
    pass


def load_for_fitting(
    path: str,
    drop_text: Optional[str] = None,
    scale: float = 0.0,
    memory_mb: float = DEFAULT_MEMORY_MB,
    allow_sample: bool = True,
    log: Callable[[str], None] = _no_log,
    progress: ProgressCallback = None,
    min_pixels: int = 2,
    sample_use: Optional[str] = None,
) -> FitData:
    """Read the raster (or a pixel sample when it exceeds the budget), dropping bad bands and scaling it.

    ``scale`` 0 detects it; ``log`` receives one line per decision; ``sample_use`` says what a sample is for.
    """
    budget = check_budget(memory_mb)
    info = raster_info(path)
    log(f"Input: {info.count} bands, {info.width} x {info.height} pixels, {info.dtype}")
    if info.count < 2:
        raise InputError(f"the raster has {info.count} band; unmixing needs a multiband (hyperspectral) raster")
    bands = np.asarray(select_bands(info.count, drop_text, info.bad_bands))
    log(describe_band_selection(info.count, drop_text, info.bad_bands))
    need = len(bands) * info.width * info.height * 4 * WORKING_COPIES
    free = available_bytes()
    limit = budget if free is None else min(budget, free)
    if need <= limit:
        raster = read_raster(path, bands=bands)
        cube, mask, sampled = raster.cube, raster.mask, False
        values = cube[:, mask]
    elif allow_sample:
        room = limit - 3 * block_bytes(memory_mb)  # the streamed blocks are held beside the sample
        n = int(min(MAX_SAMPLE, max(1000, room // (len(bands) * 8 * 2 * WORKING_COPIES))))
        check_allocation(
            n * len(bands) * 8 * 2 + block_bytes(memory_mb) * 3,
            "the pixel sample",
            budget,
            "lower MEMORY_MB or free memory",
        )
        why = f"the {memory_mb:g} MB budget" if need > budget else f"the {free / MiB:.0f} MB free on this machine"
        log(
            f"The raster needs about {need / MiB:.0f} MB in memory, over {why}: a random sample of {n} "
            f"valid pixels {sample_use or 'for fitting, then streaming all pixels'}"
        )
        Y, _ = sample_valid_pixels(
            path, n, random_state=0, bands=bands, max_block_bytes=block_bytes(memory_mb), progress=progress
        )
        cube = Y.astype(np.float32)[:, None, :]
        mask = np.ones(cube.shape[1:], dtype=bool)
        values, sampled = Y, True
    else:
        where = (
            f"over the {memory_mb:g} MB budget (MEMORY_MB); raise the budget or crop the raster"
            if need > budget
            else f"more than the {free / MiB:.0f} MB free on this machine; close other programs or crop the raster"
        )
        raise MemoryBudgetError(f"this method holds the whole image in memory: about {need / MiB:.0f} MB, {where}")
    n_valid = int(mask.sum())
    if n_valid == 0:
        raise InputError(no_valid_pixel_message(path, bands, block_bytes(memory_mb)))
    if n_valid < min_pixels:
        raise InputError(
            f"the raster has only {n_valid} valid pixel(s) (the others are nodata or NaN); unmixing "
            f"needs at least {min_pixels}"
        )
    _check_extreme(values)
    if np.ptp(values, axis=1).max() == 0:
        raise InputError("the image is constant: every valid pixel has the same spectrum, there is nothing to unmix")
    scale, reason = resolve_scale(scale or None, info, values[:, :: max(1, values.shape[1] // 20000)])
    log(f"Scale factor {scale:g}: {reason}")
    if scale != 1.0:
        cube *= np.float32(scale)
    if not sampled:
        log(f"{n_valid} valid pixels")
    wavelengths = None if info.wavelengths is None else np.asarray(info.wavelengths)[bands - 1]
    georef = {"transform": info.transform, "crs": info.crs, "height": info.height, "width": info.width}
    return FitData(path, cube, mask, wavelengths, bands, scale, units_comment(scale, reason), sampled, georef)
