"""Streaming processing of rasters larger than memory, in windows of whole rows.

Validity follows ``engine.io.raster`` (NaN/inf in any band, or nodata in every
band that declares one). Peak memory is bounded by ``max_block_bytes`` (plus
the sample kept by ``sample_valid_pixels``), not by the raster size.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence, Tuple, Union

import numpy as np

from ..progress import ProgressCallback, report
from .raster import OUTPUT_NODATA, _band_list, atomic_output, open_raster, output_profile, read_block

__all__ = ["apply_blockwise", "iter_valid_pixels", "sample_valid_pixels", "row_windows", "PixelBlock"]

PathLike = Union[str, os.PathLike]


@dataclass
class PixelBlock:
    """One block of rows: ``Y`` (L, n_valid) float64 and where those pixels are."""

    row_off: int
    height: int
    Y: np.ndarray
    valid: np.ndarray  # (height, width) bool


def _block_rows(ds, n_bands: int, block_rows: Optional[int], max_block_bytes: int, n_out: int = 0) -> int:
    if block_rows is not None:
        return max(1, int(block_rows))
    # per row: raw + float32 cube + float64 Y (bands) and float64 + float32 outputs
    per_row = ds.width * (n_bands * (np.dtype(ds.dtypes[0]).itemsize + 4 + 8) + n_out * 12)
    rows = max(1, int(max_block_bytes // max(per_row, 1)))
    internal = ds.block_shapes[0][0]
    if internal > 1 and rows >= internal:
        rows -= rows % internal  # whole internal blocks: each is decoded once
    return min(rows, ds.height)


def row_windows(height: int, block_rows: int) -> Iterator[Tuple[int, int]]:
    """(row_off, n_rows) covering ``height`` rows."""
    for r in range(0, height, block_rows):
        yield r, min(block_rows, height - r)


def _iter_blocks(ds, idx, rows: int, scale: float, use_nodata: bool) -> Iterator[PixelBlock]:
    from rasterio.windows import Window

    for r0, h in row_windows(ds.height, rows):
        cube, valid = read_block(ds, Window(0, r0, ds.width, h), idx, use_nodata)
        Y = cube[:, valid].astype(np.float64)
        del cube
        if scale != 1.0:
            Y *= scale
        yield PixelBlock(r0, h, Y, valid)


def iter_valid_pixels(src_path: PathLike, block_rows: Optional[int] = None, max_block_bytes: int = 64 * 2 ** 20,
                      bands: Optional[Sequence[int]] = None, scale: float = 1.0,
                      use_nodata: bool = True) -> Iterator[PixelBlock]:
    """Yield ``PixelBlock``s of whole rows with the valid pixels as an (L, n_valid) matrix."""
    with open_raster(src_path) as ds:
        idx = _band_list(bands, ds.count)
        rows = _block_rows(ds, len(idx), block_rows, max_block_bytes)
        yield from _iter_blocks(ds, idx, rows, scale, use_nodata)


def sample_valid_pixels(src_path: PathLike, n: int, random_state: Optional[int] = None,
                        bands: Optional[Sequence[int]] = None, scale: float = 1.0,
                        block_rows: Optional[int] = None, max_block_bytes: int = 64 * 2 ** 20,
                        use_nodata: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """Uniform random sample of ``n`` valid pixels (all of them if fewer), in one pass.

    Each valid pixel gets a random key; the ``n`` smallest keys are kept while
    streaming (a reservoir), so memory is O(n * L + one block). Returns
    ``(Y (L, m) float64, rc (m, 2) int (row, col))`` sorted by row then column.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    rng = np.random.default_rng(random_state)
    keep_Y = keep_rc = keep_key = None
    for blk in iter_valid_pixels(src_path, block_rows, max_block_bytes, bands, scale, use_nodata):
        if blk.Y.shape[1] == 0:
            continue
        rr, cc = np.nonzero(blk.valid)
        rc = np.stack([rr + blk.row_off, cc], axis=1)
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
        raise ValueError(f"{src_path}: the raster has no valid pixel")
    order = np.lexsort((keep_rc[:, 1], keep_rc[:, 0]))
    return np.ascontiguousarray(keep_Y[:, order]), keep_rc[order]


def apply_blockwise(src_path: PathLike, dst_path: PathLike, func: Callable[[np.ndarray], np.ndarray],
                    n_out: int, names: Sequence[str], block_rows: Optional[int] = None,
                    max_block_bytes: int = 64 * 2 ** 20, bands: Optional[Sequence[int]] = None,
                    scale: float = 1.0, progress: ProgressCallback = None, like_nodata: bool = True,
                    nodata: float = OUTPUT_NODATA, compress: Optional[str] = None) -> Path:
    """Stream ``func`` over a raster: ``func(Y (L, n_valid)) -> (n_out, n_valid)`` per block of rows.

    Writes a float32 GeoTIFF with ``n_out`` bands named ``names``, the source's
    georeferencing, and ``nodata`` at invalid input pixels and non-finite
    outputs. ``scale`` multiplies the pixel values (after the file's own
    scale/offset). ``like_nodata=False`` ignores the source's declared nodata
    values (only NaN/inf pixels are skipped). Progress is reported per block; a
    ``Cancelled`` (or any error) raised by ``progress`` or ``func`` deletes the
    partial output and propagates.
    """
    from rasterio.windows import Window

    names = [str(n) for n in names]
    if len(names) != n_out:
        raise ValueError(f"{len(names)} names for {n_out} output bands")
    dst_path = Path(dst_path)
    with open_raster(src_path) as src:
        idx = _band_list(bands, src.count)
        rows = _block_rows(src, len(idx), block_rows, max_block_bytes, n_out)
        prof = output_profile(n_out, src.height, src.width, src.transform, src.crs, nodata, compress)
        if block_rows is None and prof.get("tiled") and rows >= 256:
            rows -= rows % 256  # whole output tiles per block
        n_blocks = -(-src.height // rows)
        report(progress, 0.0, f"processing {src.height} rows in {n_blocks} block(s)")
        with atomic_output(dst_path) as tmp:
            with open_raster(tmp, "w", **prof) as dst:
                for i, n in enumerate(names, start=1):
                    dst.set_band_description(i, n)
                for k, blk in enumerate(_iter_blocks(src, idx, rows, scale, like_nodata)):
                    out = np.full((n_out,) + blk.valid.shape, nodata, dtype=np.float32)
                    if blk.Y.shape[1]:
                        res = np.asarray(func(blk.Y), dtype=np.float32)
                        if res.shape != (n_out, blk.Y.shape[1]):
                            raise ValueError(f"func returned shape {res.shape}, expected {(n_out, blk.Y.shape[1])}")
                        res[~np.isfinite(res)] = nodata
                        out[:, blk.valid] = res
                    dst.write(out, window=Window(0, blk.row_off, src.width, blk.height))
                    report(progress, (blk.row_off + blk.height) / src.height, f"block {k + 1}/{n_blocks}")
    return dst_path
