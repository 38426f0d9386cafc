"""Shared helpers for the BUDDIP/UnDIP benchmarks: data path, the compared methods (machine info: ``_machine``)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from statistics import median
from typing import Callable, Dict, Tuple

import numpy as np
from _tables import RESULTS


def shared_data() -> Path:
    """``$DEEPUNMIX_SHARED_DATA`` or ``<repo>/../shared/data`` (:func:`engine.io.matfile.default_data_dir`)."""
    from deepunmix.engine.io.matfile import default_data_dir

    return default_data_dir()


def samson_references():
    """(Zhu dataset, {"zhu": (E, A), "rasti": (E, A)}) from ../shared/data/samson, or None when absent."""
    if not (shared_data() / "samson" / "samson_1.mat").is_file():
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


def done_runs(name: str, resume: bool):
    """Rows of an earlier (partial) run of benchmark ``name`` to continue from, or []."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text())["runs"] if resume and path.is_file() else []


def patch_scene(lib, size: int, snr: float, seed: int):
    """The paper's synthetic scene (six library endmembers, 100 patches): (cube, p, {name: (E, A)})."""
    from deepunmix.engine.io.synthetic import make_patch_scene

    sc = make_patch_scene(size=size, n_endmembers=6, snr_db=snr, library=lib, random_state=seed)
    return sc.cube, 6, (sc.endmembers, sc.abundances)


def gain_scene(case: str, seed: int, size: int, lib):
    """(cube, p, {scored name: (E, A)}) of a buddip_gain / buddip_schedules case: 'samson' (Zhu's and Rasti's
    references), 'jasper' (the check) or 'syn <snr> dB' (the paper's recipe at size x size px, one per seed)."""
    if case == "samson":
        zhu, refs = samson_references()
        return zhu.cube, 3, {"samson (Zhu ref.)": refs["zhu"], "samson (Rasti ref.)": refs["rasti"]}
    if case == "jasper":
        jas = jasper()
        return jas.cube, 4, {"jasper (check)": (jas.endmembers, jas.abundances)}
    cube, p, ref = patch_scene(lib, size, float(case.split()[1]), seed)
    return cube, p, {case: ref}


def gain_over(rows, scene: str, method: str, base: str):
    """How far ``method`` improves on ``base`` on ``scene``, over the seeds both ran: the median relative aRMSE
    gain, the median aSAD gain (degrees), and the smallest and largest relative gain."""
    got = {r["seed"]: r for r in rows if r["scene"] == scene and r["method"] == method}
    ref = {r["seed"]: r for r in rows if r["scene"] == scene and r["method"] == base}
    seeds = sorted(set(got) & set(ref))
    rel = [(ref[s]["armse"] - got[s]["armse"]) / ref[s]["armse"] for s in seeds]
    deg = [ref[s]["asad"] - got[s]["asad"] for s in seeds]
    return median(rel), median(deg), min(rel), max(rel)


def run_pooled(job: Callable, tasks: list, workers: int, rows: list, save: Callable[[], None]) -> None:
    """``job`` over ``tasks`` in ``workers`` spawned processes, each task's rows appended to ``rows`` and ``save()``
    called after every task (a stopped run keeps what it did) and at the end."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(max(1, workers)) as pool:
        for got in pool.imap_unordered(job, tasks):
            rows += got
            save()
    save()


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
