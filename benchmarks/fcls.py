"""FCLS and the engine's chains at scale: solver speed and exactness, the fit warning's factors, a 2000 x 2000 scene.

``python benchmarks/fcls.py --case CASE [--quick] [its arguments]`` (``--case CASE --help`` lists them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional

import _harness as h
import numpy as np
from _harness import Case, main, shared_data
from _machine import load_average, machine, one_thread
from _tables import RESULTS, results_name, table, write
from scipy.optimize import nnls
from synthetic import procedural_library
from threadpoolctl import threadpool_limits

from deepunmix.engine.abundances.fcls import fcls
from deepunmix.engine.extraction.nfindr import NFINDR
from deepunmix.engine.extraction.sivm import SiVM
from deepunmix.engine.extraction.vca import VCA
from deepunmix.engine.reporting.fit_quality import SCALE_MISMATCH, VARIABILITY_FACTOR, brightness, noise_level

# ---- case speed (was fcls_speed.py) ----
ROOT = Path(__file__).resolve().parents[1]

SNR_DB = 30.0
ALPHA = 0.5
# 224 bands; the comparison's endmember counts, then the throughput's (endmembers, BLAS threads)
SPEED_CASES = {"comparison": (3, 5, 6), "throughput": ((4, 1), (4, 2), (6, 1), (6, 2))}
DELTA_LADDER = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4)  # times 1 / max(E)


def make_data(L: int, p: int, n: int, seed: int, chunk: int = 100_000):
    """(Y float32 (L, n), E (L, p)); generated in chunks to bound memory."""
    E, _, _ = procedural_library(n_bands=L, n_spectra=p, random_state=seed)
    rng = np.random.default_rng(seed)
    Y = np.empty((L, n), dtype=np.float32)
    power = None
    for s in range(0, n, chunk):
        e = min(s + chunk, n)
        X = E @ rng.dirichlet(np.full(p, ALPHA), e - s).T
        if power is None:
            power = float(np.mean(X**2))
        Y[:, s:e] = X + rng.normal(0.0, np.sqrt(power / 10 ** (SNR_DB / 10)), X.shape)
    return Y, E


def nnls_fcls(Y: np.ndarray, E: np.ndarray, delta: float) -> np.ndarray:
    """Heinz-Chang FCLS: per-pixel NNLS on [δE; 1ᵀ] a = [δy; 1]."""
    Ea = np.vstack([delta * E, np.ones((1, E.shape[1]))])
    out = np.empty((E.shape[1], Y.shape[1]))
    for i in range(Y.shape[1]):
        out[:, i] = nnls(Ea, np.r_[delta * Y[:, i], 1.0])[0]
    return out


def timed(fn, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), result


def compare(L: int, p: int, n_cmp: int, n_check: int, seed: int, repeats: int) -> dict:
    Y, E = make_data(L, p, n_cmp, seed)
    Yd = Y.astype(np.float64)
    exact = h.exact_fcls(Yd[:, :n_check], E)
    scale = 1.0 / E.max()
    chosen, deltas = None, []
    for d in DELTA_LADDER:
        err = float(np.abs(nnls_fcls(Yd[:, :n_check], E, d * scale) - exact).max())
        deltas.append({"delta": d * scale, "max_abs_diff_vs_exact": err})
        if err <= 1e-5:
            chosen = d * scale
            break
    if chosen is None:
        raise RuntimeError("no δ in the ladder reaches 1e-5 of the exact QP")
    # interleaved, so both solvers see the same load on a shared machine; ours is cheap, so it is repeated more
    t_nnls, t_one, t_all = [], [], []
    for _ in range(repeats):
        with threadpool_limits(limits=1):  # the NNLS loop is single-threaded
            t, A_nnls = timed(lambda: nnls_fcls(Yd, E, chosen), 1)
            t_nnls.append(t)
            for _ in range(3):
                t, A_ours = timed(lambda: fcls(Yd, E), 1)
                t_one.append(t)
        for _ in range(3):  # the BLAS default: every core, as a user's run gets
            t, A_all = timed(lambda: fcls(Yd, E), 1)
            t_all.append(t)
    t_nnls, t_one, t_all = (float(np.median(v)) for v in (t_nnls, t_one, t_all))
    return {
        "L": L,
        "p": p,
        "n_pixels": n_cmp,
        "n_check_exact": n_check,
        "seed": seed,
        "delta_search": deltas,
        "delta": chosen,
        "nnls_seconds": t_nnls,
        "ours_seconds_median": t_all,
        "ours_1thread_seconds_median": t_one,
        "speedup": t_nnls / t_all,
        "speedup_1thread": t_nnls / t_one,
        "max_abs_diff_1thread_vs_all_cores": float(np.abs(A_ours - A_all).max()),
        "max_abs_diff_ours_vs_nnls": float(np.abs(A_ours - A_nnls).max()),
        "max_abs_diff_ours_vs_exact": float(np.abs(A_ours[:, :n_check] - exact).max()),
        "fraction_pixels_with_zero_abundance": float(np.mean(np.any(A_ours == 0, axis=0))),
    }


def throughput(L: int, p: int, n: int, seed: int, repeats: int, threads: int) -> dict:
    Y, E = make_data(L, p, n, seed)
    with threadpool_limits(limits=threads):
        t, A = timed(lambda: fcls(Y, E), repeats)
    return {
        "L": L,
        "p": p,
        "n_pixels": n,
        "seed": seed,
        "blas_threads": threads,
        "seconds_median": t,
        "pixels_per_second": n / t,
        "fraction_pixels_with_zero_abundance": float(np.mean(np.any(A == 0, axis=0))),
    }


COMPARISON = ("L", "p", "n_pixels", "delta", "nnls_seconds", "ours_1thread_seconds_median", "speedup_1thread")
COMPARISON += ("ours_seconds_median", "speedup", "max_abs_diff_ours_vs_nnls", "max_abs_diff_ours_vs_exact")
COMPARISON += ("fraction_pixels_with_zero_abundance",)  # the comparison table's columns


def _times(v: float) -> str:
    return f"{v:.0f}×"


def speed_render(res: dict) -> str:
    """The Markdown page of a run, from its results payload."""
    m = res["machine"]
    lines = [
        "# FCLS speed: engine.abundances.fcls vs per-pixel scipy.optimize.nnls (Heinz-Chang δ-augmented)",
        "",
        f"- date (UTC): {res['date']}; mode: {res['mode']}",
        f"- machine: {m['cpu']}, {m['logical_cpus']} logical CPUs, load average at start {tuple(m['load_average_at_start'])}",
        f"- numpy {m['numpy']}, BLAS: {'; '.join(m['blas'])}",
        f"- data: procedural spectra, Dirichlet({ALPHA}) abundances, white noise {SNR_DB} dB; seeds as listed",
        "- exact reference: enumeration of all supports (sum-to-one LS per subset, best feasible) on the first "
        "`n_check` pixels; δ = largest of the ladder whose NNLS result is within 1e-5 of it",
        "- both solvers get the same float64 pixels; the NNLS loop runs on one core; ours is timed with one BLAS "
        "thread and with the BLAS default (all cores); runs are interleaved; times are medians",
        "",
        "## Same pixels, same solution",
        "",
        f"repeats: NNLS loop {res['repeats']}, ours {3 * res['repeats']} per thread setting",
        "",
        table(
            ("L", "p", "pixels", "δ", "NNLS loop s", "ours s, 1 thread", "speed-up, 1 thread", "ours s, all cores")
            + ("speed-up, all cores", "max abs diff ours vs NNLS", "max abs diff ours vs exact")
            + ("pixels with a zero abundance",),
            [[r[k] for k in COMPARISON] for r in res["comparison"]],
            (None, None, None, ".3g", ".3f", ".4f", _times, ".4f", _times, ".1e", ".1e", ".0%"),
        ),
        "",
        "## Throughput on a large block",
        "",
        table(
            ("L", "p", "pixels", "BLAS threads", "s (median)", "pixels / s"),
            [
                [r[k] for k in ("L", "p", "n_pixels", "blas_threads", "seconds_median", "pixels_per_second")]
                for r in res["throughput"]
            ],
            (None, None, None, None, ".3f", ",.0f"),
        ),
        "",
    ]
    return "\n".join(lines)


def speed_main() -> None:
    """FCLS speed and exactness: engine.abundances.fcls vs a per-pixel scipy.optimize.nnls loop.

    The baseline is the classic Heinz-Chang formulation: FCLS as NNLS on the
    augmented system [δE; 1ᵀ] a = [δy; 1], solved pixel by pixel with
    scipy.optimize.nnls. That formulation is only approximately sum-to-one; δ is
    chosen (the largest of a fixed ladder) so that it lies within 1e-5 of the exact
    QP optimum on a check subset. The exact reference is an exhaustive
    enumeration of supports (sum-to-one LS on every subset of endmembers; keep the
    feasible solution of lowest objective).

    Data: procedural spectra (benchmarks/synthetic.py procedural_library, 224 bands),
    Dirichlet(0.5) abundances, white noise at 30 dB, so many pixels have active
    non-negativity bounds.
    """
    ap = h.parser(speed_main.__doc__, "fcls_speed", quick="small sizes (about a minute)")
    args = h.parse(ap, "fcls_speed")
    n_cmp, n_check, n_big, reps = (2000, 200, 200_000, 3) if args.quick else (20_000, 1000, 1_000_000, 5)
    res = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "mode": "quick" if args.quick else "full",
        "machine": machine(with_torch=False),
        "snr_db": SNR_DB,
        "dirichlet_alpha": ALPHA,
        "repeats": reps,
        "comparison": [],
        "throughput": [],
    }
    for p in SPEED_CASES["comparison"]:
        r = compare(224, p, n_cmp, n_check, seed=p, repeats=reps)
        print(
            f"compare p={p}: δ={r['delta']:.3g} nnls {r['nnls_seconds']:.3f}s ours {r['ours_1thread_seconds_median']:.4f}s "
            f"(1 thread, {r['speedup_1thread']:.0f}x) {r['ours_seconds_median']:.4f}s (all cores, {r['speedup']:.0f}x), max diff vs nnls {r['max_abs_diff_ours_vs_nnls']:.1e}, "
            f"vs exact {r['max_abs_diff_ours_vs_exact']:.1e}",
            flush=True,
        )
        res["comparison"].append(r)
    for p, threads in SPEED_CASES["throughput"]:
        r = throughput(224, p, n_big, seed=100 + p, repeats=reps, threads=threads)
        print(f"throughput p={p} threads={threads}: {r['pixels_per_second']:,.0f} px/s", flush=True)
        res["throughput"].append(r)
    write(args.out, speed_render(res), res)


# ---- case fit_warning (was fit_warning.py) ----
EXTRACTORS = {"VCA": VCA, "SiVM": SiVM, "N-FINDR": NFINDR}
FIT_WARNING_CASES = {
    "ordinary and missing one": tuple(f"{m}, reference count {d:+d}" for m in EXTRACTORS for d in (-1, 0, 1)),
    "scale": ("cube x 10000", "endmembers x 10000", "cube x maxValue", "endmembers x maxValue"),
    "bands": ("shifted by 5", "shifted by 20", "reverse order"),
}


def scenes():
    from deepunmix.engine.io.matfile import load_mat_dataset, samson

    data = shared_data()
    out = []
    if (data / "samson" / "samson_1.mat").is_file():
        out.append(("Samson", 3, samson(data).cube, None))
    jr = data / "jasper_ridge"
    if (jr / "jasperRidge2_R198.mat").is_file():
        ds = load_mat_dataset(jr / "jasperRidge2_R198.mat")
        out.append(("Jasper Ridge", 4, ds.cube / ds.max_value, ds.max_value))
    return out


def fit(scene, kind, case, Y, E, noise):
    """RMSE / noise of the FCLS fit, and the pixels' brightness against their reconstruction."""
    Yhat = E @ fcls(Y, E)
    rmse = float(np.sqrt(np.mean((Y - Yhat) ** 2)))
    return {"scene": scene, "kind": kind, "case": case, "ratio": rmse / noise, "brightness": brightness(Y, Yhat)}


