"""Does BUDDIP's training improve on its own starting point? Ablation rows with seed spread.

Rows per scene (ground truth only scores; nothing is selected with it):
- guidance only: SiVM + FCLS, no refinement, no network;
- networks without refinement: the default networks started from SiVM + FCLS (purify 0, expand 0);
- refinement without networks: SiVM, purify 5 %, expand 3, FCLS = the default's iteration-0 output;
- default: the ``default`` variant (200 iterations, lr 3e-3, weights 1/1/1, moving average, FCLS output);
- candidate: the default with the paper's synthetic weights 0.1/0.01/1 and 300 iterations (a
  reconstruction-led schedule tried as a new default);
- paper variant: taken from benchmarks/results/buddip_paper.json (Jasper Ridge, the seeds it ran; its
  synthetic scenes are 100 px, not this benchmark's).

For every network row the gain over its own iteration-0 output (the same configuration with
``n_iter=0``, i.e. its guidance) is given per seed; the target is at least 5 % relative aRMSE or
0.3 deg aSAD, median over seeds, on every scene. Scenes that chose: Samson (both references) and
the synthetic scenes (15/20/25 dB); Jasper Ridge is the check and chose nothing.

Usage: .venv/bin/python benchmarks/buddip_gain.py [--seeds 5]
Writes benchmarks/results/buddip_gain.md and .json. Torch uses 1 thread.
"""

from __future__ import annotations

import argparse
import json
from statistics import median

import buddip_common as bc
import numpy as np
from _machine import canonical, machine, one_thread
from _tables import results_name, table, write

GUIDE, NETS_ONLY, REFINE_ONLY, DEFAULT, CANDIDATE, PAPER = (
    "guidance only (SiVM + FCLS)",
    "networks without refinement",
    "refinement without networks (default at it. 0)",
    "default",
    "candidate: weights 0.1/0.01/1, 300 it.",
    "paper variant",
)
NETWORK_ROWS = {NETS_ONLY: GUIDE, DEFAULT: REFINE_ONLY, CANDIDATE: REFINE_ONLY}  # row -> its iteration-0 row
SNRS = (15.0, 20.0, 25.0)
CASES = ("samson", "jasper", *(f"syn {s:g} dB" for s in SNRS))  # the scenes, each with --seeds seeds
QUICK_CASES = ("samson",)
CHOOSING = ("samson (Zhu ref.)", "samson (Rasti ref.)", *(f"syn {s:g} dB" for s in SNRS))


def methods(cube, p, seed):
    """Yield (row, E, A, seconds, load1)."""
    from deepunmix.engine.dip.buddip import BUDDIP

    def fit(**kw):
        m = BUDDIP.build(p, random_state=seed, **kw).fit(cube)
        return m.endmembers_, m.abundances_

    yield (GUIDE, *bc.timed(lambda: bc.sivm_fcls(cube, p, seed)))
    yield (NETS_ONLY, *bc.timed(lambda: fit(purify=0, expand=0)))
    yield (REFINE_ONLY, *bc.timed(lambda: fit(n_iter=0)))
    yield (DEFAULT, *bc.timed(lambda: fit()))
    yield (CANDIDATE, *bc.timed(lambda: fit(alpha1=0.1, alpha2=0.01, n_iter=300)))


