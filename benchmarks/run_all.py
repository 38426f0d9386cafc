"""`make bench` / `make bench-quick`: every benchmark of benchmarks/_registry.py, in its order, then RESULTS.md.

Runs each registered case in a child process (`python benchmarks/<study> --case <case> <its full or quick
arguments>`),
skipping, with a line, the ones that need ../shared/data when it is absent ($DEEPUNMIX_SHARED_DATA overrides).
Records each script's wall time and the load before and after it, with the machine record
(benchmarks/_machine.machine(): CPU, memory, software, load) and the torch device, in
benchmarks/results/run_manifest.json. paper_tables.py writes results/paper_tables.md, the head of RESULTS.md (the
DDICA paper's Tables 1 and 2; ddica.py --case pnl runs before it: Table 1 reads its deep ICA rows); then every registered script's
results/<name>.md is appended to it as a section, in registry order, followed by the wall-time table and the
DDICA verdicts computed from results/paper_tables.json. Every number comes from the scripts' own results files.

`--quick` (`make bench-quick`) runs each script's quick mode: its files go to results/quick/ (results/quick/RESULTS.md,
results/quick/run_manifest.json, results/quick/<name>.*; not committed), and a quick run that changed a full results file is
undone and reported as failed, so it never overwrites the full results.
`--only STUDY:CASE ...` re-runs the named cases (side cases run only so) and reuses the other scripts' last result files (the wall-time
table says which were re-run; their sections carry their own dates).
`--assemble-only` runs nothing and rebuilds RESULTS.md from the last result files (the wall-time table says so);
`--splice STUDY:CASE` only re-inserts a script's last results file into RESULTS.md;
`--verdicts-only` only rewrites the DDICA verdicts;
`--list` prints every registered case with its arguments and what it measures (its ``Case.rows``).

    .venv/bin/python benchmarks/run_all.py [--quick] [--only STUDY:CASE ...] [--list]
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional

from _harness import shared_data
from _machine import load_average, machine
from _registry import BENCHMARKS, Benchmark
from _tables import results_name, table

HERE = Path(__file__).resolve().parent
SECTION = "\n\n<!-- from benchmarks/results/"
WALL = "\n\n## Wall time of each script in this run"
VERDICTS = "\n\n## Where DDICA is and is not ahead"
NOT_RERUN = "not re-run"


def torch_device() -> Dict[str, object]:
    """The accelerator torch sees here (the registered arguments run every benchmark on the CPU)."""
    try:
        import torch
    except ImportError:
        return {"torch": None, "cuda": None}
    cuda = torch.cuda.is_available()
    return {"torch": torch.__version__, "cuda": torch.cuda.get_device_name(0) if cuda else None}


def _guarded(b: Benchmark, bench: Path) -> List[Path]:
    """The full run's files a quick run of this script must leave as they are."""
    if b.renders_only:
        return []
    if b.results is None:  # paper_tables.py: RESULTS.md's head
        return [bench / "results" / f"paper_tables{ext}" for ext in (".md", ".json")]
    return [bench / "results" / f"{b.results}{ext}" for ext in (".md", ".json")]


def run_script(b: Benchmark, quick: bool, bench: Path = HERE) -> Dict[str, object]:
    """Run one registered script in a child process; its record for the run manifest."""
    rec: Dict[str, object] = {"script": b.script, "results": b.results_name(quick)}
    args = b.args(quick)
    if args is None:
        rec["status"] = f"skipped: no quick mode ({b.full_only})"
    elif b.needs_data and not shared_data().is_dir():
        rec["status"] = f"skipped: {shared_data()} absent"
    if "status" in rec:
        print(f"== {b.script}: {rec['status']}", flush=True)
        return rec
    print("== " + " ".join((b.script, *args)), flush=True)
    kept = {p: p.read_bytes() if p.is_file() else None for p in (_guarded(b, bench) if quick else [])}
    rec.update(args=list(args), load_before=load_average())
    started = time.perf_counter()
    rc = subprocess.call([sys.executable, str(bench / b.study), "--case", b.case, *args], cwd=bench.parent)
    rec.update(seconds=round(time.perf_counter() - started, 1), returncode=rc, load_after=load_average())
    rec["status"] = "ran" if rc == 0 else f"failed (exit {rc})"
    changed = [p for p, data in kept.items() if (p.read_bytes() if p.is_file() else None) != data]
    for p in changed:
        if kept[p] is None:
            p.unlink()
        else:
            p.write_bytes(kept[p])
    if changed:
        rec["status"] = "failed: its quick mode wrote " + ", ".join(p.name for p in changed) + " (undone)"
    if rec["status"] != "ran":
        print(f"!! {b.script}: {rec['status']}", flush=True)
    return rec


