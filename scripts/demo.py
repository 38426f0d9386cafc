"""The DeepUnmix demo: a synthetic scene unmixed through qgis_process, scored against its truth.

Generates a georeferenced synthetic hyperspectral GeoTIFF (the BUDDIP paper's
patch procedure on built-in procedural spectra), runs the plugin's algorithms
exactly as a user would (scripts/qgis_process), then writes a figure and
prints the scores. Run it with `make demo`.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

from deepunmix.engine.io.endmember_csv import read_endmembers_csv, write_endmembers_csv
from deepunmix.engine.io.raster import read_raster, write_abundances, write_cube
from deepunmix.engine.reporting.metrics import score_unmixing

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))  # benchmarks/synthetic.py: the scenes of the benchmarks and tests
from synthetic import make_patch_scene  # noqa: E402

QGIS_PROCESS = REPO / "scripts" / "qgis_process"


def qgis_process(alg: str, **params) -> dict:
    """Run one algorithm through scripts/qgis_process and return its JSON results."""
    args = [str(QGIS_PROCESS), "--json", "run", f"deepunmix:{alg}", "--"]
    args += [f"{k}={v}" for k, v in params.items()]
    print(
        f"$ scripts/qgis_process run deepunmix:{alg} -- " + " ".join(f"{k}={v}" for k, v in params.items()), flush=True
    )
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"qgis_process failed for {alg}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout[proc.stdout.index("{") :])["results"]


def available_algorithms() -> set:
    out = subprocess.run([str(QGIS_PROCESS), "list"], capture_output=True, text=True).stdout
    return {line.strip().split()[0].split(":")[1] for line in out.splitlines() if line.strip().startswith("deepunmix:")}


def make_scene(out: Path, size: int, p: int, snr: float, seed: int):
    from rasterio.crs import CRS
    from rasterio.transform import from_origin

    scene = make_patch_scene(size=size, n_endmembers=p, snr_db=snr, random_state=seed)
    names = [f"material_{i + 1}" for i in range(p)]
    cube = out / "scene.tif"
    georef = {"transform": from_origin(440000.0, 4430000.0, 20.0, 20.0), "crs": CRS.from_epsg(32613)}
    write_cube(str(cube), scene.cube, wavelengths=scene.wavelengths, **georef)
    write_abundances(str(out / "truth_abundances.tif"), scene.abundances, names, like=georef)
    write_endmembers_csv(str(out / "truth_endmembers.csv"), scene.endmembers, names, wavelengths=scene.wavelengths)
    return scene, cube, names


def run_methods(out: Path, cube: Path, p: int, seed: int, algs: set) -> dict:
    runs = {}
    t = time.perf_counter()
    qgis_process(
        "extract_endmembers",
        INPUT=cube,
        N_ENDMEMBERS=p,
        METHOD=0,
        SEED=seed,
        OUTPUT_ENDMEMBERS=out / "vca_endmembers.csv",
    )
    qgis_process(
        "fcls", INPUT=cube, ENDMEMBERS=out / "vca_endmembers.csv", OUTPUT_ABUNDANCES=out / "vca_fcls_abundances.tif"
    )
    runs["VCA + FCLS"] = ("vca_fcls_abundances.tif", "vca_endmembers.csv", time.perf_counter() - t)
    for alg, label in (("ddica", "DDICA"), ("buddip", "BUDDIP")):
        if alg not in algs:
            print(f"({label} is not available in this build; skipped)")
            continue
        t = time.perf_counter()
        qgis_process(
            alg,
            INPUT=cube,
            N_ENDMEMBERS=p,
            SEED=seed,
            OUTPUT_ABUNDANCES=out / f"{alg}_abundances.tif",
            OUTPUT_ENDMEMBERS=out / f"{alg}_endmembers.csv",
        )
        runs[label] = (f"{alg}_abundances.tif", f"{alg}_endmembers.csv", time.perf_counter() - t)
    return runs


def score_runs(out: Path, scene, runs: dict) -> dict:
    scores = {}
    for label, (ab, em, seconds) in runs.items():
        A = read_raster(str(out / ab)).cube
        E = read_endmembers_csv(str(out / em)).matrix
        s = score_unmixing(scene.endmembers, scene.abundances, E, A)
        scores[label] = {
            "armse": s["armse"],
            "mean_rmse": s["mean_rmse"],
            "asad_deg": s["asad"],
            "seconds": seconds,
            "perm": [int(i) for i in s["perm"]],
            "A": A,
            "E": E,
        }
    return scores


def figure(path: Path, scene, names, scores: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = scene.abundances.shape[0]
    rows = 1 + len(scores)
    fig, axes = plt.subplots(rows, p + 1, figsize=(2.3 * (p + 1) + 2, 2.3 * rows), squeeze=False)
    panels = [("Truth", scene.abundances, None)] + [(k, v["A"][v["perm"]], v) for k, v in scores.items()]
    for r, (label, A, v) in enumerate(panels):
        for k in range(p):
            ax = axes[r, k]
            ax.imshow(A[k], vmin=0, vmax=1, cmap="viridis")
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(names[k], fontsize=9)
            if k == 0:
                ax.set_ylabel(label, fontsize=9)
        ax = axes[r, p]
        if v is None:
            for k in range(p):
                ax.plot(scene.wavelengths, scene.endmembers[:, k], lw=1.2, label=names[k])
            ax.set_title("Endmembers (truth)", fontsize=9)
        else:
            E = v["E"][:, v["perm"]]
            for k in range(p):
                (line,) = ax.plot(scene.wavelengths, scene.endmembers[:, k], lw=0.8, alpha=0.5)
                ax.plot(scene.wavelengths, E[:, k], "--", color=line.get_color(), lw=1.2)
            ax.set_title(f"aRMSE {v['armse']:.3f}, aSAD {v['asad_deg']:.1f}°", fontsize=9)
        ax.tick_params(labelsize=7)
    axes[-1, p].set_xlabel("wavelength (nm)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="demo-output")
    ap.add_argument("--size", type=int, default=60)
    ap.add_argument("--endmembers", type=int, default=4)
    ap.add_argument("--snr", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)

    scene, cube, names = make_scene(out, args.size, args.endmembers, args.snr, args.seed)
    print(
        f"Synthetic scene: {cube} ({scene.cube.shape[0]} bands, {args.size} x {args.size} px, "
        f"{args.endmembers} materials, SNR {args.snr:g} dB)"
    )
    runs = run_methods(out, cube, args.endmembers, args.seed, available_algorithms())
    scores = score_runs(out, scene, runs)
    figure(out / "demo.png", scene, names, scores)

    table = out / "scores.csv"
    with open(table, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["method", "aRMSE", "mean_RMSE", "aSAD_deg", "seconds"])
        for k, v in scores.items():
            w.writerow([k, f"{v['armse']:.4f}", f"{v['mean_rmse']:.4f}", f"{v['asad_deg']:.2f}", f"{v['seconds']:.1f}"])
    print(
        f"\nOutputs in {out}: abundance GeoTIFFs (*_abundances.tif), endmember CSVs (*_endmembers.csv), "
        f"figure demo.png, scores.csv"
    )
    print("\nScores against the known truth (matching for scoring only):")
    print(f"{'method':<12} {'aRMSE':>8} {'meanRMSE':>9} {'aSAD(deg)':>10} {'time(s)':>8}")
    for k, v in scores.items():
        print(f"{k:<12} {v['armse']:>8.4f} {v['mean_rmse']:>9.4f} {v['asad_deg']:>10.2f} {v['seconds']:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
