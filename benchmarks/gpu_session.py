"""Everything this project measures on a lent CUDA GPU, in one command with a time budget.

The device machine (one H100, 16 CPU cores, no GDAL/rasterio/QGIS) is lent for minutes per session,
so the CUDA measurements of issues #12 and #13 run as one script whose sections each stop at their
own deadline and write what they finished after every row:

1. ``eigh`` (and ``eigh_alternatives``: MAGMA, SVD drivers, host threading, with the entropy's
   error against float64): one batched eigendecomposition (with its gradient) of the Gram matrices of a DDICA step,
   on the GPU (``torch.linalg.eigvalsh``) and on the host CPU (entropy route ``'host'``), for the
   default's shape (32 restarts x 4 matrices of 128) and the paper's (4 and 64 matrices of 1000);
2. ``ddica_default``: the default DDICA fit on Samson and Jasper Ridge, seeds 0-2, on the 16 CPU
   cores and on CUDA (entropy route ``'auto'``, which times both routes once), wall seconds and
   scores; one CUDA fit with the route forced to the GPU solver, as the engine ran before;
3. ``ddica_paper``: ``variant='paper'`` on Samson on CUDA with T = 8 restarts (then 64 if the
   budget allows), the seconds per restart and the extrapolation to the paper's T = 1000, scored
   with the paper's protocol (network maps, matched to the reference for scoring only);
4. ``buddip_gain``: BUDDIP's default against its own iteration-0 output, against longer GPU
   schedules (2000 iterations; paper loss weights; no moving average) and the paper variant, Samson (both references), Jasper Ridge, a 20 dB synthetic scene,
   seeds 0-4;
5. ``buddip_large``: a 768 x 768 synthetic scene on CUDA with the size limit from the device's free
   memory, and the same scene forced into tiles.

Ground truth only scores; nothing is chosen with it. Data: ``$DEEPUNMIX_SHARED_DATA`` (the machine
has no ../shared; the data travel as an ignored folder). Output: ``--out`` (``$OUT`` on the device
machine) gets gpu_session.json and the log; ``benchmarks/gpu_results.py`` turns the JSON into
``results/gpu_session.md``.

    DEEPUNMIX_SHARED_DATA=.gpudata python benchmarks/gpu_session.py --out "$OUT" --budget 480
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import buddip_common as bc

SECTIONS = ("eigh", "eigh_alternatives", "ddica_default", "ddica_paper", "buddip_large", "buddip_gain")
SHARE = {
    "eigh": 0.06,
    "eigh_alternatives": 0.15,
    "ddica_default": 0.27,
    "ddica_paper": 0.22,
    "buddip_gain": 0.33,
    "buddip_large": 0.12,
}
DDICA_RUNS = ("cpu:auto", "cuda:auto", "cuda:batched")
ARGS = argparse.Namespace(seeds=3, scenes=None, paper_restarts=(8, 64), ddica_runs=DDICA_RUNS)


class Budget:
    def __init__(self, seconds: float):
        self.t0 = time.perf_counter()
        self.total = seconds
        self.deadline = self.t0 + seconds

    def left(self) -> float:
        return self.deadline - time.perf_counter()


def environment() -> dict:
    import torch

    info = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        numpy=np.__version__,
        cuda=torch.cuda.is_available(),
        cpu_count=os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        load1=os.getloadavg()[0],
        date=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    )
    if info["cuda"]:
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda_version"] = torch.version.cuda
        info["gpu_free_bytes"], info["gpu_total_bytes"] = torch.cuda.mem_get_info(0)
    return info


def _sync():
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def section_eigh(out: dict, save, deadline: float) -> None:
    import torch

    from deepunmix.engine.ddica.entropy import host_eigvalsh, robust_eigvalsh

    gen = torch.Generator().manual_seed(0)
    for shape in ((128, 128, 128), (4, 1000, 1000), (64, 1000, 1000)):
        s = torch.softmax(torch.randn(shape[0], shape[1], 3, generator=gen), -1)
        K = torch.exp(-((s[:, :, None, 0] - s[:, None, :, 0]) ** 2) / (2 * 0.1**2)) / shape[1]
        for device in ("cuda", "cpu"):
            if device == "cuda" and not torch.cuda.is_available():
                continue
            for route, solve in (("device", robust_eigvalsh), ("host", host_eigvalsh)):
                if device == "cpu" and route == "host":
                    continue
                if time.perf_counter() > deadline:
                    return
                A = K.to(device).requires_grad_()
                times = []
                for i in range(4):
                    _sync()
                    t = time.perf_counter()
                    solve(A).sum().backward()
                    _sync()
                    if i:
                        times.append(time.perf_counter() - t)
                lam = solve(A.detach()).double().cpu()
                ref = torch.linalg.eigvalsh(K.double())
                row = dict(
                    shape=list(shape),
                    device=device,
                    route=route,
                    median_s=float(np.median(times)),
                    max_abs_error_vs_cpu_float64=float((lam - ref).abs().max()),
                )
                out["eigh"].append(row)
                print("eigh", row, flush=True)
                save()


def section_eigh_alternatives(out: dict, save, deadline: float) -> None:
    """Other eigenvalue routes for the same Gram batches: time with gradient, and the Rényi entropy's error."""
    import torch

    from deepunmix.engine.ddica import entropy

    if not torch.cuda.is_available():
        return

    def svd_route(driver):
        return lambda A: torch.linalg.svdvals(0.5 * (A + A.transpose(-1, -2)), driver=driver)

    def magma(A):
        torch.backends.cuda.preferred_linalg_library("magma")
        try:
            return torch.linalg.eigvalsh(0.5 * (A + A.transpose(-1, -2)))
        finally:
            torch.backends.cuda.preferred_linalg_library("default")

    def host_inner(n):
        def solve(A):
            entropy.HOST_INNER_THREADS = n
            try:
                return entropy.host_eigvalsh(A)
            finally:
                entropy.HOST_INNER_THREADS = 1

        return solve

    routes = (
        ("cusolver eigvalsh", entropy.robust_eigvalsh),
        ("magma eigvalsh", magma),
        ("svdvals gesvdj", svd_route("gesvdj")),
        ("svdvals gesvda", svd_route("gesvda")),
        ("host, 1 LAPACK thread per worker", host_inner(1)),
        ("host, torch's LAPACK threads", host_inner(None)),
    )
    gen = torch.Generator().manual_seed(1)
    for shape in ((128, 128, 128), (32, 1000, 1000)):
        s = torch.softmax(torch.randn(shape[0], shape[1], 3, generator=gen) * 2, -1)
        d = ((s[:, :, None, :] - s[:, None, :, :]) ** 2).sum(-1)
        K = torch.exp(-d / (2 * 0.1**2)) / shape[1]
        ref = entropy._renyi_from_normalised(K.double(), 1.01, "batched")
        for name, solve in routes:
            if time.perf_counter() > deadline:
                return
            A = K.cuda().requires_grad_()
            times = []
            try:
                for i in range(4):
                    _sync()
                    t = time.perf_counter()
                    lam = solve(A)
                    lam.sum().backward()
                    _sync()
                    if i:
                        times.append(time.perf_counter() - t)
                lam = lam.detach().double().cpu().clamp_min(1e-12)
                H = torch.log2((lam**1.01).sum(-1)) / (1 - 1.01)
                row = dict(
                    shape=list(shape),
                    route=name,
                    median_s=float(np.median(times)),
                    entropy_max_abs_error_bits=float((H - ref).abs().max()),
                )
            except Exception as exc:  # noqa: BLE001 - a route that fails is a finding
                row = dict(shape=list(shape), route=name, error=repr(exc)[:300])
            out["eigh_alternatives"].append(row)
            print("eigh_alternatives", row, flush=True)
            save()


