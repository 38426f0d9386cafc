"""Streaming rasters larger than memory in windows of whole rows or tiles; memory bounded by ``max_block_bytes``."""

from __future__ import annotations

import os
import threading
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..core.errors import InputError
from ..core.progress import ProgressCallback, report
from .paths import check_output_paths
from .read import _band_list, default_bands, open_raster, pixel_validity, read_valid_pixels, source_transform
from .transaction import atomic_output
from .write import OUTPUT_NODATA, output_profile

__all__ = ["apply_blockwise", "iter_valid_pixels", "sample_valid_pixels", "plan_windows", "PixelBlock"]

PathLike = Union[str, os.PathLike]
DEFAULT_BLOCK_BYTES = 64 * 2**20

# GDAL's block cache is shared by every thread. rasterio can hold the GIL while it waits for that cache's
# lock (closing or flushing a dataset) while another thread, holding the lock, needs the GIL for GDAL's error
# handler: runs in parallel threads deadlocked so. One lock keeps this module's GDAL calls one at a time;
# the per-block computation still runs in parallel.
GDAL_IO_LOCK = threading.RLock()


@dataclass
class PixelBlock:
    """One window: ``Y`` (L, n_valid) float64 and where those pixels are."""

    row_off: int
    height: int
    Y: np.ndarray
    valid: np.ndarray  # (height, width) bool
    col_off: int = 0

    @property
    def width(self) -> int:
        return self.valid.shape[1]


def _sizes(total: int, step: int) -> Tuple[int, ...]:
    return tuple(min(step, total - s) for s in range(0, total, step))


def _offsets(sizes: Sequence[int]) -> List[int]:
    return [int(v) for v in np.cumsum((0,) + tuple(sizes))[:-1]]


