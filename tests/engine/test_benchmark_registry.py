"""The benchmark harness: every study x case is registered, its registered arguments parse, RESULTS.md assembles.

Nothing here runs a benchmark: the argument check stops each case right after its argument parser.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def harness():
    """benchmarks/_registry.py and benchmarks/run_all.py, imported as run_all.py imports them."""
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("_registry"), importlib.import_module("run_all")
    finally:
        sys.path.remove(str(BENCH))


def _studies():
    return {p.name: importlib.import_module(p.stem) for p in BENCH.glob("*.py") if not p.name.startswith("_")}


def test_every_study_and_case_is_registered_once(harness):
    registry, _ = harness
    keys = [b.key for b in registry.BENCHMARKS]
    assert len(keys) == len(set(keys))
    studies = {name: mod for name, mod in _studies().items() if name not in registry.HELPERS}
    declared = {f"{name[:-3]}:{case}" for name, mod in studies.items() for case in mod.CASES}
    assert declared == set(keys) | set(registry.NOT_RUN), "register new studies and cases in benchmarks/_registry.py"
    results = [b.results for b in registry.BENCHMARKS if b.results]
    assert len(results) == len(set(results))
    for b in registry.BENCHMARKS:
        assert studies[b.study].CASES[b.case].results == (b.results or "paper_tables"), b.key
        assert b.cost
        assert b.quick is not None or b.full_only, f"{b.script}: no quick mode and no reason"
        if b.results and not b.renders_only:
            assert b.results_name(quick=True) != b.results_name(quick=False)


def _committed_results():
    """results/ as committed: git's list in a checkout, else the files on disk without the git-ignored quick runs
    (a copy without git, as in scripts/chroot.sh)."""
    try:
        tracked = subprocess.run(
            ["git", "ls-files", "results"], cwd=BENCH, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        tracked = []
    on_disk = (p.relative_to(BENCH) for p in (BENCH / "results").rglob("*") if p.is_file())
    return tracked or [str(p) for p in on_disk if p.parts[1] != "quick"]


def test_every_committed_page_is_written_by_a_registered_case(harness):
    registry, _ = harness
    tracked = _committed_results()
    written = {b.results or "paper_tables" for b in registry.BENCHMARKS}
    gpu_runs = {p for p in tracked if p.startswith("results/gpu_session_h100_run")}  # gpu.py --case tables reads them
    figures = {p for p in tracked if p.startswith("results/paper_tables/")}  # paper_tables.py's figures
    pages = {Path(p).stem for p in set(tracked) - gpu_runs - figures}
    assert not any(p.startswith("results/quick/") for p in tracked), "quick runs are not committed"
    assert pages == written, (
        f"pages no case writes: {sorted(pages - written)}; cases without a page: {sorted(written - pages)}"
    )
    assert "gpu:session" in registry.NOT_RUN and gpu_runs


# Runs each case as __main__ with one argument list, stops it as its parser returns; prints what happened.
_PARSE_ONLY = r"""
import argparse, contextlib, io, json, runpy, sys
bench, cases = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, bench)
class Parsed(Exception):
    pass
parse = argparse.ArgumentParser.parse_args
def parse_only(self, args=None, namespace=None):
    parse(self, args, namespace)
    raise Parsed
argparse.ArgumentParser.parse_args = parse_only
seen = []
for script, argv in cases:
    sys.argv, out = [script, *argv], io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            runpy.run_path(f"{bench}/{script}", run_name="__main__")
        what = "ran past its parser"
    except Parsed:
        what = "parsed"
    except SystemExit as exc:
        what = f"exit {exc.code}" + (" usage" if "usage:" in out.getvalue() else "")
    seen.append([script, argv, what])
