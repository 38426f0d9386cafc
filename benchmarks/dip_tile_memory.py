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

Usage: .venv/bin/python benchmarks/dip_tile_memory.py [--quick]
Writes benchmarks/results/dip_tile_memory.md and .json (results/quick/dip_tile_memory.* with --quick).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _machine import load_average, machine, one_thread, run_child, status_kib
from _tables import results_name, table, write

SEED, N_END, ITERATIONS = 0, 3, 3
ESTIMATORS = ("undip", "buddip", "undip-paper", "buddip-paper")
CASES = {"bands": (20, 100, 224), "tile sides": (64, 96, 128, 160)}
QUICK_CASES = {"bands": (20, 200), "tile sides": (64, 96, 128)}


def make_estimator(name: str, E0: np.ndarray):
    """The per-tile copy ``from_disk`` fits of ``name`` (``undip``, ``buddip``, ``-paper`` for the paper
    variant): the estimator's defaults, the first guess ``E0`` given."""
    kind, _, variant = name.partition("-")
    if kind == "undip":
        from deepunmix.engine.dip.undip import UnDIP

        base = UnDIP(n_endmembers=N_END, n_iter=ITERATIONS, random_state=SEED, variant=variant or "light")
    else:
        from deepunmix.engine.dip.buddip import BUDDIP

        base = BUDDIP(N_END, n_iter=ITERATIONS, random_state=SEED, variant=variant or "default")
    return base.tile_copy(E0).set_params(settings=dict(max_pixels=None))


def tile(n_bands: int, side: int) -> np.ndarray:
    """(L, side * side) float32 pixels of smooth mixtures of N_END procedural spectra, 0.5 % noise."""
    from deepunmix.engine.io.synthetic import procedural_library

    E, _, _ = procedural_library(n_bands=n_bands, n_spectra=N_END, random_state=SEED)
    yy, xx = np.mgrid[0:side, 0:side] / side
    A = np.exp(2 * np.stack([np.sin(3 * xx + 2 * yy), np.cos(4 * yy - xx), 3 * xx * yy])).reshape(N_END, -1)
    A /= A.sum(0)
    rng = np.random.default_rng(SEED)
    return (E @ A + rng.normal(scale=0.005, size=(n_bands, side * side))).astype(np.float32), E


def fit_tile(name: str, n_bands: int, side: int) -> None:
    """What ``from_disk`` does for one tile: the pixels as read, the tile cube, the fit."""
    Y, E = tile(n_bands, side)  # stands for read_valid_pixels' float32 result
    valid = np.ones((side, side), bool)
    cube = np.zeros((n_bands, side, side), dtype=np.float32)
    cube[:, valid] = Y
    make_estimator(name, E).fit(cube, valid)  # Y stays alive during the fit, as in from_disk


def child(name: str, n_bands: int, side: int) -> None:

    import deepunmix.engine.dip.buddip
    import deepunmix.engine.dip.undip  # noqa: F401

    one_thread()
    imported_kib = status_kib("VmSize")
    from deepunmix.engine.dip.from_disk import _warm_up

    _, E = tile(n_bands, 8)
    _warm_up(make_estimator(name, E), E)  # from_disk's: BLAS buffer, lazy imports, kernels, allocator pools
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
    return float(make_estimator(name, np.ones((n_bands, N_END))).bytes_per_pixel(n_bands))


def _slope(runs, key):
    x = np.array([r["pixels"] for r in runs], float)
    slope, intercept = np.polyfit(x, np.array([r[key] for r in runs], float), 1)
    return float(slope), float(intercept) / 2**20


def measure(name: str, n_bands: int, sides) -> dict:
    runs = [dict(side=s, pixels=s * s, **run_child(__file__, name, n_bands, s)) for s in sides]
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two band counts and three tile sides")
    ap.add_argument("--child", nargs=3)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), int(args.child[2]))
        return
    cases = QUICK_CASES if args.quick else CASES
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
        endmembers=N_END,
        iterations=ITERATIONS,
        sides=list(sides),
        rows=rows,
        max_ratio=max(r["ratio"] for r in rows),
    )
    print(write(results_name("dip_tile_memory", args.quick), render(info), info).read_text())


def render(info) -> str:
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


if __name__ == "__main__":
    main()
