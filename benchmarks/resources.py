"""Memory and responsiveness: streamed rasters, the deep methods' tiles, how fast a cancel lands.

``python benchmarks/resources.py --case CASE [--quick] [its arguments]`` (``--case CASE --help`` lists them).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import _harness as h
import numpy as np
from _harness import Case, main
from _machine import canonical, load_average, machine, one_thread, run_child, status_kib
from _tables import RESULTS, results_name, table, write

# ---- case blockwise_memory (was blockwise_memory.py) ----
ROOT = Path(__file__).resolve().parents[1]

BLOCKWISE_MEMORY_SEED = 0
BLOCKWISE_MEMORY_N_BANDS, BLOCKWISE_MEMORY_N_END = 64, 4
BLOCK_BYTES = 16 * 2**20
# (height, width, tiled): each raster streamed and read whole, in a fresh child process
BLOCKWISE_MEMORY_CASES = ((512, 512, True), (1024, 1024, True), (2048, 2048, True), (2048, 2048, False))
BLOCKWISE_MEMORY_QUICK_CASES = ((256, 256, True), (512, 512, True), (1024, 1024, True), (1024, 1024, False))


def make_raster(path: Path, height: int, width: int, tiled: bool = True) -> np.ndarray:
    """Write the test raster in row chunks (bounded memory); return the endmembers."""
    import rasterio
    from rasterio.windows import Window
    from synthetic import procedural_library

    E, wl, _ = procedural_library(
        n_bands=BLOCKWISE_MEMORY_N_BANDS, n_spectra=BLOCKWISE_MEMORY_N_END, random_state=BLOCKWISE_MEMORY_SEED
    )
    rng = np.random.default_rng(BLOCKWISE_MEMORY_SEED)
    prof = h.gtiff_profile("float32", BLOCKWISE_MEMORY_N_BANDS, height, width, -9999.0, tiled)
    with rasterio.open(path, "w", **prof) as d:
        for r0 in range(0, height, 256):
            nr = min(256, height - r0)
            A = rng.dirichlet(np.full(BLOCKWISE_MEMORY_N_END, 0.5), size=nr * width).T
            X = E @ A
            X += rng.normal(0, np.sqrt(np.mean(X**2) / 10**3.0), X.shape)
            block = X.reshape(BLOCKWISE_MEMORY_N_BANDS, nr, width).astype(np.float32)
            block[:, :, :8] = -9999.0  # nodata border
            d.write(block, window=Window(0, r0, width, nr))
    np.save(path.with_suffix(".E.npy"), E)
    return E


def blockwise_memory_child(mode: str, src: str, dst: str) -> None:
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


def blockwise_memory_main() -> None:
    """Peak memory and speed of streaming unmixing (engine.io.blockwise) vs reading the whole raster.

    For rasters of growing size (float32 GeoTIFF, procedural spectra, Dirichlet
    abundances, 30 dB noise, a nodata border), each run happens in a fresh child
    process whose peak resident memory (VmHWM) is recorded:
      * streamed: apply_blockwise(..., func=FCLS with fixed endmembers, max_block_bytes=16 MiB)
      * in-memory: read_raster + fcls on all valid pixels + write_abundances
      * import-only: the interpreter with numpy/scipy/rasterio/engine imported (the floor)
    Both outputs are compared (max abs difference).
    """
    ap = h.parser(
        blockwise_memory_main.__doc__, "blockwise_memory", quick="rasters up to 1024 x 1024 instead of 2048 x 2048"
    )
    ap.add_argument("--child", nargs=3)
    args = h.parse(ap, "blockwise_memory")
    if args.child:
        blockwise_memory_child(*args.child)
        return
    sizes = BLOCKWISE_MEMORY_QUICK_CASES if args.quick else BLOCKWISE_MEMORY_CASES
    rows = []
    with tempfile.TemporaryDirectory() as td:
        td = Path(td)
        floor = run_child(__file__, "blockwise_memory", "import-only", td / "none", td / "none")
        for ht, w, tiled in sizes:
            src = td / f"src_{ht}x{w}.tif"
            make_raster(src, ht, w, tiled)
            s = run_child(__file__, "blockwise_memory", "streamed", src, td / "s.tif")
            m = run_child(__file__, "blockwise_memory", "in-memory", src, td / "m.tif")
            rows.append(
                dict(
                    height=ht,
                    width=w,
                    bands=BLOCKWISE_MEMORY_N_BANDS,
                    layout="tiled 256" if tiled else "striped",
                    raster_mib=ht * w * BLOCKWISE_MEMORY_N_BANDS * 4 / 2**20,
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
        seed=BLOCKWISE_MEMORY_SEED,
        bands=BLOCKWISE_MEMORY_N_BANDS,
        endmembers=BLOCKWISE_MEMORY_N_END,
        max_block_bytes=BLOCK_BYTES,
        import_only_peak_mib=floor["maxrss_mib"],
        runs=rows,
    )
    print(write(args.out, blockwise_memory_render(info), info).read_text())


def blockwise_memory_render(info) -> str:
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


# ---- case dip_tile_memory (was dip_tile_memory.py) ----
DIP_TILE_MEMORY_SEED, DIP_TILE_MEMORY_N_END, ITERATIONS = 0, 3, 3
ESTIMATORS = ("undip", "buddip", "undip-paper", "buddip-paper")
DIP_TILE_MEMORY_CASES = {"bands": (20, 100, 224), "tile sides": (64, 96, 128, 160)}
DIP_TILE_MEMORY_QUICK_CASES = {"bands": (20, 200), "tile sides": (64, 96, 128)}


def make_estimator(name: str, E0: np.ndarray):
    """The per-tile copy ``from_disk`` fits of ``name`` (``undip``, ``buddip``, ``-paper`` for the paper
    variant): the estimator's defaults, the first guess ``E0`` given."""
    kind, _, variant = name.partition("-")
    if kind == "undip":
        from deepunmix.engine.dip.undip import UnDIP

        base = UnDIP.build(
            n_endmembers=DIP_TILE_MEMORY_N_END,
            n_iter=ITERATIONS,
            random_state=DIP_TILE_MEMORY_SEED,
            variant=variant or "default",
        )
    else:
        from deepunmix.engine.dip.buddip import BUDDIP

        base = BUDDIP.build(
            DIP_TILE_MEMORY_N_END, n_iter=ITERATIONS, random_state=DIP_TILE_MEMORY_SEED, variant=variant or "default"
        )
    return base.tile_copy(E0).set_params(settings=dict(max_pixels=None))


