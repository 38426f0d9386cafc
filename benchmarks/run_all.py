"""`make bench`: the papers' tables side by side, measured in one process, into benchmarks/RESULTS.md.

`--quick` (`make bench-quick`) runs each script's quick mode and writes benchmarks/results/RESULTS_quick.md
and *_quick result files instead, so it never overwrites the full results.

Runs, in this process and in order: benchmarks/ddica_pnl.py (the paper's deep ICA, the default PNL model
and baselines on the PNL experiment; Table 1 reads its deep ICA rows), benchmarks/paper_tables.py (DDICA
Tables 1 and 2: FastICA, Infomax, MISEP, MINE, min-vol NMF, DDICA), benchmarks/buddip_synthetic.py (BUDDIP Figures 2 and 3 in kind:
aRMSE/aSAD against SNR and image size for SiVM + FCLS, UnDIP, BUDDIP), benchmarks/buddip_samson.py
(BUDDIP Table 1 in kind, on Samson), benchmarks/endmember_count.py (the endmember-count estimators on
synthetic scenes, Samson and Jasper Ridge), benchmarks/ddica_ablation.py (does DDICA's training decide its
result), benchmarks/buddip_paper.py and buddip_paper_curve.py (the BUDDIP paper's Jasper table and SNR sweep
with its paper variant; hours to days on a CPU at the paper's iteration counts), benchmarks/buddip_gain.py
(what BUDDIP's training adds), benchmarks/gpu_results.py (the tables of the CUDA runs that
benchmarks/gpu_session.py made on a lent GPU; it measures nothing itself). paper_tables.py writes RESULTS.md; the other results are then appended to it
from the files those scripts write. Every number comes from this run.
`--assemble-only` runs nothing and rebuilds RESULTS.md from the last result files (the wall-time table says so);
`--splice SCRIPT` only re-inserts a script's last results file into RESULTS.md.

    .venv/bin/python benchmarks/run_all.py [--quick] [--only SCRIPT ...]

`--only` re-runs the named scripts and reuses the other scripts' last result files; the wall-time table
says which were re-run and gives the date the reused files carry.
"""

from __future__ import annotations

import argparse
import runpy
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEPS = [  # script, the results name its section is read from (appended after paper_tables.py's part)
    ("ddica_pnl.py", "ddica_pnl"),  # before paper_tables.py: Table 1 reads its deep ICA rows
    ("paper_tables.py", None),
    ("buddip_synthetic.py", "buddip_synthetic"),
    ("buddip_samson.py", "buddip_samson"),
    ("endmember_count.py", "endmember_count"),
    ("ddica_ablation.py", "ddica_ablation"),
    ("buddip_paper.py", "buddip_paper"),  # slow on a CPU: the paper's BUDDIP at its iteration counts
    ("buddip_paper_curve.py", "buddip_paper_curve"),
    ("buddip_gain.py", "buddip_gain"),
    ("gpu_results.py", "gpu_session"),  # no GPU needed: tabulates the JSON of the runs on a lent GPU
]


