"""Peak memory and speed of streaming unmixing (engine.io.blockwise) vs reading the whole raster.

For rasters of growing size (float32 GeoTIFF, procedural spectra, Dirichlet
abundances, 30 dB noise, a nodata border), each run happens in a fresh child
process whose peak resident memory (VmHWM) is recorded:
  * streamed: apply_blockwise(..., func=FCLS with fixed endmembers, max_block_bytes=16 MiB)
  * in-memory: read_raster + fcls on all valid pixels + write_abundances
  * import-only: the interpreter with numpy/scipy/rasterio/engine imported (the floor)
Both outputs are compared (max abs difference).

Usage: .venv/bin/python benchmarks/blockwise_memory.py [--quick]
Writes benchmarks/results/blockwise_memory.md and .json (results/quick/blockwise_memory.* with --quick).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from _machine import machine, run_child, status_kib
from _tables import results_name, table, write

ROOT = Path(__file__).resolve().parents[1]

SEED = 0
N_BANDS, N_END = 64, 4
BLOCK_BYTES = 16 * 2**20
# (height, width, tiled): each raster streamed and read whole, in a fresh child process
CASES = ((512, 512, True), (1024, 1024, True), (2048, 2048, True), (2048, 2048, False))
QUICK_CASES = ((256, 256, True), (512, 512, True), (1024, 1024, True), (1024, 1024, False))


def make_raster(path: Path, height: int, width: int, tiled: bool = True) -> np.ndarray:
    """Write the test raster in row chunks (bounded memory); return the endmembers."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    from deepunmix.engine.io.synthetic import procedural_library

    E, wl, _ = procedural_library(n_bands=N_BANDS, n_spectra=N_END, random_state=SEED)
    rng = np.random.default_rng(SEED)
    prof = dict(
        driver="GTiff",
        dtype="float32",
        count=N_BANDS,
        height=height,
        width=width,
        nodata=-9999.0,
        transform=from_origin(500000, 4000000, 30, 30),
        crs="EPSG:32633",
    )
    if tiled:
        prof.update(tiled=True, blockxsize=256, blockysize=256)
    with rasterio.open(path, "w", **prof) as d:
        for r0 in range(0, height, 256):
            h = min(256, height - r0)
            A = rng.dirichlet(np.full(N_END, 0.5), size=h * width).T
            X = E @ A
            X += rng.normal(0, np.sqrt(np.mean(X**2) / 10**3.0), X.shape)
            block = X.reshape(N_BANDS, h, width).astype(np.float32)
            block[:, :, :8] = -9999.0  # nodata border
            d.write(block, window=Window(0, r0, width, h))
    np.save(path.with_suffix(".E.npy"), E)
    return E


def child(mode: str, src: str, dst: str) -> None:
    from deepunmix.engine.abundances.fcls import fcls
    from deepunmix.engine.io.blockwise import apply_blockwise
    from deepunmix.engine.io.raster import read_raster, write_abundances

    t0 = time.perf_counter()
    if mode != "import-only":
        E = np.load(Path(src).with_suffix(".E.npy"))
        names = [f"em{k + 1}" for k in range(E.shape[1])]
    if mode == "streamed":
        apply_blockwise(src, dst, lambda Y: fcls(Y, E), E.shape[1], names, max_block_bytes=BLOCK_BYTES)
    elif mode == "in-memory":
        r = read_raster(src)
        A = np.full((E.shape[1],) + r.mask.shape, np.nan, np.float32)
        A[:, r.mask] = fcls(r.cube[:, r.mask].astype(np.float64), E)
        write_abundances(dst, A, names, like=r)
    dt = time.perf_counter() - t0
    print(json.dumps({"seconds": dt, "maxrss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """VmHWM of this process (ru_maxrss would include the parent's peak inherited through fork)."""
    try:
        return status_kib("VmHWM") / 1024
    except (OSError, KeyError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def max_diff(a: Path, b: Path) -> float:
    from deepunmix.engine.io.raster import read_raster

    ra, rb = read_raster(a), read_raster(b)
    if not np.array_equal(ra.mask, rb.mask):
        return float("inf")
    return float(np.nanmax(np.abs(ra.cube - rb.cube)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="rasters up to 1024 x 1024 instead of 2048 x 2048")
    ap.add_argument("--child", nargs=3)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    sizes = QUICK_CASES if args.quick else CASES
    rows = []
    with tempfile.TemporaryDirectory() as td:
        td = Path(td)
        floor = run_child(__file__, "import-only", td / "none", td / "none")
        for h, w, tiled in sizes:
            src = td / f"src_{h}x{w}.tif"
            make_raster(src, h, w, tiled)
            s = run_child(__file__, "streamed", src, td / "s.tif")
            m = run_child(__file__, "in-memory", src, td / "m.tif")
            rows.append(
                dict(
                    height=h,
                    width=w,
                    bands=N_BANDS,
                    layout="tiled 256" if tiled else "striped",
                    raster_mib=h * w * N_BANDS * 4 / 2**20,
                    streamed_s=s["seconds"],
                    streamed_peak_mib=s["maxrss_mib"],
                    inmem_s=m["seconds"],
                    inmem_peak_mib=m["maxrss_mib"],
                    max_abs_diff=max_diff(td / "s.tif", td / "m.tif"),
                )
            )
            print(rows[-1], flush=True)
            src.unlink()
    info = dict(
        date_utc=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        mode="quick" if args.quick else "full",
        machine=machine(with_torch=False),
        load_average=os.getloadavg(),
        seed=SEED,
        bands=N_BANDS,
        endmembers=N_END,
        max_block_bytes=BLOCK_BYTES,
        import_only_peak_mib=floor["maxrss_mib"],
        runs=rows,
    )
    print(write(results_name("blockwise_memory", args.quick), render(info), info).read_text())


def render(info) -> str:
    """The Markdown page of a run, from its results payload."""
    m = info["machine"]  # a line of text in results written before it was _machine's record
    where = m if isinstance(m, str) else f"{m['cpu']}, {m['logical_cpus']} logical CPUs"
    lines = [
        "# Streaming (apply_blockwise) vs in-memory unmixing: peak memory and time",
        "",
        f"- date (UTC): {info['date_utc']}; mode: {info['mode']}; machine: {where}; "
        f"load average at end {tuple(round(x, 2) for x in info['load_average'])}",
        f"- data: {info['bands']}-band float32 GeoTIFF (tiled 256 x 256 or GDAL's default strips), "
        f"procedural spectra (seed {info['seed']}), Dirichlet(0.5) "
        f"abundances of {info['endmembers']} endmembers, 30 dB noise, 8-column nodata border; func = exact FCLS with the true endmembers",
        f"- streamed: max_block_bytes = {info['max_block_bytes'] // 2**20} MiB; one run per cell (child process, 1 BLAS thread), "
        "peak = VmHWM (peak resident set) of that process",
        f"- import-only peak (interpreter + numpy/scipy/rasterio/engine): {info['import_only_peak_mib']:.0f} MiB",
        "",
        table(
            ("raster", "layout", "size MiB", "streamed s", "streamed peak MiB", "in-memory s", "in-memory peak MiB")
            + ("max abs diff",),
            [
                (f"{r['height']}×{r['width']}×{r['bands']}", r["layout"], r["raster_mib"], r["streamed_s"])
                + (r["streamed_peak_mib"], r["inmem_s"], r["inmem_peak_mib"], r["max_abs_diff"])
                for r in info["runs"]
            ],
            (None, None, ".0f", ".2f", ".0f", ".2f", ".0f", ".1e"),
        ),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
