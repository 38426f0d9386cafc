"""Applying a fitted model to a raster on a Dask cluster, writing a GeoTIFF.

Workers read their own windows (the file must be at the same path for all) and the caller writes; ``func``
must be picklable and the workers need numpy, scipy, rasterio and this package.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import os
from collections import deque
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Union

import numpy as np

from ..core.progress import ProgressCallback, report
from .blockwise import (
    DEFAULT_BLOCK_BYTES,
    _describe_bands,
    _offsets,
    checked_output,
    plan_chunks,
    stream_profile,
    valid_outputs,
)
from .read import _band_list, default_bands, open_raster, read_block
from .transaction import atomic_output

__all__ = ["read_dask_array", "apply_distributed", "fcls_func", "predictor", "plan_chunks"]

PathLike = Union[str, os.PathLike]
POLL_SECONDS = 0.5  # while waiting for a chunk from a cluster, progress (and so a cancel) is checked this often


def _import_dask():
    try:
        import dask  # noqa: F401
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the distributed route needs dask: pip install 'dask[array]' distributed") from exc
    return da


def _read_window(
    path: str, row_off: int, col_off: int, height: int, width: int, idx: List[int], use_nodata: bool
) -> np.ndarray:
    """One chunk: (bands, height, width) float32 with NaN at invalid pixels (runs on a worker)."""
    with open_raster(path) as ds:
        cube, _ = read_block(ds, (row_off, col_off, height, width), idx, use_nodata)
    return cube


def read_dask_array(
    src_path: PathLike,
    chunk_rows: Optional[int] = None,
    bands: Optional[Sequence[int]] = None,
    use_nodata: bool = True,
    chunk_bytes: int = DEFAULT_BLOCK_BYTES,
    n_out: int = 0,
):
    """Lazy (bands, rows, cols) float32 ``dask.array`` of a raster, one task per window (``plan_chunks``); NaN = invalid."""
    da = _import_dask()
    import dask

    path = str(Path(src_path).resolve())
    with open_raster(path) as ds:
        idx = _band_list(bands, ds.count)
        itemsize = np.dtype(ds.dtypes[0]).itemsize
        rows, cols = plan_chunks(
            ds.height, ds.width, ds.block_shapes[0], len(idx), itemsize, n_out, chunk_rows, chunk_bytes
        )
    reader = dask.delayed(_read_window, pure=True)

    def chunk(r, c, h, w):
        return da.from_delayed(reader(path, r, c, h, w, idx, use_nodata), shape=(len(idx), h, w), dtype=np.float32)

    grid = [[chunk(r, c, h, w) for c, w in zip(_offsets(cols), cols)] for r, h in zip(_offsets(rows), rows)]
    return grid[0][0] if len(grid) == len(grid[0]) == 1 else da.block(grid)


def _apply_chunk(block: np.ndarray, func: Callable, n_out: int, scale: float) -> np.ndarray:
    """(n_out, h, w) float32 outputs of ``func`` on the valid (all-finite) pixels of a (L, h, w) chunk."""
    valid = np.all(np.isfinite(block), axis=0)
    Y = block[:, valid].astype(np.float64)
    if scale != 1.0:
        Y *= scale
    return valid_outputs(func, Y, valid, n_out)


def fcls_func(E: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Picklable FCLS abundances for fixed endmembers E (L, p)."""
    from ..abundances.fcls import fcls

    return functools.partial(fcls, E=np.asarray(E, dtype=np.float64))


def predictor(estimator) -> Callable[[np.ndarray], np.ndarray]:
    """Picklable ``predict_abundances`` of a fitted estimator (e.g. DDICA), without its maps or progress callback."""
    if not hasattr(estimator, "predict_abundances"):
        raise TypeError(f"{type(estimator).__name__} has no predict_abundances")
    light = copy.copy(estimator)
    light.progress = None  # a QGIS feedback closure would not pickle
    for big in ("abundances_", "reconstruction_error_"):
        light.__dict__.pop(big, None)
    return light.predict_abundances


