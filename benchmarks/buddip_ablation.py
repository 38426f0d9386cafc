"""BUDDIP ablation: which part of BUDDIP moves aRMSE / aSAD (guidance refinement, training, final abundances).

Rows per scene (medians over seeds; ground truth only scores, nothing is selected with it):
classic chains (SiVM + FCLS, VCA + FCLS); BUDDIP's guidance alone (SiVM, then purification and/or
expansion, then FCLS; no network); BUDDIP fits: the previous defaults (purify 0.005, no expansion,
ADIP output) and the current defaults with either final abundances (ADIP output, or FCLS with the
learned endmembers: the default). Scenes: Samson (both references) and the paper's synthetic patch
scenes (six USGS endmembers); guidance rows on every scene, BUDDIP fits on ``--train`` scenes only.
The defaults were tuned on these same scenes: the scores are optimistic for other data.

Usage: .venv/bin/python benchmarks/buddip_ablation.py [--quick] [--seeds 5]
Writes benchmarks/results/buddip_ablation.md and .json. Torch uses 1 thread.
"""

from __future__ import annotations

import argparse
from statistics import median

import buddip_common as bc
import numpy as np
from _machine import canonical, machine, one_thread
from _tables import results_name, table, write

GUIDANCE = {  # name -> (purify, expand)
    "guidance: SiVM + purify 0.005 (previous default)": (0.005, 0),
    "guidance: SiVM + purify 0.05": (0.05, 0),
    "guidance: SiVM + expand 3": (0.0, 3),
    "guidance: SiVM + purify 0.05 + expand 3 (default)": (0.05, 3),
}
FITS = (
    "BUDDIP previous defaults (purify 0.005, ADIP output)",
    "BUDDIP defaults, ADIP output",
    "BUDDIP defaults (FCLS with learned endmembers)",
)
SYN = [
    ("syn 50 px 30 dB", 50, 30.0),
    ("syn 100 px 30 dB", 100, 30.0),
    ("syn 150 px 30 dB", 150, 30.0),
    ("syn 200 px 30 dB", 200, 30.0),
    ("syn 100 px 15 dB", 100, 15.0),
    ("syn 100 px 20 dB", 100, 20.0),
]
CASES = ("samson", *(s[0] for s in SYN))  # the scenes, in the order they run
QUICK_CASES = ("samson", "syn 50 px 30 dB")
TRAIN = ["samson", "syn 50 px 30 dB", "syn 100 px 30 dB", "syn 100 px 15 dB"]


def methods(cube, p, seed, train):
    """Yield (method, E, A, seconds, load1)."""
    from deepunmix.engine.dip.buddip import BUDDIP
    from deepunmix.engine.dip.guidance import extract_endmembers, refine_guidance

    Y = bc.pixels(cube)
    for name, fn in (
        ("SiVM+FCLS", lambda: bc.sivm_fcls(cube, p, seed)),
        ("VCA+FCLS", lambda: bc.vca_fcls(cube, p, seed)),
    ):
        yield (name, *bc.timed(fn))
    E0, _ = extract_endmembers(Y, p, "sivm")
    for name, (purify, expand) in GUIDANCE.items():
        yield (name, *bc.timed(lambda: refine_guidance(Y, E0, purify, expand)))
    if not train:
        return
    yield (FITS[0], *bc.timed(lambda: bc.buddip(cube, p, seed, purify=0.005, expand=0, final_abundances="adip")))
    fitted = {}

    def current():
        fitted["m"] = BUDDIP(p, random_state=seed).fit(cube)
        return fitted["m"].endmembers_, fitted["m"].abundances_

    E, A, dt, load = bc.timed(current)
    yield (FITS[1], E, fitted["m"].adip_abundances_, dt, load)
    yield (FITS[2], E, A, dt, load)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 seeds, Samson and 50 px only")
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    scenes = CASES
    if args.quick:
        args.seeds, scenes = 2, QUICK_CASES
    data = bc.shared_data()
    if not (data / "samson" / "samson_1.mat").is_file() or not (data / "usgs" / "USGS_1995_Library.mat").is_file():
        print(f"skipped: data absent ({data})")
        return
    one_thread()
    from deepunmix.engine.io.matfile import samson, samson_rasti
    from deepunmix.engine.io.synthetic import make_patch_scene, usgs_library

    info = machine()
    lib, _, _ = usgs_library(data / "usgs" / "USGS_1995_Library.mat")
    zhu, rasti = samson(data), samson_rasti(data)
    syn = {s[0]: s[1:] for s in SYN}
    rows = []
    for scene in scenes:
        for seed in range(args.seeds):
            if scene == "samson":
                cube, p = zhu.cube, 3
                refs = {
                    "samson (Rasti ref.)": (rasti.endmembers, rasti.abundances),
                    "samson (Zhu ref.)": (zhu.endmembers, zhu.abundances),
                }
            else:
                size, snr = syn[scene]
                sc = make_patch_scene(size=size, n_endmembers=6, snr_db=snr, library=lib, random_state=seed)
                cube, p, refs = sc.cube, 6, {scene: (sc.endmembers, sc.abundances)}
            for name, E, A, dt, load in methods(cube, p, seed, scene in TRAIN):
                for ref, (Er, Ar) in refs.items():
                    s = bc.score(Er, Ar, E, np.asarray(A).reshape(p, *cube.shape[1:]))
                    rows.append({"scene": ref, "seed": seed, "method": name, **s, "seconds": dt, "load1": load})
                print(
                    f"{scene} seed {seed} {name}: "
                    + ", ".join(f"{r['armse']:.4f}/{r['asad']:.2f}" for r in rows[-len(refs) :])
                    + f" {dt:.1f}s load {load:.1f}",
                    flush=True,
                )
    payload = {"machine": info, "args": vars(args), "runs": rows}
    write(results_name("buddip_ablation", args.quick), render(payload), payload)


def render(payload) -> str:
    """The Markdown page of a run, from its results payload (machine, args, runs)."""
    info, args, rows = canonical(payload["machine"]), payload["args"], payload["runs"]
    order = ["SiVM+FCLS", "VCA+FCLS", *GUIDANCE, *FITS]
    body = []
    for scene in dict.fromkeys(r["scene"] for r in rows):
        for m in order:
            rs = [r for r in rows if r["scene"] == scene and r["method"] == m]
            if rs:
                meds = [median(r[k] for r in rs) for k in ("armse", "asad", "seconds", "load1")]
                body.append((scene, m, *meds))
    md = [
        "# BUDDIP ablation: guidance refinement, training, final abundances",
        "",
        f"Machine: {info['host']}, {info['logical_cpus']} CPUs (shared with other jobs), torch {info['torch']} 1 thread. "
        f"Date: {info['date_utc']}. Load at start: {info['load_average_at_start']}. Seeds: {list(range(args['seeds']))}.",
        "Medians over seeds: aRMSE, aSAD (degrees, Hungarian-matched), wall seconds, 1-min load. Guidance rows are "
        "SiVM + the named refinement + FCLS, no network. The defaults were tuned on these scenes (optimistic).",
        "",
        table(
            ("scene", "method", "aRMSE", "aSAD", "time (s)", "load1"), body, (None, None, ".4f", ".2f", ".1f", ".1f")
        ),
    ]
    return "\n".join(md) + "\n"


if __name__ == "__main__":
    main()
