"""How fast a cancelled FCLS stream on a huge raster returns, and what it writes meanwhile.

A sparse float32 GeoTIFF of SIZE x SIZE pixels and 8 bands (a few KB on disk, read as zeros) is
unmixed with ``engine.io.blockwise.apply_blockwise`` (FCLS, 3 endmembers, 64 MiB blocks); the
progress callback raises ``Cancelled`` after the first block. Recorded: seconds from the cancel to
the return, the largest size the hidden ``.partial`` output reached (polled every 20 ms), and the
files left behind. For comparison, the same 3-band output GeoTIFF is created, one block written
and closed with and without ``SPARSE_OK`` (GDAL fills every unwritten block at close without it:
the cause of the 35-45 s cancels reported in issue 14).

Usage: .venv/bin/python benchmarks/cancel_latency.py [--quick] [--size 8000] [--workdir /tmp]
Writes benchmarks/results/cancel_latency.md and .json (results/quick/cancel_latency.* with --quick). Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from _machine import canonical, machine
from _tables import RESULTS, results_name, table, write

N_BANDS, N_END = 8, 3
CASES = {  # what is measured (the results key) -> its row in the table
    "stream": "apply_blockwise cancelled after block 1: cancel -> return",
    "close_without_sparse_ok": "GeoTIFF, one block written, close without SPARSE_OK (before)",
    "close_with_sparse_ok": "GeoTIFF, one block written, close with SPARSE_OK (now)",
}


def sparse_input(path: Path, size: int) -> None:
    import rasterio

    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=size,
        height=size,
        count=N_BANDS,
        dtype="float32",
        tiled=True,
        SPARSE_OK="TRUE",
        BIGTIFF="YES",
    ) as ds:
        ds.write(np.full((N_BANDS, 16, 16), 0.5, np.float32), window=((0, 16), (0, 16)))


class Poll:
    """The largest total size of ``*.partial*`` files in a folder, sampled every 20 ms."""

    def __init__(self, folder: Path):
        self.folder, self.peak, self._stop = folder, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            size = sum(p.stat().st_size for p in self.folder.glob(".*partial*") if p.exists())
            self.peak = max(self.peak, size)
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def cancelled_stream(src: Path, folder: Path) -> dict:
    from deepunmix.engine.abundances.fcls import fcls
    from deepunmix.engine.core.progress import Cancelled
    from deepunmix.engine.io.blockwise import apply_blockwise

    E = np.abs(np.random.default_rng(0).normal(size=(N_BANDS, N_END))) + 0.1
    cancel_at = {}

    def progress(fraction, message=""):
        if fraction > 0:
            cancel_at["t"] = time.perf_counter()
            raise Cancelled()

    out = folder / "a.tif"
    with Poll(folder) as poll:
        try:
            apply_blockwise(
                src,
                out,
                lambda Y: fcls(Y, E),
                N_END,
                [f"e{i}" for i in range(N_END)],
                max_block_bytes=64 * 2**20,
                progress=progress,
            )
        except Cancelled:
            returned = time.perf_counter()
    left = sorted(p.name for p in folder.iterdir() if p.name != src.name)
    return {"cancel_to_return_s": returned - cancel_at["t"], "partial_peak_bytes": poll.peak, "files_left": left}


def close_after_one_block(folder: Path, size: int, sparse: bool) -> dict:
    import rasterio

    path = folder / f"close_{'sparse' if sparse else 'filled'}.tif"
    opts = {"SPARSE_OK": "TRUE"} if sparse else {}
    ds = rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=size,
        height=size,
        count=N_END,
        dtype="float32",
        nodata=-9999.0,
        BIGTIFF="IF_SAFER",
        **opts,
    )
    ds.write(np.zeros((N_END, 256, size), np.float32), window=((0, 256), (0, size)))
    t = time.perf_counter()
    ds.close()
    seconds = time.perf_counter() - t
    nbytes = path.stat().st_size
    path.unlink()
    return {"close_s": seconds, "file_bytes": nbytes}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=None, help="raster side in pixels (default 8000, 2000 with --quick)")
    ap.add_argument("--workdir", default=tempfile.gettempdir())
    ap.add_argument("--quick", action="store_true", help="a 2000 x 2000 raster, results in results/quick/")
    ap.add_argument("--out", default=None, help="results path without suffix (default results/[quick/]cancel_latency)")
    args = ap.parse_args()
    args.size = args.size or (2000 if args.quick else 8000)
    out = Path(args.out) if args.out else RESULTS / results_name("cancel_latency", args.quick)
    info = machine(with_torch=False)
    folder = Path(tempfile.mkdtemp(prefix="cancel_latency_", dir=args.workdir))
    try:
        src = folder / "in.tif"
        sparse_input(src, args.size)
        stream = cancelled_stream(src, folder)
        filled = close_after_one_block(folder, args.size, sparse=False)
        sparse = close_after_one_block(folder, args.size, sparse=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = {
        "size": args.size,
        "output_bytes_if_filled": N_END * args.size * args.size * 4,
        "stream": stream,
        "close_without_sparse_ok": filled,
        "close_with_sparse_ok": sparse,
        "load": os.getloadavg(),
        "machine": info,
    }
    print(write(out.name, render(result), result, folder=out.parent).read_text())


def render(result) -> str:
    """The Markdown page of a run, from its results payload."""
    mib = 2**20
    # results written before the machine record carried the date and CPU at their top
    m = canonical(result.get("machine") or {"date_utc": result.get("date"), "cpu": result.get("cpu")})
    cells = {
        "stream": lambda r: (
            f"{r['cancel_to_return_s']:.2f}",
            f"peak .partial {r['partial_peak_bytes'] / mib:,.1f} MiB; left behind: {', '.join(r['files_left']) or 'nothing'}",
        ),
        "close_without_sparse_ok": lambda r: (f"{r['close_s']:.2f}", f"{r['file_bytes'] / mib:,.1f} MiB"),
        "close_with_sparse_ok": lambda r: (f"{r['close_s']:.2f}", f"{r['file_bytes'] / mib:,.1f} MiB"),
    }
    md = [
        "# Cancelling FCLS on a huge raster (benchmarks/cancel_latency.py)",
        "",
        f"{result['size']} x {result['size']} pixels, {N_BANDS} bands in, {N_END} float32 bands out "
        f"({result['output_bytes_if_filled'] / mib:,.0f} MiB if every block were written); {m['date_utc']}, {m['cpu']}, "
        f"load {result['load'][0]:.1f} (a shared machine: timings are noise-prone).",
        "",
        table(
            ("what", "seconds", "bytes on disk"), [(label, *cells[key](result[key])) for key, label in CASES.items()]
        ),
        "",
    ]
    return "\n".join(md)


if __name__ == "__main__":
    main()
