"""BUDDIP paper, Section 4.1: synthetic patch scenes; BUDDIP vs UnDIP vs SiVM + FCLS.

Six USGS endmembers (../shared/data/usgs/USGS_1995_Library.mat), a x a pixels, 100 patches of
[0.8, 0.2] two-endmember mixtures, 11 x 11 Gaussian filter, AWGN. Sweep 1: SNR 15..35 dB at
100 x 100. Sweep 2: image size 50..200 at 30 dB. Medians over seeds; ground truth only scores.
Methods run with their defaults unless --n-iter / --undip-iter are given. Torch uses 1 thread.

Usage: .venv/bin/python benchmarks/buddip_synthetic.py [--quick] [--seeds 5] [--snrs 15 20 25 30 35]
       [--sizes 50 100 150 200] [--n-iter N] [--undip-iter N] [--out NAME]
Writes benchmarks/results/<NAME>.md and .json (default buddip_synthetic; rewritten after every scene).
The committed buddip_synthetic results come from one default run (5 seeds, both sweeps).
"""

from __future__ import annotations

import argparse
from statistics import median

import buddip_common as bc
from _machine import canonical, machine, one_thread
from _tables import results_name, table, write

METHODS = ("SiVM+FCLS", "UnDIP", "BUDDIP")
SNRS, SIZES = (15, 20, 25, 30, 35), (50, 100, 150, 200)


def jobs(snrs, sizes):
    """(sweep, image side, SNR dB) of each scene: the SNR sweep at 100 x 100, then the size sweep at 30 dB."""
    return (*(("snr_db", 100, snr) for snr in snrs), *(("size", a, 30.0) for a in sizes))


CASES = jobs(SNRS, SIZES)  # the default scenes (--snrs/--sizes replace them), each with --seeds seeds


def run_scene(lib, size, snr, seed, args):
    from deepunmix.engine.io.synthetic import make_patch_scene

    sc = make_patch_scene(size=size, n_endmembers=6, snr_db=snr, library=lib, random_state=seed)
    bkw = {} if args.n_iter is None else {"n_iter": args.n_iter}
    ukw = {} if args.undip_iter is None else {"n_iter": args.undip_iter}
    fns = {
        "SiVM+FCLS": lambda: bc.sivm_fcls(sc.cube, 6, seed),
        "UnDIP": lambda: bc.undip(sc.cube, 6, seed, **ukw),
        "BUDDIP": lambda: bc.buddip(sc.cube, 6, seed, **bkw),
    }
    rows = []
    for name in METHODS:
        E, A, dt, load = bc.timed(fns[name])
        s = bc.score(sc.endmembers, sc.abundances, E, A)
        rows.append({"size": size, "snr_db": snr, "seed": seed, "method": name, **s, "seconds": dt, "load1": load})
        print(
            f"size {size} snr {snr} seed {seed} {name:10s} aRMSE {s['armse']:.4f} aSAD {s['asad']:.2f} "
            f"{dt:.1f}s load {load:.1f}",
            flush=True,
        )
    return rows


def summary(rows, key):
    out = []
    for v in sorted({r[key] for r in rows}):
        for m in METHODS:
            rs = [r for r in rows if r[key] == v and r["method"] == m]
            if rs:
                out.append(
                    {
                        key: v,
                        "method": m,
                        "n": len(rs),
                        "armse": median(r["armse"] for r in rs),
                        "asad": median(r["asad"] for r in rs),
                        "seconds": median(r["seconds"] for r in rs),
                    }
                )
    return out


def verdict(summ, key):
    lines = []
    for v in sorted({s[key] for s in summ}):
        d = {s["method"]: s for s in summ if s[key] == v}
        if "BUDDIP" in d and len(d) == len(METHODS):
            others = [d[m] for m in METHODS if m != "BUDDIP"]
            ok_r = all(d["BUDDIP"]["armse"] < o["armse"] for o in others)
            ok_s = all(d["BUDDIP"]["asad"] < o["asad"] for o in others)
            lines.append(
                f"- {key} {v}: BUDDIP best aRMSE: {'yes' if ok_r else 'NO'}; best aSAD: {'yes' if ok_s else 'NO'}"
            )
    return lines


def render(payload) -> str:
    """The Markdown page of a run, from its results payload (machine, args, runs)."""
    info, args, rows = canonical(payload["machine"]), argparse.Namespace(**payload["args"]), payload["runs"]
    md = [
        "# BUDDIP synthetic benchmark (paper Section 4.1)",
        "",
        f"Machine: {info['host']}, {info['logical_cpus']} CPUs (shared with other jobs), torch {info['torch']} "
        f"1 thread, numpy {info['numpy']}. Date: {info['date_utc']}. Load at start: {info['load_average_at_start']}.",
        f"Seeds: {args.seeds_list}. Scene: 6 USGS endmembers, 100 patches [0.8, 0.2], 11 x 11 Gaussian filter. "
        f"BUDDIP n_iter: {args.n_iter or 'default'}, UnDIP n_iter: {args.undip_iter or 'default'}.",
        "Values are medians over seeds (aRMSE over pixels; aSAD in degrees, Hungarian-matched). "
        "Times are wall seconds under the load shown per run in the JSON.",
        "",
    ]
    for key, title in (("snr_db", "SNR sweep (100 x 100)"), ("size", "Image-size sweep (30 dB)")):
        sub = [r for r in rows if r["sweep"] == key]
        if not sub:
            continue
        summ = summary(sub, key)
        md += [
            f"## {title}",
            "",
            table(
                (key, "method", "n", "aRMSE", "aSAD (deg)", "time (s)"),
                [[s[k] for k in (key, "method", "n", "armse", "asad", "seconds")] for s in summ],
                (None, None, None, ".4f", ".2f", ".1f"),
            ),
            "",
            *verdict(summ, key),
            "",
        ]
    return "\n".join(md) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 seed, SNR 15 and 35, sizes skipped, 100 iterations")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--snrs", type=float, nargs="*", default=list(SNRS))
    ap.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    ap.add_argument("--n-iter", type=int, default=None)
    ap.add_argument("--undip-iter", type=int, default=None)
    ap.add_argument(
        "--out",
        default=None,
        help="results name under benchmarks/results (default buddip_synthetic, quick/buddip_synthetic with --quick)",
    )
    args = ap.parse_args()
    args.out = args.out or results_name("buddip_synthetic", args.quick)  # quick never overwrites full
    if args.quick:
        args.seeds, args.snrs, args.sizes = 1, [15, 35], []
        args.n_iter = args.n_iter or 100
        args.undip_iter = args.undip_iter or 100
    args.seeds_list = list(range(args.seeds))
    path = bc.shared_data() / "usgs" / "USGS_1995_Library.mat"
    if not path.is_file():
        print(f"skipped: data absent ({path})")
        return
    one_thread()
    from deepunmix.engine.io.synthetic import usgs_library

    lib, _, _ = usgs_library(path)
    info = machine()
    rows = []
    for sweep, size, snr in jobs(args.snrs, args.sizes):
        for seed in args.seeds_list:
            for r in run_scene(lib, size, snr, seed, args):
                rows.append({"sweep": sweep, **r})
            payload = {"machine": info, "args": dict(vars(args)), "runs": rows}
            write(args.out, render(payload), payload)


if __name__ == "__main__":
    main()