def run_script(name: str, out: str, quick: bool) -> float:
    started = time.perf_counter()
    argv = sys.argv
    sys.argv = [str(HERE / name)] + (["--quick"] if quick else []) + (["--out", out] if out else [])
    try:
        runpy.run_path(str(HERE / name), run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise RuntimeError(f"{name} exited with {exc.code}") from exc
    finally:
        sys.argv = argv
    return time.perf_counter() - started


def paper_verdicts(path: Path = HERE / "results" / "paper_tables.json") -> list:
    """Plain statements of where DDICA is and is not ahead, computed from paper_tables.py's results."""
    import json
    from statistics import median

    data = json.loads(path.read_text())
    lines = []
    for table, key, better, label in (
        ("table1", "mean_abs_rho", max, "PNL mean |rho| (DDICA = DeepICA variant='paper')"),
        ("table2", "mean_rmse", min, "Samson mean RMSE, maps as output"),
        ("table2", "peak_mean_rmse", min, "Samson mean RMSE, reference's convention"),
    ):
        med = {
            m: median(r[key] for r in runs)
            for m, runs in data[table].items()
            if runs and key in runs[0] and (m == "DDICA" or not m.startswith("DDICA"))
        }
        if "DDICA" not in med:
            lines.append(f"- {label}: DDICA did not run")
            continue
        ahead = [m for m in med if m != "DDICA" and better(med[m], med["DDICA"]) == med["DDICA"]]
        behind = [f"{m} ({med[m]:.4f})" for m in med if m != "DDICA" and m not in ahead]
        text = f"- {label}: DDICA {med['DDICA']:.4f}; ahead of {', '.join(ahead) or 'none'}"
        lines.append(text + (f"; **behind {', '.join(behind)}**" if behind else "; best of all methods"))
    return lines


def append_verdicts(results: Path = HERE / "RESULTS.md", source: Path = HERE / "results" / "paper_tables.json") -> None:
    text = results.read_text()
    marker = f"\n\n## Where DDICA is and is not ahead (computed from this run's results/{source.name})\n\n"
    text = text.split(marker)[0] + marker + "\n".join(paper_verdicts(source)) + "\n"
    results.write_text(text)


def section(md: str, name: str, when: str) -> str:
    """One appended section of RESULTS.md: a results file, its headings moved one level down."""
    return f"\n\n<!-- from benchmarks/results/{md}, written by {name} {when} -->\n" + (
        HERE / "results" / md
    ).read_text().replace("\n# ", "\n## ", 1).replace("# ", "## ", 1)


def splice_sections(names, results: Path = HERE / "RESULTS.md") -> None:
    """Replace (or insert before the wall-time table) the sections of these scripts from their last result files."""
    text = results.read_text()
    for name, out in STEPS:
        if name not in names or not out:
            continue
        md = f"{out}.md"
        new = section(md, name, "in an earlier run (spliced in from its results file; date inside)")
        start = text.find(f"\n\n<!-- from benchmarks/results/{md},")
        if start >= 0:
            ends = [
                i for i in (text.find("\n\n<!-- from ", start + 1), text.find("\n\n## Wall time", start + 1)) if i >= 0
            ]
            text = text[:start] + new + text[min(ends) if ends else len(text) :]
        else:
            ends = [
                i
                for i in (text.find("\n\n## Wall time"), text.find("\n\n## Where DDICA is and is not ahead"))
                if i >= 0
            ]
            at = min(ends) if ends else -1
            text = text[:at] + new + text[at:] if at >= 0 else text + new
    results.write_text(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="each script's quick mode (under 10 minutes in all)")
    ap.add_argument(
        "--assemble-only",
        action="store_true",
        help="run nothing; rebuild RESULTS.md from the last result files of every script",
    )
    ap.add_argument(
        "--verdicts-only",
        action="store_true",
        help="only (re)write the DDICA verdict section from the last results/paper_tables.json",
    )
    ap.add_argument(
        "--only",
        nargs="+",
        metavar="SCRIPT",
        choices=[name for name, _ in STEPS],
        help="re-run only these scripts (paper_tables.py must be among them: it writes RESULTS.md)",
    )
    ap.add_argument(
        "--splice",
        nargs="+",
        metavar="SCRIPT",
        choices=[name for name, _ in STEPS],
        help="only put these scripts' last result files into RESULTS.md (nothing is run)",
    )
    args = ap.parse_args(argv)
    if args.splice:
        splice_sections(args.splice)
        return 0
    if args.only and "paper_tables.py" not in args.only:
        ap.error("--only needs paper_tables.py: it writes the first part of RESULTS.md")
    if args.verdicts_only:
        append_verdicts()
        return 0
    # quick runs never overwrite the full results: their files end in _quick
    suffix = "_quick" if args.quick else ""
    timings = []
    for name, out in STEPS:
        if args.assemble_only or (args.only and name not in args.only):
            timings.append((name, None))
            continue
        print(f"== {name}{' --quick' if args.quick else ''}", flush=True)
        timings.append((name, run_script(name, out and out + suffix, args.quick)))
    # paper_tables.py writes RESULTS.md (full) or results/paper_tables_quick.md (quick)
    results = HERE / "RESULTS.md" if not args.quick else HERE / "results" / "RESULTS_quick.md"
    first = HERE / "RESULTS.md" if not args.quick else HERE / "results" / "paper_tables_quick.md"
    parts = [first.read_text().split("\n\n<!-- from benchmarks/results/")[0]]  # drop sections of an earlier assembly
    for name, out in STEPS:
        if out:
            md = f"{out}{suffix}.md"
            if not (HERE / "results" / md).is_file():
                parts.append(f"\n\n<!-- {name}: no results/{md} yet (not run) -->\n")
                continue
            when = "in this run" if dict(timings)[name] is not None else "in an earlier run (not re-run)"
            parts.append(section(md, name, when))
    parts.append("\n\n## Wall time of each script in this run\n\n| script | seconds |\n|---|---|\n")
    parts += [
        f"| {name} | {sec:.0f} |\n"
        if sec is not None
        else f"| {name} | not re-run in this run; its section is from its last results file (date inside) |\n"
        for name, sec in timings
    ]
    results.write_text("".join(parts))
    append_verdicts(results, HERE / "results" / f"paper_tables{suffix}.json")
    print(f"wrote {results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