def tile(n_bands: int, side: int) -> np.ndarray:
    """(L, side * side) float32 pixels of smooth mixtures of N_END procedural spectra, 0.5 % noise."""
    from synthetic import procedural_library

    E, _, _ = procedural_library(n_bands=n_bands, n_spectra=DIP_TILE_MEMORY_N_END, random_state=DIP_TILE_MEMORY_SEED)
    yy, xx = np.mgrid[0:side, 0:side] / side
    A = np.exp(2 * np.stack([np.sin(3 * xx + 2 * yy), np.cos(4 * yy - xx), 3 * xx * yy])).reshape(
        DIP_TILE_MEMORY_N_END, -1
    )
    A /= A.sum(0)
    rng = np.random.default_rng(DIP_TILE_MEMORY_SEED)
    return (E @ A + rng.normal(scale=0.005, size=(n_bands, side * side))).astype(np.float32), E


def fit_tile(name: str, n_bands: int, side: int) -> None:
    """What ``from_disk`` does for one tile: the pixels as read, the tile cube, the fit."""
    Y, E = tile(n_bands, side)  # stands for read_valid_pixels' float32 result
    valid = np.ones((side, side), bool)
    cube = np.zeros((n_bands, side, side), dtype=np.float32)
    cube[:, valid] = Y
    make_estimator(name, E).fit(cube, valid)  # Y stays alive during the fit, as in from_disk


def dip_tile_memory_child(name: str, n_bands: int, side: int) -> None:

    import deepunmix.engine.dip.buddip
    import deepunmix.engine.dip.undip  # noqa: F401

    one_thread()
    imported_kib = status_kib("VmSize")
    from sklearn.base import clone

    _, E = tile(n_bands, 8)
    # what from_disk does first under a memory cap: one large BLAS product and a one-iteration fit of a 32 x 32
    # tile, so the libraries take their one-off buffers (BLAS buffer, lazy imports, kernels, allocator pools)
    a = np.ones((512, 512))
    a @ a
    A = np.random.default_rng(0).dirichlet(np.ones(E.shape[1]), size=32 * 32).T
    clone(make_estimator(name, E)).set_params(n_iter=1, progress=None).fit(
        (E @ A).reshape(-1, 32, 32).astype(np.float32)
    )
    base_kib, base_vm_kib = status_kib("VmRSS"), status_kib("VmSize")
    warm_peak_kib = status_kib("VmPeak")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    t0 = time.perf_counter()
    fit_tile(name, n_bands, side)
    out = dict(
        seconds=time.perf_counter() - t0,
        rise_bytes=(status_kib("VmHWM") - base_kib) * 1024,
        virtual_rise_bytes=(status_kib("VmPeak") - base_vm_kib) * 1024,
        warm_peak_before_bytes=(warm_peak_kib - base_vm_kib) * 1024,
        reserved_by_warm_up_bytes=(base_vm_kib - imported_kib) * 1024,
        base_rss_bytes=base_kib * 1024,
    )
    print(json.dumps(out))


