"""BUDDIP and UnDIP on rasters larger than the memory budget: tiles read from disk, blended on disk.

One first guess from a pixel sample of the whole raster (the estimator's :meth:`guidance`); each overlapping
tile is fitted by a copy of the estimator from it, and its maps, weighted by the ramps of
:func:`engine.dip.tiling.ramp_weights`, are added into an accumulator file beside the output. The endmembers
are the tiles' pixel-weighted mean; the abundances are FCLS for them (streamed) or the blended network maps.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np
from sklearn.base import clone

from ..abundances.fcls import fcls
from ..core.progress import ProgressCallback, report, sub_progress
from ..core.torch_support import resolve_device
from ..io.memory import DEFAULT_MEMORY_MB
from . import tiling

MIN_TILE_PIXELS = 64 * 64
# Address space the first fit in a process takes once and keeps (OpenBLAS's work buffer, torch's optimiser
# machinery, allocator arenas), measured by benchmarks/resources.py --case dip_tile_memory (tests/engine/dip/test_from_disk.py)
WARM_UP_BYTES = 256 * 2**20
_WARMED_UP = False  # the libraries keep their one-off buffers: once per process is enough
CUBE_BYTES_PER_VALUE = 32
_ACCUMULATOR = dict(
    driver="GTiff", dtype="float32", tiled=True, blockxsize=256, blockysize=256, SPARSE_OK="TRUE"
)  # the tile as read (float32), the float64 pixel matrix and the prepared copies


@dataclass
class DiskTilesFit:
    """What the from-disk fit learned: ``endmembers_`` (L, p), the tile windows, and FCLS abundances
    ``abundances_`` (p, 1, n) of the guidance sample for the learned endmembers (for a report's RMSE)."""

    endmembers_: np.ndarray
    abundances_: np.ndarray
    tiles_: List[tiling.Window] = field(default_factory=list)
    output_: str = "fcls"


def tile_pixels(estimator, n_bands: int, memory_mb: float, device="cpu") -> int:
    """The largest tile (pixels) whose read cube fits ``memory_mb`` and whose networks fit the device."""
    network = tiling.pixel_limit("auto", resolve_device(device), estimator.bytes_per_pixel(n_bands), memory_mb)
    cube = int(tiling.memory_budget_bytes("cpu", memory_mb) // (n_bands * CUBE_BYTES_PER_VALUE))
    return max(MIN_TILE_PIXELS, min(network, cube))


def fit_tiles_from_disk(
    estimator,
    src_path,
    dst_path,
    names: Union[Sequence[str], str],
    sample: np.ndarray,
    *,
    bands: Optional[Sequence[int]] = None,
    scale: float = 1.0,
    memory_mb: float = DEFAULT_MEMORY_MB,
    max_tile_pixels: Optional[int] = None,
    progress: ProgressCallback = None,
) -> DiskTilesFit:
    """Fit ``estimator`` (an unfitted BUDDIP or UnDIP, through its ``guidance``, ``tile_copy`` and
    ``abundance_source``) tile by tile on the raster ``src_path`` and write its abundances to ``dst_path``;
    ``sample`` (L, n) is a random sample of valid pixels (in reflectance, i.e. already multiplied by ``scale``)
    that gives the first guess. ``names``: the output bands' names, or a prefix (``<prefix>_1`` ...). Returns
    a :class:`DiskTilesFit`."""
    from ..io.blockwise import GDAL_IO_LOCK, _locked_open, apply_blockwise  # noqa: PLC0415 - rasterio when used
    from ..io.fitting import block_bytes  # noqa: PLC0415
    from ..io.memory import check_address_space  # noqa: PLC0415
    from ..io.paths import check_output_paths  # noqa: PLC0415
    from ..io.raster import _band_list, raster_info, read_valid_pixels  # noqa: PLC0415
    from ..io.write_checks import gdal_errors, temp_path  # noqa: PLC0415

    check_output_paths({"the output": str(dst_path)}, {"raster": str(src_path)})
    info = raster_info(src_path)
    idx = _band_list(bands, info.count)
    # the smallest tile within the share of free memory a fit may take
    smallest = MIN_TILE_PIXELS * estimator.bytes_per_pixel(len(idx)) / tiling.CPU_AVAILABLE_FRACTION
    hint = "raise the limit, or run where it is higher"
    if _WARMED_UP:
        limited = check_address_space(smallest, "Fitting in tiles read from disk (the smallest tile)", hint)
    else:
        limited = check_address_space(
            WARM_UP_BYTES + smallest,
            "Fitting in tiles read from disk (the libraries' one-off buffers and the smallest tile)",
            hint,
        )
    Y_sample = np.asarray(sample, dtype=np.float64)
    report(progress, 0.0, "first guess from a pixel sample")
    E0 = estimator.guidance(Y_sample)[0]
    p = E0.shape[1]
    names = [f"{names}_{i + 1}" for i in range(p)] if isinstance(names, str) else [str(n) for n in names]
    if len(names) != p:
        raise ValueError(f"{len(names)} names for {p} endmembers")
    H, W = info.height, info.width
    blended = estimator.abundance_source() != "fcls"
    per_tile = estimator.tile_copy(E0)
    if limited is not None:
        _warm_up(per_tile, E0)
        check_address_space(
            smallest, "Fitting in tiles read from disk (the smallest tile, after the libraries' buffers)", hint
        )
    # sized after the warm-up: from the memory the libraries' buffers left
    limit = max_tile_pixels or tile_pixels(estimator, len(idx), memory_mb, getattr(estimator, "device", "cpu"))
    windows, overlap = tiling.tile_windows((H, W), int(limit), int(estimator.resolved_settings()["tile_overlap"]))
    dst_path = Path(dst_path)
    accumulator = temp_path(dst_path)  # this run's own: a concurrent run with the same output has another
    E_sum, n_sum = np.zeros_like(E0, dtype=np.float64), 0
    try:
        with gdal_errors(accumulator, dst_path), ExitStack() as opened:  # closed before the last pass reads it
            src = _locked_open(opened, src_path)
            grid = dict(width=W, height=H, count=p + 1, crs=info.crs, transform=info.transform)
            acc = _locked_open(opened, accumulator, "w+", **grid, **_ACCUMULATOR)
            for k, win in enumerate(windows):
                lo, hi = 0.9 * k / len(windows), 0.9 * (k + 1) / len(windows)
                report(progress, lo, f"tile {k + 1}/{len(windows)}")
                window = _rio_window(*win)
                with GDAL_IO_LOCK:
                    Y, valid = read_valid_pixels(src, window, idx, True)
                n = int(valid.sum())
                if n == 0:
                    continue
                cube = np.zeros((len(idx), *valid.shape), dtype=np.float32)
                cube[:, valid] = Y * scale
                if np.ptp(cube[:, valid], axis=1).max() == 0:  # nothing to learn (a filled area): the first guess
                    E_tile, A_tile = E0, np.zeros((p, *valid.shape))
                    A_tile[:, valid] = fcls(cube[:, valid].astype(np.float64), E0)
                else:
                    model = clone(per_tile).set_params(progress=sub_progress(progress, lo, hi)).fit(cube, valid)
                    E_tile, A_tile = model.endmembers_, model.abundances_
                E_sum += n * np.asarray(E_tile, dtype=np.float64)
                n_sum += n
                weight = (tiling.ramp_weights(win, (H, W), overlap) * valid).astype(np.float32)
                maps = np.nan_to_num(np.asarray(A_tile, dtype=np.float32)) * weight
                with GDAL_IO_LOCK:
                    old = acc.read(window=window)
                    old[:p] += maps
                    old[p] += weight
                    acc.write(old, window=window)
        if n_sum == 0:
            raise ValueError("no tile has a valid pixel")
        E = E_sum / n_sum
        stream = dict(max_block_bytes=block_bytes(memory_mb), progress=sub_progress(progress, 0.9, 1.0))
        if blended:
            apply_blockwise(accumulator, dst_path, _weighted_mean, p, names, like_nodata=False, **stream)
        else:
            apply_blockwise(src_path, dst_path, partial(fcls, E=E), p, names, bands=bands, scale=scale, **stream)
    finally:
        with GDAL_IO_LOCK:
            accumulator.unlink(missing_ok=True)
    A_sample = fcls(Y_sample, E)[:, None, :]
    return DiskTilesFit(E, A_sample, windows, "blended network maps" if blended else "fcls")


def _warm_up(per_tile, E0: np.ndarray) -> None:
    """Under an address-space limit, before the tile size is computed from what is left: one large BLAS product
    and a one-iteration fit of a 32 x 32 tile, so the libraries take their one-off buffers now. OpenBLAS in
    particular retries forever, instead of failing, when its work buffer cannot be had."""
    global _WARMED_UP
    a = np.ones((512, 512))
    a @ a
    A = np.random.default_rng(0).dirichlet(np.ones(E0.shape[1]), size=32 * 32).T
    cube = (E0 @ A).reshape(E0.shape[0], 32, 32).astype(np.float32)
    clone(per_tile).set_params(n_iter=1, progress=None).fit(cube)
    _WARMED_UP = True


def _rio_window(rows: slice, cols: slice):
    from rasterio.windows import Window  # noqa: PLC0415

    return Window(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)


def _weighted_mean(Y: np.ndarray) -> np.ndarray:
    """Accumulated weighted maps (first p rows) over the accumulated weight (last row); NaN where no weight."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(Y[-1:] > 0, Y[:-1] / Y[-1:], math.nan)