def measure(name, p, cube, max_value):
    Y = np.asarray(cube, dtype=np.float64).reshape(cube.shape[0], -1)
    noise = noise_level(Y)
    rows = []
    for method, cls in EXTRACTORS.items():
        for k in (p - 1, p, p + 1):
            E = cls(n_endmembers=k, random_state=0).fit(cube).endmembers_
            kind = "missing one" if k < p else "ordinary"
            rows.append(fit(name, kind, f"{method}, {k} endmembers", Y, E, noise))
    E = SiVM(n_endmembers=p, random_state=0).fit(cube).endmembers_
    for f in [10000.0] + ([max_value] if max_value else []):
        rows.append(fit(name, "scale", f"cube x {f:g}, CSV in 0..1", Y * f, E, noise * f))
        rows.append(fit(name, "scale", f"cube in 0..1, CSV x {f:g}", Y, E * f, noise))
    L = E.shape[0]
    for shift in (5, 20):
        rows.append(fit(name, "bands", f"bands shifted by {shift}", Y[shift:], E[: L - shift], noise))
    rows.append(fit(name, "bands", "bands in reverse order", Y, E[::-1], noise))
    return rows


def choose(rows):
    """The scale test's factor and the ratio above which ordinary fits end (see the module docstring)."""
    log_b = {k: [abs(np.log(r["brightness"])) for r in rows if r["kind"] == k] for k in ("ordinary", "scale")}
    scale = float(np.exp(np.sqrt(max(log_b["ordinary"]) * min(log_b["scale"]))))
    ordinary = max(r["ratio"] for r in rows if r["kind"] == "ordinary")
    return {
        "largest_ordinary_ratio": ordinary,
        "variability_factor": float(5 * np.ceil(ordinary / 5)),
        "largest_ordinary_brightness_factor": float(np.exp(max(log_b["ordinary"]))),
        "smallest_scale_mismatch_factor": float(np.exp(min(log_b["scale"]))),
        "scale_factor": float(f"{scale:.1g}"),
    }