def apply_distributed(
    src_path: PathLike,
    dst_path: PathLike,
    func: Callable[[np.ndarray], np.ndarray],
    n_out: int,
    names: Sequence[str],
    client=None,
    chunk_rows: Optional[int] = None,
    bands: Optional[Sequence[int]] = None,
    scale: float = 1.0,
    use_nodata: bool = True,
    max_in_flight: Optional[int] = None,
    chunk_bytes: int = DEFAULT_BLOCK_BYTES,
    progress: ProgressCallback = None,
) -> Path:
    """:func:`~deepunmix.engine.io.blockwise.apply_blockwise`'s output, computed on a Dask cluster.

    ``client``: a ``distributed.Client``, None for dask's local threads; ``bands``: 1-based bands (default: all
    but bad and alpha bands); ``max_in_flight``: chunks submitted ahead of the writer (default: 2 x threads).
    """
    import dask

    names, dst_path = checked_output(src_path, dst_path, n_out, names)
    with open_raster(src_path) as src:
        idx = default_bands(src, bands)
        H, W = src.height, src.width
        x = read_dask_array(src_path, chunk_rows, idx, use_nodata, chunk_bytes, n_out)
        tiles = (x.chunks[1][0], x.chunks[2][0]) if len(x.chunks[2]) > 1 else None
        prof = stream_profile(src, dst_path, n_out, tiles)
    if client is not None:  # sent to every worker once, not with every chunk's graph
        f = client.scatter(func, broadcast=True, hash=False)
    else:
        f = dask.delayed(func, pure=True, traverse=False)
    out = x.map_blocks(
        _apply_chunk,
        f,
        n_out,
        float(scale),
        dtype=np.float32,
        chunks=((n_out,), x.chunks[1], x.chunks[2]),
    )
    blocks = out.to_delayed().ravel()  # row-major: row chunk by row chunk, left to right
    offsets = [(r, c) for r in _offsets(x.chunks[1]) for c in _offsets(x.chunks[2])]
    if max_in_flight is None:
        threads = sum(client.nthreads().values()) if client is not None else (os.cpu_count() or 1)
        max_in_flight = max(2, 2 * threads)
    report(
        progress,
        0.0,
        f"applying to {H} x {W} pixels in {len(blocks)} chunk(s) of up to {x.chunks[1][0]} x {x.chunks[2][0]} pixels",
    )
    try:
        with atomic_output(dst_path) as tmp:
            with open_raster(tmp, "w", **prof) as dst:
                _describe_bands(dst, names)
                chunks = _results(blocks, offsets, client, max_in_flight, progress, len(blocks))
                for k, ((row_off, col_off), data) in enumerate(chunks):
                    dst.write(data, window=((row_off, row_off + data.shape[1]), (col_off, col_off + data.shape[2])))
                    report(progress, (k + 1) / len(blocks), f"chunk {k + 1}/{len(blocks)} written")
    finally:
        if client is not None:
            f.release()
    return dst_path


def _results(blocks, offsets, client, max_in_flight: int, progress: ProgressCallback = None, total: int = 1):
    """Yield ((row_off, col_off), array) in chunk order with at most ``max_in_flight`` chunks submitted.

    ``progress`` is called while waiting too, so a cancel stops the run promptly."""
    done = [0]

    def tick(*_):
        report(progress, done[0] / total, f"computing chunk {done[0] + 1}/{total}")

    if client is None:
        results = _local_results(blocks, max_in_flight, tick)
    else:
        results = _cluster_results(blocks, client, max_in_flight, tick)
    try:
        for off, arr in zip(offsets, results):
            yield off, arr
            done[0] += 1
    finally:
        results.close()


def _local_results(blocks, max_in_flight: int, tick):
    """Chunks computed on local threads in ordered batches of ``max_in_flight``."""
    import dask
    from dask.callbacks import Callback

    for s in range(0, len(blocks), max_in_flight):
        with Callback(posttask=tick):
            batch = dask.compute(*blocks[s : s + max_in_flight], scheduler="threads")
        yield from batch


def _cluster_results(blocks, client, max_in_flight: int, tick):
    """Chunks computed on a cluster, ``max_in_flight`` submitted ahead; on error or cancellation, what is still
    queued on the cluster is dropped."""
    pending: deque = deque()

    def take():
        fut = pending.popleft()
        while True:
            try:
                result = fut.result(timeout=POLL_SECONDS)
                break
            except (TimeoutError, asyncio.TimeoutError):
                tick()
        return fut, result

    try:
        for blk in blocks:
            pending.append(client.compute(blk))
            if len(pending) >= max_in_flight:
                fut, result = take()
                yield result
                fut.release()
        while pending:
            fut, result = take()
            yield result
            fut.release()
    finally:
        for fut in pending:
            fut.cancel()