def _score(refs: dict, E, A, p, shape) -> dict:
    return {name: bc.score(Er, Ar, E, np.asarray(A).reshape(p, *shape)) for name, (Er, Ar) in refs.items()}


def _scenes():
    refs = bc.samson_references()
    jas = bc.jasper()
    scenes = {}
    if refs is not None:
        zhu, r = refs
        scenes["samson"] = (zhu.cube, 3, {"Zhu": r["zhu"], "Rasti": r["rasti"]})
    if jas is not None:
        scenes["jasper"] = (jas.cube, 4, {"end4": (jas.endmembers, jas.abundances)})
    return scenes


def section_ddica_default(out: dict, save, deadline: float) -> None:
    import torch

    from deepunmix.engine.ddica import DDICA, entropy

    runs = [tuple(item.split(":")) for item in ARGS.ddica_runs]
    if not torch.cuda.is_available():
        runs = [r for r in runs if r[0] == "cpu"]
    for seed in range(ARGS.seeds):
        for scene, (cube, p, refs) in _scenes().items():
            if ARGS.scenes and scene not in ARGS.scenes:
                continue
            plan = [r for r in runs if seed == 0 or r != ("cuda", "batched")]  # the GPU solver alone: seed 0 only
            for device, route in plan:
                if time.perf_counter() > deadline:
                    return
                _sync()
                t = time.perf_counter()
                m = DDICA.build(p, random_state=seed, device=device, eig_route=route).fit(cube)
                _sync()
                dt = time.perf_counter() - t
                row = dict(
                    scene=scene,
                    seed=seed,
                    device=device,
                    route=route,
                    seconds=dt,
                    scores=_score(refs, m.endmembers_, m.abundances_, p, cube.shape[1:]),
                    load1=os.getloadavg()[0],
                )
                out["ddica_default"].append(row)
                print("ddica_default", row, flush=True)
                out["auto_choices"] = {str(k): v for k, v in entropy.AUTO_CHOICES.items()}
                save()


