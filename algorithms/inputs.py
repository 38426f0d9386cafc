"""Reading the input raster for an algorithm, with the user's log in mind."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..engine.io.raster import read_raster


@dataclass
class FitData:
    """What a fitting algorithm needs from the input raster."""

    path: str
    cube: np.ndarray            # (bands, rows, cols) float32
    mask: np.ndarray            # (rows, cols) bool, True = valid
    wavelengths: Optional[np.ndarray]
    bands: np.ndarray           # 1-based band numbers of cube's bands in the file
    raster: object              # the engine's RasterData (georeferencing for outputs)


def load_for_fitting(path: str, feedback) -> FitData:
    """Read the whole raster and report its size and valid-pixel count."""
    raster = read_raster(path)
    cube, mask = raster.cube, raster.mask
    n_valid = int(mask.sum())
    feedback.pushInfo(
        f"Input: {cube.shape[0]} bands, {cube.shape[1]} x {cube.shape[2]} pixels, {n_valid} valid"
    )
    if n_valid == 0:
        raise ValueError("the raster has no valid pixel (all nodata or NaN)")
    if cube.shape[0] < 2:
        raise ValueError(f"the raster has {cube.shape[0]} band; unmixing needs a multiband (hyperspectral) raster")
    bands = np.arange(1, cube.shape[0] + 1)
    return FitData(path, cube, mask, raster.wavelengths, bands, raster)