def fit_warning_main(argv=None):
    """The fit warning's two factors on real scenes: ordinary fits against endmembers that do not match the data.

    RMSE / noise RMS (``engine.reporting.fit_quality``) of FCLS on Samson and Jasper Ridge (Y / maxValue):

    * ordinary fits: endmembers extracted from the scene itself (VCA, SiVM, N-FINDR) with the reference count and
      one fewer or more: what spectral variability and a missing or extra material give;
    * mismatched fits: the same SiVM endmembers applied to the scene in other units (the cube x 10000 or x maxValue,
      i.e. raw counts against a CSV in 0..1, and the reverse) or to other bands (rows shifted by 5 or 20 bands,
      in reverse order).

    CHOSEN here (the run says whether the engine's constants match): ``VARIABILITY_FACTOR``, the largest RMSE /
    noise of an ordinary fit (reference count or one more) rounded up to a multiple of 5; ``SCALE_MISMATCH``, the
    geometric mean of the farthest brightness of an ordinary fit and the nearest of a scale mismatch (one significant
    digit). Band mismatches and a missing material are only reported: some stay below the variability factor. The
    reference counts are used (which fits are ordinary); the reference endmembers and abundances are not.
    """
    ap = h.parser(fit_warning_main.__doc__)
    ap.add_argument("--out", default="fit_warning")
    args = ap.parse_args(argv)
    one_thread()
    info = machine(with_torch=False)
    started = time.perf_counter()
    rows = [r for s in scenes() for r in measure(*s)]
    if not rows:
        print("shared data absent: nothing measured")
        return 0
    result = {
        "machine": info,
        "rows": rows,
        "chosen": choose(rows),
        "engine_default": {"variability_factor": VARIABILITY_FACTOR, "scale_factor": SCALE_MISMATCH},
        "seconds": round(time.perf_counter() - started, 1),
    }
    info["load_average_at_end"] = load_average()
    print(write(args.out, fit_warning_render(result), result).read_text())
    return 0