def paper_rows():
    """Runs of the paper variant from buddip_paper.json, keyed (scene, seed)."""
    path = bc.RESULTS / "buddip_paper.json"
    if not path.is_file():
        return {}, None
    payload = json.loads(path.read_text())
    runs = {(r["scene"], r["seed"]): r for r in payload["runs"] if r["method"] == "BUDDIP (paper)"}
    return runs, payload["args"].get("iters")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="1 seed, Samson only")
    ap.add_argument("--size", type=int, default=60, help="synthetic scene side (pixels)")
    ap.add_argument("--resume", action="store_true", help="keep the finished scene/seed runs of the last results")
    ap.add_argument(
        "--out",
        default=None,
        help="results name under benchmarks/results (default buddip_gain, quick/buddip_gain with --quick)",
    )
    ap.add_argument(
        "--merge-paper",
        action="store_true",
        help="no fits: rewrite buddip_gain.md from its .json with the paper rows of buddip_paper.json",
    )
    args = ap.parse_args()
    args.out = args.out or results_name("buddip_gain", args.quick)  # quick never overwrites full
    if args.merge_paper:
        old = json.loads((bc.RESULTS / f"{args.out}.json").read_text())
        rows, paper_iters = merge_paper(old["runs"], old["args"]["seeds"])
        save(rows, old["machine"], argparse.Namespace(**old["args"]), paper_iters)
        return
    data = bc.shared_data()
    refs = bc.samson_references()
    jas = bc.jasper()
    if refs is None or jas is None or not (data / "usgs" / "USGS_1995_Library.mat").is_file():
        print(f"skipped: data absent ({data})")
        return
    one_thread()
    from deepunmix.engine.io.synthetic import usgs_library

    info = machine()
    lib, _, _ = usgs_library(data / "usgs" / "USGS_1995_Library.mat")
    rows = [r for r in bc.done_runs(args.out, args.resume) if r["method"] != PAPER]
    done = {(r["scene"], r["seed"]) for r in rows}
    scenes = QUICK_CASES if args.quick else CASES
    if args.quick:
        args.seeds = 1
    for scene in scenes:
        for seed in range(args.seeds):
            cube, p, scored = bc.gain_scene(scene, seed, args.size, lib)
            if (next(iter(scored)), seed) in done:
                continue
            for name, E, A, dt, load in methods(cube, p, seed):
                for ref, (Er, Ar) in scored.items():
                    s = bc.score(Er, Ar, E, np.asarray(A).reshape(p, *cube.shape[1:]))
                    rows.append({"scene": ref, "seed": seed, "method": name, **s, "seconds": dt, "load1": load})
                print(
                    f"{scene} seed {seed} {name}: "
                    + ", ".join(f"{r['armse']:.4f}/{r['asad']:.2f}" for r in rows[-len(scored) :])
                    + f" {dt:.1f}s load {load:.1f}",
                    flush=True,
                )
            save(rows, info, args, None)  # after every scene and seed: a stopped run keeps what it did
    rows, paper_iters = merge_paper(rows, args.seeds)
    save(rows, info, args, paper_iters)


def _gains(rows, scene, method):
    base = NETWORK_ROWS.get(method)
    return None if base is None else bc.gain_over(rows, scene, method, base)


def merge_paper(rows, n_seeds):
    """Drop old paper-variant rows and add those of buddip_paper.json (same scenes and seeds)."""
    rows = [r for r in rows if r["method"] != PAPER]
    paper, paper_iters = paper_rows()
    for (scene, seed), r in paper.items():
        if scene != "jasper":  # the synthetic scenes there are 100 px, not this benchmark's
            continue
        name = "jasper (check)"
        if seed < n_seeds and any(x["scene"] == name for x in rows):
            rows.append(
                {
                    "scene": name,
                    "seed": seed,
                    "method": PAPER,
                    "armse": r["armse"],
                    "asad": r["asad"],
                    "seconds": r["seconds"],
                    "load1": r["load1"],
                }
            )
    return rows, paper_iters


def save(rows, info, args, paper_iters):
    payload = {"machine": info, "args": vars(args), "runs": rows, "paper_iterations": paper_iters}
    write(args.out, render(payload), payload)