def study_case(b: Benchmark):
    """A registered case, from its study imported as a module without running it (the work is under ``__main__``)."""
    return importlib.import_module(Path(b.study).stem).CASES[b.case]


def _case(case) -> str:
    if isinstance(case, (tuple, list)) and case and isinstance(case[0], str):
        if any(isinstance(x, dict) or x is None for x in case[1:]):  # (name, settings, ...): the name says it
            return case[0]
    if isinstance(case, (tuple, list)):
        return "(" + ", ".join(str(x) for x in case) + ")"
    return str(case)


def _cases(cases) -> List[str]:
    if isinstance(cases, dict):
        return [
            f"{key}: " + (value if isinstance(value, str) else "; ".join(_case(c) for c in value))
            for key, value in cases.items()
        ]
    return ["; ".join(_case(c) for c in cases)]


def listing() -> List[str]:
    """Every registered benchmark: its results, data need, cost, full and quick arguments and declared cases."""
    lines = []
    for b in BENCHMARKS:
        rows = study_case(b).rows
        quick = "none (" + b.full_only + ")" if b.quick is None else " ".join(b.quick) or "(no arguments)"
        lines += [
            f"{b.script}: results/{b.results}.md"
            if b.results
            else f"{b.script}: results/paper_tables.md (the head of RESULTS.md)",
            f"  needs ../shared/data: {'yes' if b.needs_data else 'no'}; cost: {b.cost}",
            f"  full arguments: {' '.join(b.full) or '(none)'}; quick arguments: {quick}",
            *(f"  cases: {text}" for text in _cases(rows)),
        ]
    return lines


def paper_verdicts(path: Path = HERE / "results" / "paper_tables.json") -> list:
    """Plain statements of where DDICA is and is not ahead, computed from paper_tables.py's results."""
    from statistics import median

    if not path.is_file():
        return [f"- no results/{path.name} (paper_tables.py --case tables has not run): no verdicts"]
    data = json.loads(path.read_text())
    lines = []
    for tab, key, better, label in (
        ("table1", "mean_abs_rho", max, "PNL mean |rho| (DDICA = DeepICA variant='paper')"),
        ("table2", "mean_rmse", min, "Samson mean RMSE, each method's output (DDICA default: FCLS abundances)"),
        ("table2", "peak_mean_rmse", min, "Samson mean RMSE, reference's convention"),
    ):
        med = {
            m: median(r[key] for r in runs)
            for m, runs in data[tab].items()
            if runs and key in runs[0] and (m == "DDICA" or not m.startswith("DDICA"))
        }
        if "DDICA" not in med:
            lines.append(f"- {label}: DDICA did not run")
            continue
        ahead = [m for m in med if m != "DDICA" and better(med[m], med["DDICA"]) == med["DDICA"]]
        behind = [f"{m} ({med[m]:.4f})" for m in med if m != "DDICA" and m not in ahead]
        text = f"- {label}: DDICA {med['DDICA']:.4f}; ahead of {', '.join(ahead) or 'none'}"
        if tab == "table2":  # not an unseen scene for DDICA: its default was chosen on Samson's ground truth
            text += "; the DDICA default's settings were chosen on this scene, the others run at their defaults"
        lines.append(text + (f"; **behind {', '.join(behind)}**" if behind else ""))
    return lines


def append_verdicts(results: Path = HERE / "RESULTS.md", source: Path = HERE / "results" / "paper_tables.json") -> None:
    text = results.read_text()
    marker = f"{VERDICTS} (computed from this run's results/{source.name})\n\n"
    text = text.split(marker)[0] + marker + "\n".join(paper_verdicts(source)) + "\n"
    results.write_text(text)


def section(md: str, name: str, when: str, bench: Path = HERE) -> str:
    """One appended section of RESULTS.md: a results file, its headings moved one level down."""
    return f"{SECTION}{md}, written by {name} {when} -->\n" + (bench / "results" / md).read_text().replace(
        "\n# ", "\n## ", 1
    ).replace("# ", "## ", 1)


def splice_sections(names, results: Path = HERE / "RESULTS.md", bench: Path = HERE) -> None:
    """Replace (or insert before the wall-time table) the sections of these scripts from their last result files."""
    text = results.read_text()
    for b in BENCHMARKS:
        if b.key not in names or not b.results or not b.section:
            continue
        md = f"{b.results}.md"
        new = section(md, b.script, "in an earlier run (spliced in from its results file; date inside)", bench)
        start = text.find(f"{SECTION}{md},")
        if start >= 0:
            ends = [i for i in (text.find("\n\n<!-- ", start + 1), text.find(WALL, start + 1)) if i >= 0]
            text = text[:start] + new + text[min(ends) if ends else len(text) :]
        else:
            ends = [i for i in (text.find(WALL), text.find(VERDICTS)) if i >= 0]
            at = min(ends) if ends else -1
            text = text[:at] + new + text[at:] if at >= 0 else text + new
    results.write_text(text)