def fit_warning_render(r) -> str:
    c, e, m = r["chosen"], r["engine_default"], r["machine"]
    same = c["variability_factor"] == e["variability_factor"] and c["scale_factor"] == e["scale_factor"]
    rows = [(x["scene"], x["kind"], x["case"], f"{x['ratio']:.1f}", f"{x['brightness']:.4g}") for x in r["rows"]]
    return "\n".join(
        [
            "# Fit warning: ordinary fits of real scenes against mismatched endmembers",
            "",
            f"Written by `benchmarks/fcls.py --case fit_warning` on {m['date_utc']} ({r['seconds']} s).",
            "",
            "FCLS on Samson and Jasper Ridge (Y / maxValue). RMSE / noise: the reconstruction RMSE over the "
            "estimated noise RMS; brightness: how many times the pixels are as bright as their reconstruction. "
            "Ordinary: endmembers extracted from the scene with the reference count or one more; missing one: one "
            "fewer; scale: SiVM endmembers in other units; bands: SiVM endmembers on other bands.",
            "",
            table(("scene", "kind", "case", "RMSE / noise", "brightness"), rows),
            "",
            f"Ordinary fits reach RMSE / noise {c['largest_ordinary_ratio']:.1f}: variability factor (rounded up "
            f"to a multiple of 5) **{c['variability_factor']:g}**. Brightness of ordinary fits within "
            f"{c['largest_ordinary_brightness_factor']:.3g}x of 1, of scale mismatches at least "
            f"{c['smallest_scale_mismatch_factor']:.4g}x away: scale factor (geometric mean, one digit) "
            f"**{c['scale_factor']:g}**. Engine (`VARIABILITY_FACTOR` {e['variability_factor']:g}, "
            f"`SCALE_MISMATCH` {e['scale_factor']:g}): {'matches' if same else 'DOES NOT MATCH'}.",
            "",
        ]
    )


# ---- case large_scene (was large_scene.py) ----

BORDER = 16
NODATA = 0
LARGE_SCENE_CASES = (
    "extract",
    "fcls",
    "ddica",
    "dask_fcls",
)  # the steps, each through the engine and qgis_process (not dask)
SHARPNESS = 5.0  # softmax gain of the abundance fields: higher = purer regions


# ------------------------------------------------------------------ the scene
def _fields(rows: np.ndarray, cols: np.ndarray, p: int, size: int, seed: int) -> np.ndarray:
    """Abundances (p, len(rows), len(cols)): softmax of sums of low-frequency sinusoids (same value whatever the block)."""
    rng = np.random.default_rng(seed + 1)
    f = rng.uniform(0.5, 3.0, (p, 3, 2)) * 2 * np.pi / size
    ph = rng.uniform(0, 2 * np.pi, (p, 3))
    r, c = rows[:, None].astype(np.float64), cols[None, :].astype(np.float64)
    z = np.stack([sum(np.sin(f[k, j, 0] * r + f[k, j, 1] * c + ph[k, j]) for j in range(3)) for k in range(p)])
    z = SHARPNESS * (z - z.max(0, keepdims=True))
    e = np.exp(z)
    return e / e.sum(0, keepdims=True)


def make_scene(path: Path, size: int, n_bands: int, p: int, seed: int, rows_per_write: int = 64) -> Dict:
    """Write the uint16 scene in row blocks; return its endmembers (reflectance) and facts."""
    import rasterio
    from rasterio.windows import Window
    from synthetic import procedural_library

    E, wl, _ = procedural_library(n_bands=n_bands, n_spectra=p, random_state=seed)
    sigma = float(np.sqrt(np.mean(E**2)) * 10 ** (-SNR_DB / 20))
    prof = h.gtiff_profile("uint16", n_bands, size, size, NODATA, BIGTIFF="IF_SAFER")
    cols = np.arange(size)
    t0 = time.perf_counter()
    with rasterio.Env(GDAL_CACHEMAX=256), rasterio.open(path, "w", **prof) as dst:
        for b in range(n_bands):
            dst.update_tags(b + 1, wavelength=f"{wl[b]:.2f}", wavelength_units="nm")
        for k, r0 in enumerate(range(0, size, rows_per_write)):
            nr = min(rows_per_write, size - r0)
            A = _fields(np.arange(r0, r0 + nr), cols, p, size, seed).reshape(p, -1)
            X = (E @ A).astype(np.float32)
            X += np.random.default_rng([seed, k]).normal(0, sigma, X.shape).astype(np.float32)
            block = np.clip(np.rint(X * 10000), 1, 65535).astype(np.uint16).reshape(n_bands, nr, size)
            rr = np.arange(r0, r0 + nr)
            block[:, (rr < BORDER) | (rr >= size - BORDER), :] = NODATA
            block[:, :, :BORDER] = NODATA
            block[:, :, size - BORDER :] = NODATA
            dst.write(block, window=Window(0, r0, size, nr))
    n_valid = (size - 2 * BORDER) ** 2
    return {
        "endmembers": E,
        "wavelengths": wl,
        "seconds": time.perf_counter() - t0,
        "bytes": path.stat().st_size,
        "n_valid": n_valid,
    }