def estimate(name: str, n_bands: int) -> float:
    return float(make_estimator(name, np.ones((n_bands, DIP_TILE_MEMORY_N_END))).bytes_per_pixel(n_bands))


def _slope(runs, key):
    x = np.array([r["pixels"] for r in runs], float)
    slope, intercept = np.polyfit(x, np.array([r[key] for r in runs], float), 1)
    return float(slope), float(intercept) / 2**20


def measure(name: str, n_bands: int, sides) -> dict:
    runs = [dict(side=s, pixels=s * s, **run_child(__file__, "dip_tile_memory", name, n_bands, s)) for s in sides]
    slope, intercept = _slope(runs, "rise_bytes")
    virtual, virtual_intercept = _slope(runs, "virtual_rise_bytes")
    est = estimate(name, n_bands)
    return dict(
        estimator=name,
        bands=n_bands,
        runs=runs,
        bytes_per_pixel=slope,
        intercept_mib=intercept,
        virtual_bytes_per_pixel=virtual,
        virtual_intercept_mib=virtual_intercept,
        reserved_by_warm_up_mib=max(r["reserved_by_warm_up_bytes"] for r in runs) / 2**20,
        estimate_bytes_per_pixel=est,
        ratio=slope / est,
    )


def dip_tile_memory_main() -> None:
    """Resident memory per pixel of one tile fit of BUDDIP and UnDIP, against the estimate that sizes the tiles.

    A raster over the memory budget is fitted tile by tile (``engine.dip.from_disk``); the tile's size is the
    budget divided by the estimator's ``bytes_per_pixel(n_bands)``. This measures what a tile fit really holds: for
    each estimator (UnDIP light and paper with fixed endmembers, BUDDIP default and paper with a given first guess,
    as ``tile_copy`` makes them), band count and tile side, a fresh child process runs from_disk's warm-up, then
    builds the tile as ``from_disk`` does (float32 pixels read, the float32 tile cube), fits it (3 iterations: the
    peak comes with the first backward pass) and records the rise of its peak resident set (VmHWM, reset through
    ``/proc/self/clear_refs`` after the warm-up, so the libraries' one-off allocations are not counted; the address
    space the warm-up kept is recorded apart). The bytes per pixel are the least-squares slope of the rise over the
    tile's pixels; ``ratio`` = slope / estimate.
    """
    ap = h.parser(dip_tile_memory_main.__doc__, "dip_tile_memory", quick="two band counts and three tile sides")
    ap.add_argument("--child", nargs=3)
    args = h.parse(ap, "dip_tile_memory")
    if args.child:
        dip_tile_memory_child(args.child[0], int(args.child[1]), int(args.child[2]))
        return
    cases = DIP_TILE_MEMORY_QUICK_CASES if args.quick else DIP_TILE_MEMORY_CASES
    bands, sides = cases["bands"], cases["tile sides"]
    start = machine()  # the load before the runs
    rows = []
    for name in ESTIMATORS:
        for L in bands:
            rows.append(measure(name, L, sides))
            r = rows[-1]
            print(name, L, f"{r['bytes_per_pixel']:.0f} B/px measured, {r['estimate_bytes_per_pixel']:.0f} estimated")
    info = dict(
        machine=start,
        mode="quick" if args.quick else "full",
        load_average_at_end=load_average(),
        endmembers=DIP_TILE_MEMORY_N_END,
        iterations=ITERATIONS,
        sides=list(sides),
        rows=rows,
        max_ratio=max(r["ratio"] for r in rows),
    )
    print(write(args.out, dip_tile_memory_render(info), info).read_text())


def dip_tile_memory_render(info) -> str:
    """The Markdown page of a run, from its results payload."""
    m = info["machine"]
    lines = [
        "# BUDDIP and UnDIP: resident memory per pixel of one tile fit vs the estimate that sizes the tiles",
        "",
        f"- date: {m['date_utc']}; mode: {info['mode']}; {m['cpu']}, {m['logical_cpus']} logical CPUs; torch "
        f"{m['torch']}; load average at start {m['load_average_at_start']}, at end {info['load_average_at_end']}",
        f"- each row: child processes (1 thread) each fit one square tile ({info['endmembers']} endmembers given, "
        f"{info['iterations']} iterations, the defaults otherwise) after from_disk's warm-up; sides {info['sides']}; "
        "measured = least-squares slope of the VmHWM rise over the tile's pixels; estimate = `bytes_per_pixel(n_bands)`"
        "; virtual: the same for VmPeak (address space); warm-up kept: the address space from_disk's warm-up took "
        "and kept (OpenBLAS's buffer, torch's lazy imports, allocator arenas)",
        f"- largest measured / estimated: {info['max_ratio']:.2f}",
        "",
        table(
            ("estimator", "bands", "measured bytes/px", "estimate bytes/px", "measured / estimate", "intercept MiB")
            + ("virtual bytes/px", "virtual intercept MiB", "warm-up kept MiB"),
            [
                (r["estimator"], r["bands"], r["bytes_per_pixel"], r["estimate_bytes_per_pixel"], r["ratio"])
                + (r["intercept_mib"], r["virtual_bytes_per_pixel"], r["virtual_intercept_mib"])
                + (r["reserved_by_warm_up_mib"],)
                for r in info["rows"]
            ],
            (None, None, ".0f", ".0f", ".2f", ".1f", ".0f", ".1f", ".0f"),
        ),
    ]
    return "\n".join(lines) + "\n"


