"""What every benchmark study shares: the case dispatcher, the common arguments, the scenes, the compared chains.

A study (``benchmarks/<study>.py``) declares ``CASES = {name: Case(...)}`` and ends with ``main(CASES)``:
``python benchmarks/<study>.py --case NAME [its arguments]`` runs one case, which writes
``results/<Case.results>.md`` and ``.json`` (``results/quick/...`` with ``--quick``; that folder is not
committed). ``_registry.py`` lists every study x case that ``run_all.py`` runs. Ground truth only scores.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

import numpy as np
from _tables import RESULTS, results_name


@dataclass(frozen=True)
class Case:
    """One case of a study: the results page it writes, how it runs and renders, what it measures."""

    results: str  # results/<results>.md
    run: Callable[[], None]  # parses sys.argv (the study's name and --case are already taken off)
    render: Optional[Callable] = None  # payload -> the page's Markdown (None: the page is built otherwise)
    rows: object = ()  # what it measures (scenes, settings, rows), printed by run_all.py --list
    fixed: Tuple[str, ...] = ()  # arguments always passed (a mode of another case's code)


def main(cases: Dict[str, Case], argv=None) -> None:
    """``--case NAME [arguments]``: run that case (``--help`` without a case lists the cases)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--case", choices=list(cases))
    known, rest = ap.parse_known_args(argv)
    if known.case is None:
        print(f"usage: {Path(sys.argv[0]).name} --case {{{','.join(cases)}}} [--help | its arguments]")
        raise SystemExit(0 if {"-h", "--help"} & set(rest) else 2)
    case = cases[known.case]
    sys.argv = [f"{Path(sys.argv[0]).name} --case {known.case}", *case.fixed, *rest]
    case.run()


def parser(doc: str, name: Optional[str] = None, quick: str = "", seeds: Optional[int] = None):
    """The case's argument parser: description = the doc's first line; ``--quick`` (help: what it shortens) and
    ``--out`` (results name, default ``name``) when given; ``--seeds`` (seeds 0..n-1) when ``seeds`` is."""
    ap = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    if quick:
        ap.add_argument("--quick", action="store_true", help=quick)
    if seeds is not None:
        ap.add_argument("--seeds", type=int, default=seeds)
    if name:
        ap.add_argument("--out", default=None, help=f"results name under benchmarks/results (default {name})")
    return ap


def parse(ap, name: Optional[str] = None, **quick):
    """``ap.parse_args()``; ``--out`` defaults to ``name`` (``quick/<name>`` with --quick: a quick run never
    overwrites a full run's files); with --quick, each ``quick`` keyword replaces that argument."""
    args = ap.parse_args()
    if getattr(args, "quick", False):
        for key, value in quick.items():
            setattr(args, key, value)
    if name is not None:
        args.out = getattr(args, "out", None) or results_name(name, getattr(args, "quick", False))
    return args


def unpack(payload: dict, rows: str = "runs"):
    """A results payload's machine record (today's names), its arguments (a Namespace) and its ``rows``."""
    from _machine import canonical

    return canonical(payload["machine"]), argparse.Namespace(**payload["args"]), payload[rows]


def page(payload: dict, title: str, rows: str = "runs"):
    """:func:`unpack`'s three, and a page's first lines: ``title`` and a blank line."""
    return (*unpack(payload, rows), [title, ""])


# ---- data ----


def shared_data() -> Path:
    """``$DEEPUNMIX_SHARED_DATA`` or ``<repo>/../shared/data`` (:func:`engine.io.matfile.default_data_dir`)."""
    from deepunmix.engine.io.matfile import default_data_dir

    return default_data_dir()


def absent(*paths: str) -> bool:
    """True (after saying so) when one of these files under the shared data folder is missing."""
    missing = [p for p in paths if not (shared_data() / p).is_file()]
    if missing:
        print(f"skipped: data absent ({shared_data() / missing[0]})")
    return bool(missing)


def samson_references():
    """(Zhu dataset, {"zhu": (E, A), "rasti": (E, A)}) from ../shared/data/samson, or None (said) when absent."""
    if not (shared_data() / "samson" / "samson_1.mat").is_file():
        print(f"skipped: data absent ({shared_data() / 'samson'})")
        return None
    from deepunmix.engine.io.matfile import samson, samson_rasti

    zhu, rasti = samson(shared_data()), samson_rasti(shared_data())
    return zhu, {"zhu": (zhu.endmembers, zhu.abundances), "rasti": (rasti.endmembers, rasti.abundances)}


def jasper():
    """Jasper Ridge (Zhu format) scaled by its maximum (Y / max Y; the BUDDIP code divides by 5000), or None when absent."""
    folder = shared_data() / "jasper_ridge"
    if not (folder / "jasperRidge2_R198.mat").is_file():
        return None
    from deepunmix.engine.io.matfile import load_mat_dataset

    ds = load_mat_dataset(folder / "jasperRidge2_R198.mat", folder / "end4.mat")
    ds.cube = (ds.cube / float(ds.cube.max())).astype(np.float32)
    return ds


def usgs():
    """The USGS 1995 library (the BUDDIP paper's synthetic scenes draw from it)."""
    from synthetic import usgs_library

    return usgs_library(shared_data() / "usgs" / "USGS_1995_Library.mat")[0]