print(json.dumps(seen))
"""


def test_registered_arguments_parse_and_help_works(harness):
    registry, _ = harness
    cases = []
    for b in registry.BENCHMARKS:
        case = ["--case", b.case]
        cases += [[b.study, [*case, "--help"]], [b.study, [*case, *b.full]]]
        if b.quick is not None:
            cases.append([b.study, [*case, *b.quick]])
    cases.append(["buddip.py", ["--help"]])  # a study's help without a case lists its cases
    proc = subprocess.run(
        [sys.executable, "-c", _PARSE_ONLY, str(BENCH), json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(seen) == len(cases)
    for script, argv, what in seen:
        assert what == ("exit 0 usage" if argv[-1] == "--help" else "parsed"), (script, argv, what)


def _sections(text: str):
    return re.findall(r"^<!-- from benchmarks/results/(\S+), written by (.+?) in ", text, re.M), re.findall(
        r"^#+ .*$", text, re.M
    )


def test_assemble_only_reproduces_the_committed_results_md(harness, tmp_path):
    registry, run_all = harness
    bench = tmp_path / "benchmarks"
    shutil.copytree(BENCH / "results", bench / "results")
    shutil.copy(BENCH / "RESULTS.md", bench / "RESULTS.md")
    assert run_all.main(["--assemble-only"], bench=bench) == 0
    files, headings = _sections((bench / "RESULTS.md").read_text())
    committed = _sections((BENCH / "RESULTS.md").read_text())
    assert (files, headings) == committed, "RESULTS.md is not assembled: run benchmarks/run_all.py --assemble-only"
    expected = [(f"{b.results}.md", b.script) for b in registry.BENCHMARKS if b.results and b.section]
    assert files == [f for f in expected if (BENCH / "results" / f[0]).is_file()]
    assert "## Wall time of each script in this run" in headings
    # splicing one section back in keeps the list
    assert run_all.main(["--splice", "buddip:samson"], bench=bench) == 0
    assert _sections((bench / "RESULTS.md").read_text()) == committed


_OVERWRITES = """import sys  # a fake study: its one case writes results/fake.md (quick/fake.md with --quick)
from pathlib import Path
name = "quick/fake" if "--quick" in sys.argv and "--bad" not in sys.argv else "fake"
Path(__file__).parent.joinpath("results", name + ".md").write_text("# new\\n")
"""


def test_quick_run_never_leaves_full_results_overwritten(harness, tmp_path, monkeypatch):
    registry, run_all = harness
    (tmp_path / "results" / "quick").mkdir(parents=True)
    (tmp_path / "fake.py").write_text(_OVERWRITES)
    full = tmp_path / "results" / "fake.md"
    full.write_text("# full\n")
    good = registry.Benchmark("fake.py", "one", "fake", False, "seconds")
    assert run_all.run_script(good, True, tmp_path)["status"] == "ran"
    assert (tmp_path / "results" / "quick" / "fake.md").read_text() == "# new\n"
    bad = registry.Benchmark("fake.py", "one", "fake", False, "seconds", quick=("--quick", "--bad"))
    rec = run_all.run_script(bad, True, tmp_path)
    assert rec["status"].startswith("failed: its quick mode wrote fake.md")
    assert full.read_text() == "# full\n"
    full.unlink()
    assert run_all.run_script(bad, True, tmp_path)["status"].startswith("failed: its quick mode wrote fake.md")
    assert not full.exists()
    full.write_text("# full\n")
    monkeypatch.setenv("DEEPUNMIX_SHARED_DATA", str(tmp_path / "absent"))
    needs = registry.Benchmark("fake.py", "one", "fake", True, "seconds")
    assert run_all.run_script(needs, False, tmp_path)["status"].startswith("skipped:")
    assert full.read_text() == "# full\n"


def test_every_case_declares_what_it_measures_and_list_prints_it(harness):
    registry, run_all = harness
    for b in registry.BENCHMARKS:
        rows = run_all.study_case(b).rows  # imported without running: each study's work is under __main__
        groups = rows.values() if isinstance(rows, dict) else [rows]
        assert rows and all(len(g) for g in groups), f"{b.script}: nothing declared in Case.rows"
        if b.results and not b.renders_only:
            assert b.results_name(quick=True) == f"quick/{b.results}"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--list"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    listed = [line.split(": ")[0] for line in proc.stdout.splitlines() if not line.startswith(" ")]
    assert listed == [b.script for b in registry.BENCHMARKS]
    assert proc.stdout.count("\n  cases: ") >= len(registry.BENCHMARKS)
    assert "cases: paper; paper_untrained; pnl;" in proc.stdout  # ddica_pnl's CASES, in its table's row order