def section_ddica_paper(out: dict, save, deadline: float) -> None:
    import torch

    from deepunmix.engine.ddica import DDICA

    scenes = _scenes()
    if "samson" not in scenes or not torch.cuda.is_available():
        return
    cube, p, refs = scenes["samson"]
    per_restart = None
    for T in ARGS.paper_restarts:
        if per_restart is not None and per_restart * T * 1.15 > deadline - time.perf_counter():
            out["ddica_paper_skipped"] = f"T={T}: {per_restart * T:.0f} s expected, budget left too small"
            save()
            return
        if time.perf_counter() > deadline:
            return
        _sync()
        t = time.perf_counter()
        m = DDICA(p, variant="paper", n_restarts=T, random_state=0, device="cuda").fit(cube)
        _sync()
        dt = time.perf_counter() - t
        per_restart = dt / T
        row = dict(
            scene="samson",
            seed=0,
            n_restarts=T,
            seconds=dt,
            seconds_per_restart=per_restart,
            extrapolated_T1000_s=per_restart * 1000,
            n_steps=int(m.n_iter_),
            scores=_score(refs, m.endmembers_, m.abundances_, p, cube.shape[1:]),
            load1=os.getloadavg()[0],
        )
        out["ddica_paper"].append(row)
        print("ddica_paper", row, flush=True)
        save()


def section_buddip_gain(out: dict, save, deadline: float) -> None:
    import torch

    from deepunmix.engine.io.synthetic import usgs_library

    device = "cuda" if torch.cuda.is_available() else "cpu"
    scenes = _scenes()
    lib_path = bc.shared_data() / "usgs" / "USGS_1995_Library.mat"
    configs = (
        ("iteration 0", dict(n_iter=0)),
        ("default", {}),
        ("default, 2000 iterations", dict(n_iter=2000)),
        ("default, weights 0.1/0.01/1, 2000 iterations", dict(alpha1=0.1, alpha2=0.01, n_iter=2000)),
        ("default, no moving average, 2000 iterations", dict(ema=0.0, n_iter=2000)),
        ("paper variant", dict(variant="paper")),
    )
    for seed in range(5):
        todo = dict(scenes)
        if lib_path.is_file():
            lib, _, _ = usgs_library(lib_path)
            cube, p, ref = bc.patch_scene(lib, 60, 20.0, seed)
            todo["syn 20 dB"] = (cube, p, {"truth": ref})
        for scene, (cube, p, refs) in todo.items():
            for name, kw in configs:
                if kw.get("variant") == "paper" and scene != "jasper":  # the paper's scene only: 4500 iterations
                    continue
                if time.perf_counter() > deadline:
                    return
                _sync()
                t = time.perf_counter()
                E, A = bc.buddip(cube, p, seed, device=device, **kw)
                _sync()
                row = dict(
                    scene=scene,
                    seed=seed,
                    config=name,
                    device=device,
                    seconds=time.perf_counter() - t,
                    scores=_score(refs, E, A, p, cube.shape[1:]),
                )
                out["buddip_gain"].append(row)
                print("buddip_gain", row, flush=True)
            save()


