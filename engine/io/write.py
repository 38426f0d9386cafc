"""Writing float32 GeoTIFF (or Erdas Imagine) rasters: profiles, abundance maps and cubes, atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from ..core.errors import OutputError
from .read import RasterData, _to_nm, open_raster
from .transaction import atomic_output
from .write_checks import check_hfa_size

OUTPUT_NODATA = -9999.0
PathLike = Union[str, os.PathLike]

# single-file formats GDAL can create band by band in float32 (multi-file ones would defeat the atomic rename)
OUTPUT_DRIVERS = {"GTiff": "GeoTIFF (.tif)", "HFA": "Erdas Imagine (.img)"}
# chosen here, not by GDAL's lookup by extension: GDAL 3.12 also has MiraMonRaster for .img
_DRIVER_OF_EXTENSION = {"": "GTiff", ".tif": "GTiff", ".tiff": "GTiff", ".img": "HFA"}


def output_driver(path: PathLike) -> str:
    """The GDAL driver for a raster output path: GeoTIFF (none, .tif, .tiff) or HFA (.img); else OutputError."""
    ext = Path(path).suffix.lower()
    driver = _DRIVER_OF_EXTENSION.get(ext)
    if driver is not None:
        import rasterio

        with rasterio.Env() as env:  # built into this GDAL?
            if driver in env.drivers():
                return driver
    raise OutputError(
        f"{Path(path).name}: rasters are written as {', '.join(OUTPUT_DRIVERS.values())}; "
        f"'{ext}' is not one of them: use .tif"
    )


def output_profile(
    count: int,
    height: int,
    width: int,
    transform=None,
    crs=None,
    nodata: Optional[float] = OUTPUT_NODATA,
    compress: Optional[str] = "lzw",
    driver: str = "GTiff",
) -> Dict[str, Any]:
    """A float32 profile (GeoTIFF: tiled 256 x 256 when the image is large enough; other drivers: plain)."""
    prof: Dict[str, Any] = dict(
        driver=driver, dtype="float32", count=int(count), height=int(height), width=int(width), nodata=nodata
    )
    if transform is not None:
        prof["transform"] = transform
    if crs is not None:
        prof["crs"] = crs
    if driver == "HFA":
        check_hfa_size(count, height, width)
    if driver != "GTiff":
        return prof
    prof["BIGTIFF"] = "IF_SAFER"
    if height >= 256 and width >= 256:
        prof.update(tiled=True, blockxsize=256, blockysize=256)
    if compress:
        prof.update(compress=compress)
        prof["predictor"] = 3 if compress.lower() in ("lzw", "deflate") else None
        if prof["predictor"] is None:
            del prof["predictor"]
    return prof


def _georef(like) -> Tuple[Any, Any, Optional[Tuple[int, int]]]:
    """(transform, crs, (height, width)) of a RasterData, rasterio profile dict, or None."""
    if like is None:
        return None, None, None
    if isinstance(like, RasterData):
        return like.transform, like.crs, like.cube.shape[1:]
    if isinstance(like, dict):
        shape = (like["height"], like["width"]) if "height" in like and "width" in like else None
        return like.get("transform"), like.get("crs"), shape
    raise TypeError(f"'like' must be RasterData, a rasterio profile dict or None, not {type(like).__name__}")


def _fill_invalid(data: np.ndarray, mask: Optional[np.ndarray], nodata: Optional[float]) -> np.ndarray:
    out = np.array(data, dtype=np.float32, copy=True)
    bad = ~np.all(np.isfinite(out), axis=0)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != out.shape[1:]:
            raise ValueError(f"mask shape {mask.shape} does not match the image {out.shape[1:]}")
        bad |= ~mask
    if nodata is not None:
        out[:, bad] = nodata
    else:
        out[:, bad] = np.nan
    return out


def write_abundances(
    path: PathLike,
    abundances: np.ndarray,
    names: Sequence[str],
    like=None,
    mask: Optional[np.ndarray] = None,
    nodata: float = OUTPUT_NODATA,
    compress: Optional[str] = "lzw",
    tags: Optional[Dict[str, str]] = None,
) -> Path:
    """Write (p, rows, cols) maps as a float32 raster georeferenced like ``like``; ``nodata`` off-mask and at NaN."""
    A = np.asarray(abundances)
    if A.ndim != 3:
        raise ValueError(f"abundances must be (p, rows, cols), got shape {A.shape}")
    names = [str(n) for n in names]
    if len(names) != A.shape[0]:
        raise ValueError(f"{len(names)} names for {A.shape[0]} abundance maps")
    transform, crs, shape = _georef(like)
    if shape is not None and tuple(shape) != A.shape[1:]:
        raise ValueError(f"abundance maps are {A.shape[1:]}, the reference raster is {tuple(shape)}")
    data = _fill_invalid(A, mask, nodata)
    prof = output_profile(*A.shape, transform, crs, nodata, compress, output_driver(path))
    return _write(path, data, prof, names, tags=tags)


def write_cube(
    path: PathLike,
    cube: np.ndarray,
    transform=None,
    crs=None,
    wavelengths: Optional[np.ndarray] = None,
    nodata: Optional[float] = None,
    band_names: Optional[Sequence[str]] = None,
    mask: Optional[np.ndarray] = None,
    compress: Optional[str] = "lzw",
    dtype: str = "float32",
) -> Path:
    """Write a (bands, rows, cols) cube (float32 unless ``dtype``), ``wavelengths`` as band metadata in nm.

    Pixels off ``mask`` or non-finite get ``nodata`` (NaN, or -9999 when a mask comes without one).
    """
    cube = np.asarray(cube)
    if cube.ndim != 3:
        raise ValueError(f"cube must be (bands, rows, cols), got shape {cube.shape}")
    L = cube.shape[0]
    if wavelengths is not None and len(wavelengths) != L:
        raise ValueError(f"{len(wavelengths)} wavelengths for {L} bands")
    if band_names is not None and len(band_names) != L:
        raise ValueError(f"{len(band_names)} band names for {L} bands")
    if mask is not None and nodata is None:
        nodata = OUTPUT_NODATA
    if wavelengths is not None:
        wavelengths = _to_nm(np.asarray(wavelengths, dtype=np.float64), None)
    data = _fill_invalid(cube, mask, nodata)
    prof = output_profile(L, cube.shape[1], cube.shape[2], transform, crs, nodata, compress, output_driver(path))
    if np.dtype(dtype) != np.float32:
        prof.update(dtype=np.dtype(dtype).name)
        prof.pop("predictor", None)
        data = data.astype(dtype)
    return _write(path, data, prof, band_names, wavelengths)


def _write(path: PathLike, data: np.ndarray, prof: dict, names=None, wavelengths=None, tags=None) -> Path:
    """Write ``data`` atomically with band descriptions ``names``, band wavelengths (nm) and dataset ``tags``."""
    path = Path(path)
    with atomic_output(path) as tmp:
        with open_raster(tmp, "w", **prof) as dst:
            dst.write(data)
            for b in range(1, data.shape[0] + 1):
                if names is not None:
                    dst.set_band_description(b, str(names[b - 1]))
                if wavelengths is not None:
                    dst.update_tags(b, wavelength=repr(float(wavelengths[b - 1])), wavelength_units="nm")
            if tags:
                dst.update_tags(**tags)
    return path