def render(payload) -> str:
    """The Markdown page of a run, from its results payload (machine, args, runs, paper_iterations)."""
    info, args, rows = payload["machine"], argparse.Namespace(**payload["args"]), payload["runs"]
    paper_iters = payload["paper_iterations"]
    m = canonical(info)  # saved results name the machine facts as they did when written
    order = [GUIDE, NETS_ONLY, REFINE_ONLY, DEFAULT, CANDIDATE, PAPER]
    md = [
        "# BUDDIP: does training improve on its starting point? (ablation with seed spread)",
        "",
        f"Machine: {m['host']}, {m['logical_cpus']} CPUs (shared with other jobs; timings are noise), torch "
        f"{m['torch']} 1 thread. Date: {m['date_utc']}. Load at start: {m['load_average_at_start']}. "
        f"Seeds asked: {list(range(args.seeds))}; the n column says how many ran per row. Synthetic scenes: the "
        f"paper's recipe at {getattr(args, 'size', 100)} x {getattr(args, 'size', 100)} px (smaller than its 100 "
        f"to fit this CPU), six USGS endmembers, one scene per seed.",
        "Medians over seeds; spread = max - min over seeds (Samson and Jasper: same guidance, seeds change the "
        "networks; synthetic: one scene per seed). Gain = improvement over the row's own iteration-0 output "
        "(its guidance), median of per-seed gains: relative aRMSE, aSAD in degrees; target >= 5 % or >= 0.3 deg. "
        f"Scenes that chose the default: {', '.join(CHOOSING)}. Check (chose nothing): Jasper Ridge. "
        + (
            f"Paper variant rows: from buddip_paper.json, {paper_iters} iterations per run (the paper: 4500 / 24 000)."
            if paper_iters
            else "Paper variant rows: from buddip_paper.json where present."
        ),
        "",
    ]
    verdict, body = {}, []
    for scene in dict.fromkeys(r["scene"] for r in rows):
        for m in order:
            rs = [r for r in rows if r["scene"] == scene and r["method"] == m]
            if not rs:
                continue
            a, s = [r["armse"] for r in rs], [r["asad"] for r in rs]
            g = _gains(rows, scene, m)
            gtxt = ("", "", "")
            if g:
                ok = g[0] >= 0.05 or g[1] >= 0.3
                gtxt = (f"{100 * g[0]:+.1f} %", f"{g[1]:+.2f}", "yes" if ok else "NO")
                verdict.setdefault(m, []).append((scene, ok, max(a) - min(a), max(s) - min(s), g))
            body.append(
                (scene, m, len(rs), median(a), median(s), max(a) - min(a), max(s) - min(s), *gtxt)
                + (median(r["seconds"] for r in rs), median(r["load1"] for r in rs))
            )
    header = ("scene", "method", "n", "aRMSE", "aSAD", "aRMSE spread", "aSAD spread", "gain aRMSE", "gain aSAD")
    header += ("target met", "time (s)", "load1")
    md.append(table(header, body, (None, None, None, ".4f", ".2f", ".4f", ".2f", None, None, None, ".1f", ".1f")))
    md += ["", "## Verdicts", ""]
    for m, items in verdict.items():
        fails = [sc for sc, ok, *_ in items if not ok]
        # the method matters more than the seed when every seed's change has the sign of the median change
        mixed = [sc for sc, _, sa, ss, g in items if g[2] < 0 < g[3]]
        md.append(
            f"- {m}: target met on {len(items) - len(fails)}/{len(items)} scenes"
            + (f" (not on {', '.join(fails)})" if fails else "")
            + "; per-seed aRMSE changes from its iteration 0 (min to max): "
            + ", ".join(f"{sc} {100 * g[2]:+.1f}..{100 * g[3]:+.1f} %" for sc, _, _, _, g in items)
            + (
                f"; the seed decides the sign on {', '.join(mixed)}"
                if mixed
                else "; on every scene all seeds change it in the same direction (the method, not the seed, decides)"
            )
            + "."
        )
    md += [
        "",
        "Decision: the `default` variant stays as it was (200 iterations, lr 3e-3, weights 1/1/1), now with the "
        "moving average started after the first update. The candidate gains more on the synthetic scenes but "
        "loses more on both Samson references; on Samson, neither schedule (nor the longer and "
        "reconstruction-only schedules tried while choosing, see the task note) beats its own iteration 0, "
        "and the check scene (Jasper) agrees. On the real scenes measured, the default's training makes its "
        "refined first guess slightly worse; its gain over SiVM + FCLS is the refinement's. It is named for "
        "that in the help: a light CPU setting, not the paper's BUDDIP (variant `paper`).",
        "",
        "Reading the other BUDDIP sections: their 'BUDDIP' rows (buddip_synthetic, buddip_samson, "
        "buddip_ablation) are this default variant from earlier runs (moving average then started at the "
        "guidance), compared with unrefined SiVM + FCLS and UnDIP; its lead there is the refinement's, as the "
        "'refinement without networks' rows here show.",
    ]
    return "\n".join(md) + "\n"


if __name__ == "__main__":
    main()