def plan_chunks(
    height: int,
    width: int,
    block_shape: Tuple[int, int],
    n_bands: int,
    itemsize: int,
    n_out: int = 0,
    chunk_rows: Optional[int] = None,
    chunk_bytes: int = DEFAULT_BLOCK_BYTES,
) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """Window (row sizes, column sizes) within ``chunk_bytes`` along the file's internal blocks.

    Whole rows when a strip of blocks fits, else whole tiles; ``chunk_rows`` forces whole rows of that height.
    """
    if chunk_rows:
        return _sizes(height, int(chunk_rows)), (width,)
    # bytes per pixel: raw + float32 cube + float64 Y per band, float64 + float32 per output
    per_px = n_bands * (itemsize + 4 + 8) + n_out * 12
    rows = max(1, int(chunk_bytes // (per_px * max(1, width))))
    bh, bw = (int(v) for v in block_shape)
    if bw >= width or rows >= bh or bh > height:  # strips, or a whole strip of tiles fits
        if bh > 1 and rows >= bh:
            rows -= rows % bh
        return _sizes(height, min(rows, height)), (width,)
    cols = max(bw, int(chunk_bytes // (per_px * bh)) // bw * bw)
    return _sizes(height, bh), _sizes(width, cols)


def plan_windows(
    ds, n_bands: int, block_rows: Optional[int] = None, max_block_bytes: int = DEFAULT_BLOCK_BYTES, n_out: int = 0
) -> Tuple[list, Optional[Tuple[int, int]]]:
    """The windows of ``plan_chunks`` for an open dataset, and the (rows, cols) tile shape they follow (None: rows)."""
    from rasterio.windows import Window

    if block_rows is not None:
        rows, cols = _sizes(ds.height, max(1, int(block_rows))), (ds.width,)
    else:
        itemsize = np.dtype(ds.dtypes[0]).itemsize
        rows, cols = plan_chunks(
            ds.height, ds.width, ds.block_shapes[0], n_bands, itemsize, n_out, None, max_block_bytes
        )
    wins = [Window(c, r, w, h) for r, h in zip(_offsets(rows), rows) for c, w in zip(_offsets(cols), cols)]
    return wins, (tuple(int(v) for v in ds.block_shapes[0]) if len(cols) > 1 else None)


def _iter_blocks(ds, idx, windows, scale: float, use_nodata: bool) -> Iterator[PixelBlock]:
    for win in windows:
        Y, valid = read_valid_pixels(ds, win, idx, use_nodata)
        if scale != 1.0:
            Y *= scale
        yield PixelBlock(int(win.row_off), int(win.height), Y, valid, int(win.col_off))


def _gdal_env(max_block_bytes: int):
    """A GDAL block cache sized to the budget (the default, 5% of RAM, would grow with the raster)."""
    import rasterio

    return rasterio.Env(GDAL_CACHEMAX=int(max(32, 2 * max_block_bytes // 2**20)))


def iter_valid_pixels(
    src_path: PathLike,
    block_rows: Optional[int] = None,
    max_block_bytes: int = DEFAULT_BLOCK_BYTES,
    bands: Optional[Sequence[int]] = None,
    scale: float = 1.0,
    use_nodata: bool = True,
) -> Iterator[PixelBlock]:
    """Yield ``PixelBlock``s (windows from ``plan_windows``) with the valid pixels as an (L, n_valid) matrix."""
    with _gdal_env(max_block_bytes), open_raster(src_path) as ds:
        idx = _band_list(bands, ds.count)
        windows, _ = plan_windows(ds, len(idx), block_rows, max_block_bytes)
        yield from _iter_blocks(ds, idx, windows, scale, use_nodata)


def sample_valid_pixels(
    src_path: PathLike,
    n: int,
    random_state: Optional[int] = None,
    bands: Optional[Sequence[int]] = None,
    scale: float = 1.0,
    block_rows: Optional[int] = None,
    max_block_bytes: int = DEFAULT_BLOCK_BYTES,
    use_nodata: bool = True,
    progress: ProgressCallback = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """Uniform random sample of ``n`` valid pixels (all if fewer) in one reservoir pass.

    Returns ``(Y (L, m) float64, rc (m, 2) int (row, col))`` sorted by row then column.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    rng = np.random.default_rng(random_state)
    keep_Y = keep_rc = keep_key = None
    with open_raster(src_path) as ds:
        total = float(ds.height) * ds.width
    done = 0.0
    report(progress, 0.0, "sampling pixels")
    for blk in iter_valid_pixels(src_path, block_rows, max_block_bytes, bands, scale, use_nodata):
        done += blk.height * blk.width
        report(progress, done / total, "sampling pixels")
        if blk.Y.shape[1] == 0:
            continue
        rr, cc = np.nonzero(blk.valid)
        rc = np.stack([rr + blk.row_off, cc + blk.col_off], axis=1)
        key = rng.random(blk.Y.shape[1])
        if keep_Y is None:
            keep_Y, keep_rc, keep_key = blk.Y, rc, key
        else:
            keep_Y = np.concatenate([keep_Y, blk.Y], axis=1)
            keep_rc = np.concatenate([keep_rc, rc])
            keep_key = np.concatenate([keep_key, key])
        if keep_key.size > n:
            sel = np.argpartition(keep_key, n - 1)[:n]
            keep_Y, keep_rc, keep_key = keep_Y[:, sel], keep_rc[sel], keep_key[sel]
    if keep_Y is None:
        raise InputError(no_valid_pixel_message(src_path, bands, max_block_bytes))
    order = np.lexsort((keep_rc[:, 1], keep_rc[:, 0]))
    return np.ascontiguousarray(keep_Y[:, order]), keep_rc[order]


def apply_blockwise(
    src_path: PathLike,
    dst_path: PathLike,
    func: Callable[[np.ndarray], np.ndarray],
    n_out: int,
    names: Sequence[str],
    block_rows: Optional[int] = None,
    max_block_bytes: int = DEFAULT_BLOCK_BYTES,
    bands: Optional[Sequence[int]] = None,
    scale: float = 1.0,
    progress: ProgressCallback = None,
    like_nodata: bool = True,
) -> Path:
    """Stream ``func(Y (L, n_valid)) -> (n_out, n_valid)`` over a raster into an ``n_out``-band float32 GeoTIFF.

    ``OUTPUT_NODATA`` marks invalid and non-finite pixels; ``scale`` multiplies the values after the file's
    own scale/offset; ``like_nodata=False`` ignores declared nodata. An error deletes the partial output.
    """
    from rasterio.windows import Window

    names, dst_path = checked_output(src_path, dst_path, n_out, names)
    with _gdal_env(max_block_bytes), ExitStack() as opened:
        src = _locked_open(opened, src_path)
        idx = default_bands(src, bands)
        windows, tiles = plan_windows(src, len(idx), block_rows, max_block_bytes, n_out)
        prof = stream_profile(src, dst_path, n_out, tiles)
        if prof["driver"] == "GTiff":  # unwritten blocks stay empty: a cancelled run closes at once
            prof["SPARSE_OK"] = "TRUE"
        n_blocks = len(windows)
        total = float(src.height) * src.width
        done, n_valid = 0.0, 0
        report(progress, 0.0, f"processing {src.height} x {src.width} pixels in {n_blocks} block(s)")
        with atomic_output(dst_path) as tmp, ExitStack() as written:  # closed before atomic_output renames it
            dst = _locked_open(written, tmp, "w", **prof)
            with GDAL_IO_LOCK:
                _describe_bands(dst, names)
            blocks = _iter_blocks(src, idx, windows, scale, like_nodata)
            for k in range(n_blocks):
                with GDAL_IO_LOCK:
                    blk = next(blocks)
                out = valid_outputs(func, blk.Y, blk.valid, n_out)
                with GDAL_IO_LOCK:
                    dst.write(out, window=Window(blk.col_off, blk.row_off, blk.width, blk.height))
                n_valid += blk.Y.shape[1]
                done += blk.width * blk.height
                report(progress, done / total, f"block {k + 1}/{n_blocks}")
            if n_valid == 0:  # raised inside atomic_output: nothing is written
                raise InputError(no_valid_pixel_message(src_path, idx, max_block_bytes, like_nodata))
    return dst_path


def checked_output(src_path: PathLike, dst_path: PathLike, n_out: int, names: Sequence[str]) -> Tuple[list, Path]:
    """(names as strings, output path) once the names fit ``n_out`` and the output path may be written."""
    names = [str(n) for n in names]
    if len(names) != n_out:
        raise ValueError(f"{len(names)} names for {n_out} output bands")
    check_output_paths({"the output": str(dst_path)}, {"raster": str(src_path)}, ["the output"])
    return names, Path(dst_path)


def stream_profile(src, dst_path: Path, n_out: int, tiles) -> dict:
    """The output profile of a streamed run over ``src``: tiled as ``tiles`` (rows, cols) when GeoTIFF allows it."""
    from .write import output_driver

    driver = output_driver(dst_path)
    prof = output_profile(n_out, src.height, src.width, source_transform(src), src.crs, OUTPUT_NODATA, None, driver)
    for k in ("tiled", "blockxsize", "blockysize"):
        prof.pop(k, None)
    if driver == "GTiff" and tiles is not None and tiles[0] % 16 == 0 and tiles[1] % 16 == 0:
        prof.update(tiled=True, blockysize=tiles[0], blockxsize=tiles[1])  # the output's tiles are the windows
    return prof


def _describe_bands(dst, names: Sequence[str]) -> None:
    for i, n in enumerate(names, start=1):
        dst.set_band_description(i, n)


def valid_outputs(func: Callable, Y: np.ndarray, valid: np.ndarray, n_out: int) -> np.ndarray:
    """(n_out, h, w) float32: ``func(Y)`` at the ``valid`` pixels, OUTPUT_NODATA elsewhere and where not finite."""
    out = np.full((n_out,) + valid.shape, OUTPUT_NODATA, dtype=np.float32)
    if Y.shape[1]:
        res = np.asarray(func(Y), dtype=np.float32)
        if res.shape != (n_out, Y.shape[1]):
            raise ValueError(f"func returned shape {res.shape}, expected {(n_out, Y.shape[1])}")
        res[~np.isfinite(res)] = OUTPUT_NODATA
        out[:, valid] = res
    return out


def _locked_open(stack: ExitStack, path, *args, **kwargs):
    """``open_raster`` under ``GDAL_IO_LOCK``, closed (under the lock too) when ``stack`` exits."""
    with GDAL_IO_LOCK:
        ds = open_raster(path, *args, **kwargs)

    def close():
        with GDAL_IO_LOCK:
            ds.close()

    stack.callback(close)
    return ds


def no_valid_pixel_message(
    src_path: PathLike,
    bands: Optional[Sequence[int]] = None,
    max_block_bytes: int = DEFAULT_BLOCK_BYTES,
    use_nodata: bool = True,
) -> str:
    """Why a raster has no valid pixel: the bands with no usable value anywhere (all NaN/inf or nodata), if any."""
    from .bands import format_band_ranges

    with _gdal_env(max_block_bytes), open_raster(src_path) as ds:
        idx = _band_list(bands, ds.count)
        windows, _ = plan_windows(ds, len(idx), None, max_block_bytes)
        seen = np.zeros(len(idx), dtype=bool)
        for win in windows:
            for k, b in enumerate(idx):
                if not seen[k]:
                    raw = ds.read([b], window=win)
                    seen[k] = pixel_validity(raw, [ds.nodatavals[b - 1]], use_nodata).any()
            if seen.all():
                break
    empty = [b for b, ok in zip(idx, seen) if not ok]
    if empty:
        return (
            f"the raster has no valid pixel: band(s) {format_band_ranges(empty)} hold no value anywhere (all NaN "
            "or nodata), and a pixel needs every band; drop those bands (BAD_BANDS, or their rows of the endmember "
            "CSV)"
        )
    return "the raster has no valid pixel (all nodata or NaN)"
