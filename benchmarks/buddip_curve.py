"""BUDDIP time-to-accuracy on Samson: score of the moving-average output against iterations and seconds.

Ground truth (both Samson references) scores the snapshots only; nothing is selected with it.
The curve is what the defaults (n_iter, learning_rate) were chosen from. Torch uses 1 thread;
the 1-min load average is recorded because other jobs share the CPUs.

Usage: .venv/bin/python benchmarks/buddip_curve.py [--quick] [--seeds 3] [--n-iter 1000] [--every 50]
       [--lrs 0.001 0.003 0.01]
Writes benchmarks/results/buddip_curve.md and .json.
"""

from __future__ import annotations

import argparse
import os
import time
from statistics import median

import buddip_common as bc
from _machine import canonical, machine, one_thread
from _tables import results_name, table, write

CASES = (1e-3, 3e-3, 1e-2)  # the learning rates (--lrs), each with --seeds seeds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 seed, 200 iterations, one learning rate")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--n-iter", type=int, default=1000)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--lrs", type=float, nargs="*", default=list(CASES))
    args = ap.parse_args()
    if args.quick:
        args.seeds, args.n_iter, args.lrs = 1, 200, args.lrs[-1:]
    loaded = bc.samson_references()
    if loaded is None:
        print(f"skipped: data absent ({bc.shared_data() / 'samson'})")
        return
    zhu, refs = loaded
    one_thread()
    from deepunmix.engine.dip.buddip import BUDDIP

    info = machine()
    points = []
    for lr in args.lrs:
        for seed in range(args.seeds):
            t = time.perf_counter()
            m = BUDDIP.build(3, n_iter=args.n_iter, learning_rate=lr, random_state=seed, snapshot_every=args.every).fit(
                zhu.cube
            )
            total = time.perf_counter() - t
            setup = total - (m.snapshots_[-1][1] if m.snapshots_ else 0.0)  # extractor + FCLS + net build
            snaps = [(0, 0.0, m.init_endmembers_, m.init_abundances_)] + m.snapshots_
            for it, sec, E, A in snaps:
                pt = {"lr": lr, "seed": seed, "iteration": it, "seconds": setup + sec, "load1": os.getloadavg()[0]}
                for ref, (Er, Ar) in refs.items():
                    s = bc.score(Er, Ar, E, A)
                    pt[f"armse_{ref}"], pt[f"asad_{ref}"] = s["armse"], s["asad"]
                points.append(pt)
            print(
                f"lr {lr} seed {seed}: {total:.1f}s; final rasti {points[-1]['armse_rasti']:.4f}/"
                f"{points[-1]['asad_rasti']:.2f} zhu {points[-1]['armse_zhu']:.4f}/{points[-1]['asad_zhu']:.2f}",
                flush=True,
            )
    payload = {"machine": info, "args": vars(args), "points": points}
    write(results_name("buddip_curve", args.quick), render(payload), payload)


def render(payload) -> str:
    """The Markdown page of a run, from its results payload (machine, args, points)."""
    info, args, points = canonical(payload["machine"]), payload["args"], payload["points"]
    md = [
        "# BUDDIP time-to-accuracy on Samson",
        "",
        f"Machine: {info['host']}, {info['logical_cpus']} CPUs (shared), torch {info['torch']} 1 thread. "
        f"Date: {info['date_utc']}. Load at start: {info['load_average_at_start']}. Seeds: {list(range(args['seeds']))}.",
        "Medians over seeds of the moving-average output at each iteration (iteration 0 = the guidance: "
        "extractor + purification + FCLS). Seconds include the guidance. Paper bar (Jasper Ridge): "
        "aRMSE 0.1023, aSAD 6.85 deg.",
        "",
    ]
    columns = ("seconds", "load1", "armse_zhu", "asad_zhu", "armse_rasti", "asad_rasti")
    for lr in args["lrs"]:
        body = []
        for it in sorted({p["iteration"] for p in points if p["lr"] == lr}):
            ps = [p for p in points if p["lr"] == lr and p["iteration"] == it]
            body.append((it, *(median(p[k] for p in ps) for k in columns)))
        md += [
            f"## learning rate {lr:g}",
            "",
            table(
                ("iteration", "seconds", "load1", "aRMSE (Zhu)", "aSAD (Zhu)", "aRMSE (Rasti)", "aSAD (Rasti)"),
                body,
                (None, ".1f", ".1f", ".4f", ".2f", ".4f", ".2f"),
            ),
            "",
        ]
    return "\n".join(md) + "\n"


if __name__ == "__main__":
    main()