# ------------------------------------------------------------------ engine steps (run in a child process)
def _engine_step(args) -> None:
    if args.step == "ddica":
        import torch

        torch.set_num_threads(args.threads)
    from deepunmix.engine.io.blockwise import apply_blockwise, sample_valid_pixels
    from deepunmix.engine.io.distributed import fcls_func, predictor
    from deepunmix.engine.io.endmember_csv import read_endmembers_csv, write_endmembers_csv
    from deepunmix.engine.io.matching import match_bands
    from deepunmix.engine.io.raster import raster_info
    from deepunmix.engine.io.scaling import choose_scale, resolve_scale, units_comment

    src, wd, p = Path(args.scene), Path(args.workdir), args.n_endmembers
    budget = int(args.block_mib * 2**20)
    info = raster_info(src)
    names = [f"EM{i + 1}" for i in range(p)]
    out: Dict = {"step": args.step}
    t0 = time.perf_counter()
    if args.step in ("extract", "ddica"):
        n = args.vca_pixels if args.step == "extract" else args.ddica_pixels
        Y, _ = sample_valid_pixels(src, n, random_state=args.seed, max_block_bytes=budget)
        scale, why = resolve_scale(0, info, Y)
        Y *= scale
        out.update(sample_pixels=int(Y.shape[1]), sample_s=time.perf_counter() - t0, scale=scale, scale_reason=why)
        t1 = time.perf_counter()
        if args.step == "extract":
            from deepunmix.engine.extraction.vca import vca

            E, _ = vca(Y, p, random_state=args.seed)
        else:
            from deepunmix.engine.ddica.unmixing import DDICA

            model = DDICA.build(
                n_endmembers=p, n_steps=args.ddica_steps, random_state=args.seed, max_fit_pixels=Y.shape[1]
            ).fit(Y[:, None, :].astype(np.float32))
            E = model.endmembers_
        out["fit_s"] = time.perf_counter() - t1
        write_endmembers_csv(
            wd / f"engine_{args.step}_e.csv", E, names, wavelengths=info.wavelengths, comment=units_comment(scale, why)
        )
        del Y
    if args.step == "dask_fcls":  # the same FCLS through engine.io.distributed on a 2-process LocalCluster
        from distributed import Client, LocalCluster

        from deepunmix.engine.io.distributed import apply_distributed

        table = read_endmembers_csv(wd / "engine_extract_e.csv")
        scale = choose_scale(0, table.comment)[0]  # the plugin's policy (engine.io.scaling)
        with (
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            out["cluster_start_s"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            apply_distributed(
                src,
                wd / "engine_dask_fcls_a.tif",
                fcls_func(table.matrix),
                p,
                names,
                client=client,
                scale=scale,
                chunk_bytes=budget,
            )
            out["apply_s"] = time.perf_counter() - t1
    if args.step in ("fcls", "ddica"):
        if args.step == "fcls":
            table = read_endmembers_csv(wd / "engine_extract_e.csv")
            scale = choose_scale(0, table.comment)[0]  # the plugin's policy (engine.io.scaling, engine.io.matching)
            match = match_bands(table, info.wavelengths, info.count, info.bad_bands)
            func, bands = fcls_func(table.matrix[match.rows]), match.bands
        else:
            func, bands = predictor(model), None
        spent = [0.0]

        def timed(Y, inner=func):
            t = time.perf_counter()
            r = inner(Y)
            spent[0] += time.perf_counter() - t
            return r

        t1 = time.perf_counter()
        apply_blockwise(
            src, wd / f"engine_{args.step}_a.tif", timed, p, names, scale=scale, max_block_bytes=budget, bands=bands
        )
        out["apply_s"] = time.perf_counter() - t1
        out["model_s"] = spent[0]  # inside func; the rest of apply_s is reading, converting and writing
    out["total_s"] = time.perf_counter() - t0
    (wd / f"engine_{args.step}.json").write_text(json.dumps(out))


# ------------------------------------------------------------------ measuring a child process
def run_measured(cmd: List[str], log: Path, kill_bytes: int, env: Optional[dict] = None) -> Dict:
    """Run ``cmd`` under /usr/bin/time -v with a psutil watchdog; wall time, max RSS, exit status."""
    import psutil

    stats = log.with_suffix(".time")
    full = ["/usr/bin/time", "-v", "-o", str(stats), *cmd]
    t0 = time.perf_counter()
    peak_tree, killed, timeline, last = 0, False, [], -1.0
    with open(log, "w") as fh:
        proc = subprocess.Popen(full, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                tree = [ps, *ps.children(recursive=True)]
                rss = sum(q.memory_info().rss for q in tree)
            except psutil.Error:
                rss = 0
            peak_tree = max(peak_tree, rss)
            now = time.perf_counter() - t0
            if now - last >= 2.0:
                timeline.append((round(now, 1), round(rss / 2**20)))
                last = now
            if rss > kill_bytes and not killed:
                killed = True
                timeline.append((round(time.perf_counter() - t0, 1), round(rss / 2**20)))
                for q in reversed(tree):  # only the processes this run started
                    try:
                        q.kill()
                    except psutil.Error:
                        pass
            time.sleep(0.2)
    wall = time.perf_counter() - t0
    text = stats.read_text() if stats.exists() else ""
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    tail = log.read_text(errors="replace").strip().splitlines()[-8:]
    return {
        "cmd": " ".join(cmd),
        "rc": proc.returncode,
        "wall_s": wall,
        "killed_over_gib": killed,
        "max_rss_mib": int(m.group(1)) / 1024 if m else None,
        "polled_tree_peak_mib": peak_tree / 2**20,
        "rss_timeline_s_mib": timeline,
        "log_tail": tail,
    }


# ------------------------------------------------------------------ report
def score(E_true: np.ndarray, csv: Path) -> Optional[Dict]:
    """SAD (degrees) of an endmember CSV against the generated endmembers (scoring only)."""
    from deepunmix.engine.io.endmember_csv import read_endmembers_csv
    from deepunmix.engine.reporting.metrics import match_endmembers, sad

    if not csv.exists():
        return None
    t = read_endmembers_csv(csv)
    E = t.matrix
    perm = match_endmembers(E_true, E)
    s = sad(E_true, E[:, perm])
    return {
        "sad_deg": [round(float(v), 2) for v in s],
        "mean_sad_deg": round(float(np.mean(s)), 2),
        "comment": t.comment,
    }


def _fmt(v, nd=1):
    return "-" if v is None else f"{v:.{nd}f}"


def large_scene_render(res: Dict) -> str:
    """The Markdown page of a run, from its results payload."""
    m, sc = res["machine"], res["scene"]
    n_px = sc["size"] ** 2
    lines = [
        f"# Large scene: {sc['size']} x {sc['size']} x {sc['bands']} uint16",
        "",
        f"- date (UTC): {res['date']}; command: `{res['command']}`",
        f"- machine: {m['cpu']}, {m['logical_cpus']} logical CPUs, {m['mem_gib']:.1f} GiB RAM; "
        f"load average at start {tuple(round(x, 2) for x in m['load_average_at_start'])}, "
        f"at end {tuple(round(x, 2) for x in res['load_average_at_end'])} (the machine was shared)",
        f"- scene: {sc['bytes'] / 2**30:.2f} GiB on disk (tiled 256 x 256, uncompressed), {sc['n_valid']} valid pixels "
        f"of {n_px} ({BORDER}-px nodata border), {sc['n_endmembers']} materials, {SNR_DB:g} dB noise, seed {res['seed']}; "
        + (f"reused {sc['reused']}" if sc.get("reused") else f"generated in {sc['seconds']:.0f} s"),
        f"- peak memory: `/usr/bin/time -v` maximum resident set size of the child process; px/s = {n_px} pixels / "
        f"wall time of the step (qgis_process start-up included); engine block budget {res['block_mib']} MiB; "
        f"torch threads {res['threads']}; DDICA {res['ddica_steps']} steps on {res['ddica_pixels']} sampled pixels",
        "",
    ]
    body = []
    for r in res["runs"]:
        notes = []
        if r.get("killed_over_gib"):
            t_kill = r["rss_timeline_s_mib"][-1][0]
            notes.append(
                f"killed: process tree RSS passed {res['kill_gib']} GiB after {t_kill:.0f} s "
                f"(polled peak {r['polled_tree_peak_mib']:.0f} MiB)"
            )
        if r["step"] == "dask_fcls":
            notes.append(
                f"peak RSS is the driver's; driver + 2 workers polled together: {r['polled_tree_peak_mib']:.0f} MiB"
            )
        if r.get("note"):
            notes.append(r["note"])
        if r.get("detail"):
            d = r["detail"]
            notes.append(", ".join(f"{k} {v:.1f} s" for k, v in d.items() if k.endswith("_s") and k != "total_s"))
            if "scale" in d:
                notes.append(f"scale {d['scale']:g}")
        if r["rc"] != 0 and not r.get("killed_over_gib"):
            notes.append("failed: " + (r["log_tail"][-1] if r["log_tail"] else "?")[:120])
        sad_ = r.get("score", {}) or {}
        apply_s = (r.get("detail") or {}).get("apply_s")
        apply_rate = f"{n_px / apply_s:.0f}" if apply_s else "-"
        body.append(
            (r["route"], r["step"], r["rc"], f"{r['wall_s']:.1f}", f"{n_px / r['wall_s']:.0f}", apply_rate)
            + (_fmt(r["max_rss_mib"], 0), _fmt(sad_.get("mean_sad_deg"), 2), "; ".join(notes))
        )
    header = ("route", "step", "rc", "wall s", "px/s (wall)", "px/s (streamed apply only)", "peak RSS MiB")
    lines.append(table((*header, "mean SAD deg", "notes"), body))
    lines += ["", "Targets: peak memory < 1536 MiB for every step; FCLS >= 200000 px/s.", ""]
    for r in res["runs"]:
        if r["rc"] != 0:
            lines += [f"Log tail of {r['route']} {r['step']} (rc {r['rc']}):", "", "```", *r["log_tail"], "```", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------ main
def large_scene_main() -> None:
    """Large-scene benchmark: a 2000 x 2000 x 224 uint16 raster unmixed through the plugin and through the engine.

    The scene (reflectance x 10000, 4 procedural materials in smooth fields, 30 dB
    noise, a 16-pixel nodata border of 0) is generated in row blocks straight into a
    tiled, uncompressed GeoTIFF in --workdir (never held in memory; deleted at the
    end unless --keep). Then, each step in a fresh child process:

    * plugin: ``scripts/qgis_process run deepunmix:extract_endmembers`` (VCA), ``deepunmix:fcls``,
      ``deepunmix:ddica``;
    * engine: the same steps in-process through engine functions: a pixel sample
      (``sample_valid_pixels``) -> ``resolve_scale`` -> ``vca`` / ``DDICA.fit``; then
      streamed ``apply_blockwise`` of FCLS / DDICA inference with a block budget.

    Peak memory = ``/usr/bin/time -v`` "Maximum resident set size" of the child
    (qgis_process.bin itself: the wrapper script execs it). A psutil watchdog kills
    a step whose process tree exceeds --kill-gib and records it. Pixels per second
    = all pixels of the raster (border included) / wall time of the step. Ground
    truth (the generated endmembers) is used only to score the endmembers (SAD).
    """
    ap = h.parser(large_scene_main.__doc__, quick="a 300 x 300 scene, 50 DDICA steps, results in results/quick/")
    ap.add_argument("--size", type=int, default=None, help="scene side in pixels (default 2000, 300 with --quick)")
    ap.add_argument("--bands", type=int, default=224)
    ap.add_argument("--n-endmembers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", default=tempfile.gettempdir(), help="a run folder is made (and deleted) inside")
    ap.add_argument("--keep", action="store_true", help="keep the generated scene and outputs")
    ap.add_argument("--skip-plugin", action="store_true")
    ap.add_argument("--skip-engine", action="store_true")
    ap.add_argument("--steps", default=",".join(LARGE_SCENE_CASES), help="dask_fcls: engine only")
    ap.add_argument("--block-mib", type=float, default=64.0, help="engine block budget")
    ap.add_argument("--vca-pixels", type=int, default=100000)
    ap.add_argument("--ddica-pixels", type=int, default=20000)
    ap.add_argument("--ddica-steps", type=int, default=None, help="default 300, 50 with --quick")
    ap.add_argument("--threads", type=int, default=1, help="torch / BLAS threads for the DDICA steps")
    ap.add_argument("--kill-gib", type=float, default=6.0)
    ap.add_argument("--plugin-extra", default="", help="extra KEY=VALUE arguments for every qgis_process call")
    ap.add_argument(
        "--scene-path",
        help="use this existing scene (made by this script with the same --size/--bands/"
        "--n-endmembers/--seed) instead of generating one; it is not deleted",
    )
    ap.add_argument("--out", help="results path without suffix (default benchmarks/results/large_scene[_SIZE])")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--scene", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.size = args.size or (300 if args.quick else 2000)
    args.ddica_steps = args.ddica_steps or (50 if args.quick else 300)
    if args.step:
        return _engine_step(args)

    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    wd = Path(tempfile.mkdtemp(prefix="run_", dir=args.workdir))  # only this folder is deleted at the end
    need = args.size**2 * args.bands * 2
    free = shutil.disk_usage(wd).free
    if free < 2 * need:
        sys.exit(f"{wd}: {free / 2**30:.1f} GiB free, the scene needs {need / 2**30:.1f} GiB (+ outputs)")
    res: Dict = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "machine": machine(with_torch=False),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "seed": args.seed,
        "block_mib": args.block_mib,
        "threads": args.threads,
        "ddica_steps": args.ddica_steps,
        "ddica_pixels": args.ddica_pixels,
        "kill_gib": args.kill_gib,
        "runs": [],
    }
    if args.scene_path:
        from synthetic import procedural_library

        scene = Path(args.scene_path).resolve()
        E_true = procedural_library(n_bands=args.bands, n_spectra=args.n_endmembers, random_state=args.seed)[0]
        facts = {
            "seconds": float("nan"),
            "bytes": scene.stat().st_size,
            "n_valid": (args.size - 2 * BORDER) ** 2,
            "reused": str(scene),
        }
    else:
        scene = wd / "scene.tif"
        print(f"generating {scene} ...", flush=True)
        facts = make_scene(scene, args.size, args.bands, args.n_endmembers, args.seed)
        E_true = facts.pop("endmembers")
        facts.pop("wavelengths")
    res["scene"] = {"size": args.size, "bands": args.bands, "n_endmembers": args.n_endmembers, **facts}
    print(f"scene: {facts['bytes'] / 2**30:.2f} GiB in {facts['seconds']:.0f} s", flush=True)
    kill = int(args.kill_gib * 2**30)
    steps = [s for s in args.steps.split(",") if s]
    p = args.n_endmembers
    ddica_env = {
        **os.environ,
        "OMP_NUM_THREADS": str(args.threads),
        "MKL_NUM_THREADS": str(args.threads),
        "OPENBLAS_NUM_THREADS": str(args.threads),
    }
    try:
        if not args.skip_engine:
            for step in steps:
                cmd = [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--case",
                    "large_scene",
                    "--step",
                    step,
                    "--scene",
                    str(scene),
                    "--workdir",
                    str(wd),
                    "--n-endmembers",
                    str(p),
                    "--seed",
                    str(args.seed),
                    "--block-mib",
                    str(args.block_mib),
                    "--vca-pixels",
                    str(args.vca_pixels),
                    "--ddica-pixels",
                    str(args.ddica_pixels),
                    "--ddica-steps",
                    str(args.ddica_steps),
                    "--threads",
                    str(args.threads),
                ]
                print(f"engine {step} ...", flush=True)
                r = run_measured(cmd, wd / f"engine_{step}.log", kill, ddica_env if step == "ddica" else None)
                detail = wd / f"engine_{step}.json"
                r.update(route="engine", step=step, detail=json.loads(detail.read_text()) if detail.exists() else None)
                if step in ("extract", "ddica"):
                    r["score"] = score(E_true, wd / f"engine_{step}_e.csv")
                res["runs"].append(r)
                print(f"  rc {r['rc']}, {r['wall_s']:.1f} s, {_fmt(r['max_rss_mib'], 0)} MiB", flush=True)
        if not args.skip_plugin:
            extra = args.plugin_extra.split()
            qp = [str(ROOT / "scripts" / "qgis_process"), "run"]
            plugin_cmds = {
                "extract": [
                    "deepunmix:extract_endmembers",
                    "--",
                    f"INPUT={scene}",
                    f"N_ENDMEMBERS={p}",
                    "METHOD=0",
                    f"SEED={args.seed}",
                    f"OUTPUT_ENDMEMBERS={wd / 'plugin_extract_e.csv'}",
                ],
                "fcls": [
                    "deepunmix:fcls",
                    "--",
                    f"INPUT={scene}",
                    f"ENDMEMBERS={wd / 'plugin_extract_e.csv'}",
                    f"OUTPUT_ABUNDANCES={wd / 'plugin_fcls_a.tif'}",
                ],
                "ddica": [
                    "deepunmix:ddica",
                    "--",
                    f"INPUT={scene}",
                    f"N_ENDMEMBERS={p}",
                    f"SEED={args.seed}",
                    f"STEPS={args.ddica_steps}",
                    f"OUTPUT_ABUNDANCES={wd / 'plugin_ddica_a.tif'}",
                    f"OUTPUT_ENDMEMBERS={wd / 'plugin_ddica_e.csv'}",
                ],
            }
            for step in [s for s in steps if s in plugin_cmds]:
                print(f"plugin {step} ...", flush=True)
                note = None
                if (
                    step == "fcls"
                    and not (wd / "plugin_extract_e.csv").exists()
                    and (wd / "engine_extract_e.csv").exists()
                ):
                    plugin_cmds[step][3] = f"ENDMEMBERS={wd / 'engine_extract_e.csv'}"
                    note = "endmembers from the engine extract step (the plugin's extract step gave none)"
                r = run_measured(
                    qp + plugin_cmds[step] + extra,
                    wd / f"plugin_{step}.log",
                    kill,
                    ddica_env if step == "ddica" else None,
                )
                r.update(route="plugin", step=step, note=note)
                if step in ("extract", "ddica"):
                    r["score"] = score(E_true, wd / f"plugin_{step}_e.csv")
                res["runs"].append(r)
                print(f"  rc {r['rc']}, {r['wall_s']:.1f} s, {_fmt(r['max_rss_mib'], 0)} MiB", flush=True)
    finally:
        res["load_average_at_end"] = os.getloadavg()
        if not args.keep:
            shutil.rmtree(wd, ignore_errors=True)
    name = results_name("large_scene" + ("" if args.quick or args.size == 2000 else f"_{args.size}"), args.quick)
    out = Path(args.out) if args.out else RESULTS / name
    print(write(out.name, large_scene_render(res), res, folder=out.parent).read_text())


CASES = {
    "speed": Case("fcls_speed", speed_main, speed_render, SPEED_CASES),
    "fit_warning": Case("fit_warning", fit_warning_main, fit_warning_render, FIT_WARNING_CASES),
    "large_scene": Case("large_scene", large_scene_main, large_scene_render, LARGE_SCENE_CASES),
}

if __name__ == "__main__":
    main(CASES)