def gtiff_profile(dtype: str, count: int, height: int, width: int, nodata, tiled: bool = True, **extra) -> dict:
    """A GeoTIFF profile of a synthetic scene (UTM 33N, 30 m pixels; 256 x 256 tiles when ``tiled``)."""
    from rasterio.transform import from_origin

    prof = dict(driver="GTiff", dtype=dtype, count=count, height=height, width=width, nodata=nodata, **extra)
    prof.update(transform=from_origin(500000, 4000000, 30, 30), crs="EPSG:32633")
    if tiled:
        prof.update(tiled=True, blockxsize=256, blockysize=256)
    return prof


def patch_scene(lib, size: int, snr: float, seed: int):
    """The paper's synthetic scene (six library endmembers, 100 patches): (cube, p, (E, A))."""
    from synthetic import make_patch_scene

    sc = make_patch_scene(size=size, n_endmembers=6, snr_db=snr, library=lib, random_state=seed)
    return sc.cube, 6, (sc.endmembers, sc.abundances)


def done_runs(name: str, resume: bool):
    """Rows of an earlier (partial) run of benchmark ``name`` to continue from, or []."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text())["runs"] if resume and path.is_file() else []


def run_pooled(job: Callable, tasks: list, workers: int, rows: list, save: Callable[[], None]) -> None:
    """``job`` over ``tasks`` in ``workers`` spawned processes, each task's rows appended to ``rows`` and ``save()``
    called after every task (a stopped run keeps what it did) and at the end."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(max(1, workers)) as pool:
        for got in pool.imap_unordered(job, tasks):
            rows += got
            save()
    save()


# ---- the compared chains and the score ----


def timed(fn: Callable[[], Tuple[np.ndarray, np.ndarray]]):
    """Run fn -> (E, A); return E, A, wall seconds and the 1-min load average at the end."""
    t = time.perf_counter()
    E, A = fn()
    return E, A, time.perf_counter() - t, os.getloadavg()[0]


def pixels(cube: np.ndarray) -> np.ndarray:
    return cube.reshape(cube.shape[0], -1).astype(np.float64)


def sivm_fcls(cube, p, seed):
    from deepunmix.engine.abundances.fcls import fcls
    from deepunmix.engine.extraction.sivm import sivm

    Y = pixels(cube)
    E, _ = sivm(Y, p)
    return E, fcls(Y, E)


def vca_fcls(cube, p, seed):
    from deepunmix.engine.abundances.fcls import fcls
    from deepunmix.engine.extraction.vca import vca

    Y = pixels(cube)
    E, _ = vca(Y, p, random_state=seed)
    return E, fcls(Y, E)


def buddip(cube, p, seed, **kw):
    from deepunmix.engine.dip.buddip import BUDDIP

    m = BUDDIP.build(p, random_state=seed, **kw).fit(cube)
    return m.endmembers_, m.abundances_


def undip(cube, p, seed, **kw):
    from deepunmix.engine.dip.undip import UnDIP

    m = UnDIP.build(p, random_state=seed, **kw).fit(cube)
    return m.endmembers_, m.abundances_


def score(E_ref, A_ref, E, A) -> Dict[str, float]:
    from deepunmix.engine.reporting.metrics import score_unmixing

    s = score_unmixing(E_ref, A_ref, E, A)
    return {"armse": float(s["armse"]), "asad": float(s["asad"])}


def scores_by_ref(refs, E, A) -> Dict[str, float]:
    """``{armse_<ref>: ..., asad_<ref>: ...}`` against each reference ``{ref: (E, A)}``."""
    out = {}
    for ref, (Er, Ar) in refs.items():
        s = score(Er, Ar, E, A)
        out[f"armse_{ref}"], out[f"asad_{ref}"] = s["armse"], s["asad"]
    return out


def scored_rows(refs, cube, E, A, seed, method, **tail) -> list:
    """One row per reference scene ``{scene: (E, A)}``: scene, seed, method, aRMSE, aSAD, then ``tail``."""
    maps = np.asarray(A).reshape(E.shape[1], *cube.shape[1:])
    return [
        {"scene": ref, "seed": seed, "method": method, **score(Er, Ar, E, maps), **tail}
        for ref, (Er, Ar) in refs.items()
    ]


def say(label: str, rows: list, seconds: float, load: float) -> None:
    """Print a fit's scores (aRMSE/aSAD per reference row), seconds and load."""
    print(
        f"{label}: "
        + ", ".join(f"{r['armse']:.4f}/{r['asad']:.2f}" for r in rows)
        + f" {seconds:.1f}s load {load:.1f}",
        flush=True,
    )


def exact_fcls(Y: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Exact FCLS by enumerating supports (every subset S: the sum-to-one LS on S by its KKT system; the feasible
    solution of lowest objective): the optimum of a convex QP, practical for small p only. The oracle of
    ``tests/engine/test_fcls.py`` and of ``fcls.py --case speed``."""
    G, B = E.T @ E, E.T @ Y
    p = E.shape[1]
    out = np.empty((p, Y.shape[1]))
    kkts = []
    for k in range(1, p + 1):
        for S in itertools.combinations(range(p), k):
            S = list(S)
            K = np.zeros((k + 1, k + 1))
            K[:k, :k] = G[np.ix_(S, S)]
            K[:k, k] = K[k, :k] = 1.0
            kkts.append((S, np.linalg.pinv(K)))
    for i in range(Y.shape[1]):
        best, best_f = None, np.inf
        for S, Kinv in kkts:
            sol = (Kinv @ np.r_[B[S, i], 1.0])[: len(S)]
            if sol.min() < -1e-12:
                continue
            a = np.zeros(p)
            a[S] = np.maximum(sol, 0.0)
            f = np.sum((Y[:, i] - E @ a) ** 2)
            if f < best_f:
                best, best_f = a, f
        out[:, i] = best
    return out