def head(text: str) -> str:
    """RESULTS.md's first part (paper_tables.py's), without the sections of an earlier assembly."""
    ends = [text.find(mark) for mark in (SECTION, WALL, VERDICTS)]
    placeholder = re.search(r"\n\n<!-- [\w.]+\.py: no results/", text)
    ends = [i for i in ends + [placeholder.start() if placeholder else -1] if i >= 0]
    return text[: min(ends)] if ends else text


def _when(status: str) -> str:
    if status == "ran":
        return "in this run"
    if status == NOT_RERUN:
        return "in an earlier run (not re-run)"
    return f"in an earlier run ({status} in this run; date inside)"


def assemble(runs: List[Dict[str, object]], quick: bool, bench: Path = HERE, manifest: Optional[Path] = None) -> Path:
    """Write RESULTS.md (results/quick/RESULTS.md): paper_tables.py's part, every registered section, wall time, verdicts."""
    results = bench / "results" / f"{results_name('RESULTS', quick)}.md" if quick else bench / "RESULTS.md"
    first = bench / "results" / f"{results_name('paper_tables', quick)}.md"
    first = first if first.is_file() or quick else results  # results written before paper_tables.md existed
    status = {r["script"]: r for r in runs}
    parts = [head(first.read_text()) if first.is_file() else f"<!-- {first.name}: paper_tables.py not run -->"]
    for b in BENCHMARKS:
        if not b.results or not b.section:
            continue
        md = f"{b.results_name(quick)}.md"
        if not (bench / "results" / md).is_file():
            parts.append(f"\n\n<!-- {b.script}: no results/{md} yet (not run) -->\n")
            continue
        parts.append(section(md, b.script, _when(str(status[b.script]["status"])), bench))
    wall = []
    for b in BENCHMARKS:
        rec = status[b.script]
        if not b.section and rec["status"] == NOT_RERUN:
            continue
        if rec["status"] == "ran":
            wall.append((b.script, f"{rec['seconds']:.0f}"))
        elif rec["status"] == NOT_RERUN:
            wall.append((b.script, "not re-run in this run; its section is from its last results file (date inside)"))
        else:
            wall.append((b.script, rec["status"]))
    parts.append(f"{WALL}\n\n" + table(("script", "seconds"), wall) + "\n")
    if manifest is not None:
        parts.append(f"\nMachine, load before and after each script, torch device: `results/{manifest.name}`.\n")
    results.write_text("".join(parts))
    append_verdicts(results, bench / "results" / f"{results_name('paper_tables', quick)}.json")
    return results


def main(argv=None, bench: Path = HERE) -> int:
    keys = [b.key for b in BENCHMARKS]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="each script's quick mode; files in results/quick/")
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
        "--list", action="store_true", help="list every benchmark, its arguments and its cases; run nothing"
    )
    ap.add_argument("--only", nargs="+", metavar="STUDY:CASE", choices=keys, help="re-run only these scripts")
    ap.add_argument(
        "--splice",
        nargs="+",
        metavar="STUDY:CASE",
        choices=keys,
        help="only put these scripts' last result files into RESULTS.md (nothing is run)",
    )
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(listing()))
        return 0
    if args.splice:
        splice_sections(args.splice, bench / "RESULTS.md", bench)
        return 0
    if args.verdicts_only:
        append_verdicts(bench / "RESULTS.md", bench / "results" / "paper_tables.json")
        return 0
    runs = [{"script": b.script, "results": b.results_name(args.quick), "status": NOT_RERUN} for b in BENCHMARKS]
    manifest = None
    if not args.assemble_only:
        record = {
            "mode": "quick" if args.quick else "full",
            "started_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "machine": machine(),
            "torch_device": torch_device(),
            "shared_data": str(shared_data()),
            "shared_data_present": shared_data().is_dir(),
        }
        runs = [
            run_script(b, args.quick, bench) if (b.key in args.only if args.only else b.section) else run
            for b, run in zip(BENCHMARKS, runs)
        ]
        record.update(
            finished_utc=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            load_average_at_end=load_average(),
            scripts=runs,
        )
        manifest = bench / "results" / f"{results_name('run_manifest', args.quick)}.json"
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps(record, indent=1) + "\n")
    results = assemble(runs, args.quick, bench, manifest)
    print(f"wrote {results}" + (f" and {manifest}" if manifest else ""))
    failed = [r["script"] for r in runs if str(r["status"]).startswith("failed")]
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