# ---- case cancel_latency (was cancel_latency.py) ----
CANCEL_LATENCY_N_BANDS, CANCEL_LATENCY_N_END = 8, 3
CANCEL_LATENCY_CASES = {  # what is measured (the results key) -> its row in the table
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
        count=CANCEL_LATENCY_N_BANDS,
        dtype="float32",
        tiled=True,
        SPARSE_OK="TRUE",
        BIGTIFF="YES",
    ) as ds:
        ds.write(np.full((CANCEL_LATENCY_N_BANDS, 16, 16), 0.5, np.float32), window=((0, 16), (0, 16)))


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

    E = np.abs(np.random.default_rng(0).normal(size=(CANCEL_LATENCY_N_BANDS, CANCEL_LATENCY_N_END))) + 0.1
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
                CANCEL_LATENCY_N_END,
                [f"e{i}" for i in range(CANCEL_LATENCY_N_END)],
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
        count=CANCEL_LATENCY_N_END,
        dtype="float32",
        nodata=-9999.0,
        BIGTIFF="IF_SAFER",
        **opts,
    )
    ds.write(np.zeros((CANCEL_LATENCY_N_END, 256, size), np.float32), window=((0, 256), (0, size)))
    t = time.perf_counter()
    ds.close()
    seconds = time.perf_counter() - t
    nbytes = path.stat().st_size
    path.unlink()
    return {"close_s": seconds, "file_bytes": nbytes}


def cancel_latency_main() -> None:
    """How fast a cancelled FCLS stream on a huge raster returns, and what it writes meanwhile.

    A sparse float32 GeoTIFF of SIZE x SIZE pixels and 8 bands (a few KB on disk, read as zeros) is
    unmixed with ``engine.io.blockwise.apply_blockwise`` (FCLS, 3 endmembers, 64 MiB blocks); the
    progress callback raises ``Cancelled`` after the first block. Recorded: seconds from the cancel to
    the return, the largest size the hidden ``.partial`` output reached (polled every 20 ms), and the
    files left behind. For comparison, the same 3-band output GeoTIFF is created, one block written
    and closed with and without ``SPARSE_OK`` (GDAL fills every unwritten block at close without it:
    the cause of the 35-45 s cancels reported in issue 14).
    """
    ap = h.parser(cancel_latency_main.__doc__, quick="a 2000 x 2000 raster, results in results/quick/")
    ap.add_argument("--size", type=int, default=None, help="raster side in pixels (default 8000, 2000 with --quick)")
    ap.add_argument("--workdir", default=tempfile.gettempdir())
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
        "output_bytes_if_filled": CANCEL_LATENCY_N_END * args.size * args.size * 4,
        "stream": stream,
        "close_without_sparse_ok": filled,
        "close_with_sparse_ok": sparse,
        "load": os.getloadavg(),
        "machine": info,
    }
    print(write(out.name, cancel_latency_render(result), result, folder=out.parent).read_text())


def cancel_latency_render(result) -> str:
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
        "# Cancelling FCLS on a huge raster (benchmarks/resources.py --case cancel_latency)",
        "",
        f"{result['size']} x {result['size']} pixels, {CANCEL_LATENCY_N_BANDS} bands in, {CANCEL_LATENCY_N_END} float32 bands out "
        f"({result['output_bytes_if_filled'] / mib:,.0f} MiB if every block were written); {m['date_utc']}, {m['cpu']}, "
        f"load {result['load'][0]:.1f} (a shared machine: timings are noise-prone).",
        "",
        table(
            ("what", "seconds", "bytes on disk"),
            [(label, *cells[key](result[key])) for key, label in CANCEL_LATENCY_CASES.items()],
        ),
        "",
    ]
    return "\n".join(md)


CASES = {
    "blockwise_memory": Case(
        "blockwise_memory", blockwise_memory_main, blockwise_memory_render, BLOCKWISE_MEMORY_CASES
    ),
    "dip_tile_memory": Case("dip_tile_memory", dip_tile_memory_main, dip_tile_memory_render, DIP_TILE_MEMORY_CASES),
    "cancel_latency": Case("cancel_latency", cancel_latency_main, cancel_latency_render, CANCEL_LATENCY_CASES),
}

if __name__ == "__main__":
    main(CASES)