def section_buddip_large(out: dict, save, deadline: float) -> None:
    import torch

    from deepunmix.engine.dip import tiling
    from deepunmix.engine.dip.buddip import BUDDIP
    from deepunmix.engine.io.synthetic import make_patch_scene

    if not torch.cuda.is_available():
        return
    sc = make_patch_scene(size=768, n_endmembers=4, snr_db=30, random_state=0)
    p = 4
    for label, kw in (("auto limit", {}), ("forced tiles (262144 px)", dict(max_pixels=262144))):
        if time.perf_counter() > deadline:
            return
        torch.cuda.reset_peak_memory_stats()
        _sync()
        t = time.perf_counter()
        m = BUDDIP.build(p, random_state=0, device="cuda", **kw).fit(sc.cube)
        _sync()
        row = dict(
            config=label,
            shape=list(sc.cube.shape),
            seconds=time.perf_counter() - t,
            tiles=len(m.tiles_),
            peak_gpu_bytes=int(torch.cuda.max_memory_allocated()),
            budget_bytes=int(tiling.memory_budget_bytes(torch.device("cuda"))),
            scores=_score(
                {"truth": (sc.endmembers, sc.abundances)}, m.endmembers_, m.abundances_, p, sc.cube.shape[1:]
            ),
        )
        out["buddip_large"].append(row)
        print("buddip_large", row, flush=True)
        save()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    ap.add_argument("--budget", type=float, default=480.0, help="seconds for all sections together")
    ap.add_argument("--only", nargs="*", choices=SECTIONS, default=list(SECTIONS))
    ap.add_argument("--seeds", type=int, default=3, help="seeds of the default DDICA fits")
    ap.add_argument("--scenes", nargs="*", default=None, help="scenes of the default DDICA fits (default: all)")
    ap.add_argument(
        "--ddica-runs", nargs="*", default=list(DDICA_RUNS), help="device:eig_route pairs of the default DDICA fits"
    )
    ap.add_argument("--paper-restarts", type=int, nargs="*", default=[8, 64], help="T of the paper-variant fits")
    args = ap.parse_args()
    ARGS.seeds, ARGS.scenes, ARGS.paper_restarts = args.seeds, args.scenes, args.paper_restarts
    ARGS.ddica_runs = args.ddica_runs
    budget = Budget(args.budget)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = {name: [] for name in SECTIONS}
    out["environment"] = environment()
    out["errors"] = {}
    print(out["environment"], flush=True)

    def save():
        (out_dir / "gpu_session.json").write_text(json.dumps(out, indent=1, default=str))

    funcs = {name: globals()[f"section_{name}"] for name in SECTIONS}
    share_left = sum(SHARE[n] for n in args.only)
    for name in args.only:
        seconds = budget.left() * SHARE[name] / share_left
        share_left -= SHARE[name]
        t = time.perf_counter()
        try:
            funcs[name](out, save, t + seconds)
        except Exception:  # noqa: BLE001 - a section's failure is a result too; the next sections still run
            out["errors"][name] = traceback.format_exc()
            print(out["errors"][name], flush=True)
        out.setdefault("section_seconds", {})[name] = time.perf_counter() - t
        save()
    print(json.dumps(out["section_seconds"]), flush=True)


if __name__ == "__main__":
    main()
