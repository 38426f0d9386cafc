"""The BUDDIP paper variant on Jasper Ridge, scored along its training (as far as a CPU gets).

BUDDIP ``variant='paper'`` with the paper's Jasper settings (weights 1/1/1; Adam 1e-4; noise inputs)
is run for ``--iters`` iterations (the paper: 24 000) and the networks' outputs are scored every
``--every`` iterations against the reference. The ground truth only scores: nothing is chosen with it.

Usage: .venv/bin/python benchmarks/buddip_paper_curve.py [--iters 120] [--every 20] [--seeds 1] [--variant paper]
Writes benchmarks/results/buddip_paper_curve.md and .json. Torch uses 1 thread.
"""

from __future__ import annotations

import argparse

import buddip_common as bc
import numpy as np
from _machine import canonical, machine, one_thread
from _tables import results_name, table, write

CASES = ("paper", "authors_code")  # the BUDDIP variants --variant picks from (one per run; Jasper Ridge, --seeds seeds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=120)
    ap.add_argument("--every", type=int, default=20)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--variant", default="paper", choices=CASES)
    ap.add_argument(
        "--out",
        default=None,
        help="results name under benchmarks/results (default buddip_paper_curve, quick/buddip_paper_curve with --quick)",
    )
    ap.add_argument("--quick", action="store_true", help="2 iterations")
    args = ap.parse_args()
    args.out = args.out or results_name("buddip_paper_curve", args.quick)  # quick never overwrites full
    if args.quick:
        args.iters, args.every = 2, 1
    jas = bc.jasper()
    if jas is None:
        print("skipped: Jasper Ridge absent")
        return
    one_thread()
    from deepunmix.engine.dip.buddip import BUDDIP, PAPER_JASPER

    info = machine()
    extra = dict(PAPER_JASPER) if args.variant == "paper" else {}
    extra["n_iter"] = args.iters
    rows = []
    for seed in range(args.seeds):
        m = BUDDIP.build(4, variant=args.variant, random_state=seed, snapshot_every=args.every, **extra).fit(jas.cube)
        g = bc.score(jas.endmembers, jas.abundances, m.init_endmembers_, m.init_abundances_)
        rows.append({"seed": seed, "iteration": 0, "seconds": 0.0, **g, "what": "guidance (SiVM SVD + FCLS)"})
        for it, sec, E, A in m.snapshots_:
            s = bc.score(jas.endmembers, jas.abundances, E, np.asarray(A))
            rows.append({"seed": seed, "iteration": it, "seconds": sec, **s, "what": "networks' output"})
            print(f"seed {seed} iteration {it}: {s['armse']:.4f} / {s['asad']:.2f} deg, {sec:.0f} s", flush=True)
    payload = {"machine": info, "args": vars(args), "rows": rows}
    write(args.out, render(payload), payload)


def render(payload) -> str:
    """The Markdown page of a run, from its results payload (machine, args, rows)."""
    info, args, rows = canonical(payload["machine"]), argparse.Namespace(**payload["args"]), payload["rows"]
    md = [
        f"# BUDDIP {args.variant} variant on Jasper Ridge along training (paper: 24 000 iterations)",
        "",
        f"Machine: {info['host']}, {info['logical_cpus']} CPUs (shared; timings are noise), torch {info['torch']} 1 "
        f"thread. Date: {info['date_utc']}. Load at start: {info['load_average_at_start']}. Seeds: {list(range(args.seeds))}. "
        f"Settings: {args.variant} variant"
        + (", the paper's Jasper weights 1/1/1" if args.variant == "paper" else "")
        + f", {args.iters} iterations. Iteration 0 = the guidance the losses use (not the networks' output, "
        "which starts from noise).",
        "",
        table(
            ("seed", "iteration", "what", "aRMSE", "aSAD", "seconds"),
            [[r[k] for k in ("seed", "iteration", "what", "armse", "asad", "seconds")] for r in rows],
            (None, None, None, ".4f", ".2f", ".0f"),
        ),
    ]
    return "\n".join(md) + "\n"


if __name__ == "__main__":
    main()
