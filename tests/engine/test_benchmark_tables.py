"""benchmarks/_tables.py: the one Markdown table renderer and results writer, and the rule that every page uses them.

Also re-renders every committed results page from its committed JSON with its case's own ``render``: the page
must come out byte for byte (the cases render from the payload they save, so a page can always be rebuilt).
"""

from __future__ import annotations

import ast
import importlib
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
RESULTS = BENCH / "results"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(str(BENCH))


def test_table_renders_header_separator_and_rows(bench):
    tables = bench("_tables")
    text = tables.table(("method", "aRMSE", "n"), [("A", 0.123456, 3), ("B", "-", 10)], (None, ".4f", None))
    assert text == "| method | aRMSE | n |\n|---|---|---|\n| A | 0.1235 | 3 |\n| B | - | 10 |"
    assert (
        tables.table(
            ("x",),
            [],
        )
        == "| x |\n|---|"
    )
    assert tables.table(("a", "b"), [(1.0, 2)], (lambda v: f"{v:.0f}×", None)) == "| a | b |\n|---|---|\n| 1× | 2 |"
    assert tables.table(("a", "b"), [("", "")]).endswith("\n|  |  |")  # an empty cell keeps its two spaces


def test_table_alignment_and_escaping(bench):
    tables = bench("_tables")
    assert tables.table(("a", "b", "c", "d"), [], align="lrc").splitlines()[1] == "|:---|---:|:---:|---|"
    assert tables.table(("a|b",), [("x | y",), ("two\nlines",)]) == "| a\\|b |\n|---|\n| x \\| y |\n| two lines |"
    with pytest.raises(ValueError):
        tables.table(("a", "b"), [(1,)])
    with pytest.raises(ValueError):
        tables.table(("a",), [(1,)], align="lr")
    with pytest.raises(ValueError):
        tables.table(("a",), [(1,)], formats=(None, None))


def test_write_adds_the_machine_record_only_where_missing(bench, tmp_path):
    tables = bench("_tables")
    md = tables.write(tables.results_name("demo", True), "# demo\n", {"runs": [1.5]}, folder=tmp_path, with_torch=False)
    assert md == tmp_path / "quick" / "demo.md" and md.read_text() == "# demo\n"
    saved = json.loads(md.with_suffix(".json").read_text())
    assert saved["runs"] == [1.5] and saved["machine"]["logical_cpus"] and "load_average_at_start" in saved["machine"]
    tables.write("old", "# old\n", {"meta": {"host": "vm"}, "runs": []}, folder=tmp_path)
    assert "machine" not in json.loads((tmp_path / "old.json").read_text())
    tables.write("page", "# page\n", None, folder=tmp_path)  # a page rendered from other files: no JSON of its own
    assert (tmp_path / "page.md").is_file() and not (tmp_path / "page.json").exists()
    assert tables.results_name("demo", False) == "demo"


def _string_literals(source: str):
    """(line, text) of every string literal, f-strings with their fields as "{}" (read from the syntax tree, so
    the scan does not depend on how a Python version tokenizes f-strings)."""
    tree = ast.parse(source)
    inside = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    inside |= {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}  # docstrings: prose
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            yield node.lineno, text
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in inside:
            yield node.lineno, node.value


def hand_built_rows(source: str):
    """String literals that start a Markdown table line or join its cells: tables built without _tables.table."""
    found = []
    for line, body in _string_literals(source):
        if body.startswith(("| ", "|-", "|:")) or body in (" | ", "|", " |") or "\n|" in body or "|---" in body:
            found.append((line, body[:60]))
    return found


def test_the_scan_finds_hand_built_tables():
    assert hand_built_rows('lines.append("| a | b |")\n')
    assert hand_built_rows('row = " | ".join(cells)\n')
    assert hand_built_rows('sep = "|---" * n + "|"\n')
    assert hand_built_rows('x = f"| {a} | {b} |"\n')
    assert not hand_built_rows('text = "mean |rho| of the outputs"\n')
    assert not hand_built_rows('ax.set_ylabel("|rho|")\n')
    assert hand_built_rows('x = f"{a}\\n| {b} |"\n')  # a table line after a newline, inside an f-string


@pytest.mark.parametrize("path", sorted(p.name for p in BENCH.glob("*.py") if p.name != "_tables.py"))
def test_no_benchmark_builds_a_table_by_hand(path):
    found = hand_built_rows((BENCH / path).read_text())
    assert not found, f"{path} builds Markdown table lines by hand (use _tables.table): {found}"


# results pages whose committed JSON cannot re-render them byte for byte, and why
STALE = {"ddica_samson_keep_fraction": "saved before its meta carried n_restarts"}


def _pages():
    """results name -> (study module name, case name) of every registered case that renders a page from its JSON."""
    sys.path.insert(0, str(BENCH))
    try:
        registry = importlib.import_module("_registry")
        pages = {}
        for b in registry.BENCHMARKS:
            case = importlib.import_module(Path(b.study).stem).CASES[b.case]
            if case.render is not None:
                pages[case.results] = (Path(b.study).stem, b.case)
        return pages
    finally:
        sys.path.remove(str(BENCH))


PAGES = _pages()


def test_every_results_page_has_a_renderer():
    pages = {str(p.relative_to(RESULTS).with_suffix("")) for p in RESULTS.glob("*.md")}
    pages -= {"gpu_session"}  # gpu_session: from the run files, checked below
    assert pages <= set(PAGES), (
        f"results pages without a registered case that renders them: {sorted(pages - set(PAGES))}"
    )


@pytest.mark.parametrize("name", sorted(n for n in PAGES if n not in STALE and (RESULTS / f"{n}.json").is_file()))
def test_committed_page_rerenders_from_its_json(bench, name):
    study, case = PAGES[name]
    payload = json.loads((RESULTS / f"{name}.json").read_text())
    assert bench(study).CASES[case].render(payload) == (RESULTS / f"{name}.md").read_text()


def test_results_md_head_and_gpu_page_rerender(bench):
    gpu = bench("gpu")
    assert (BENCH / "RESULTS.md").read_text().startswith((RESULTS / "paper_tables.md").read_text())
    assert gpu.tables_render(gpu.load_runs()) == (RESULTS / "gpu_session.md").read_text()


def test_ddica_variant_doc_rerenders_from_the_ablation_json(bench, tmp_path):
    """docs/ddica_variants.md (every paper/default difference, its measured effect) is written from the results."""
    ablation = bench("ddica")
    payload = json.loads((RESULTS / "ddica_ablation.json").read_text())
    out = tmp_path / "ddica_variants.md"
    ablation.write_variant_doc(payload["results"], payload["meta"], path=out)
    assert out.read_text() == (BENCH.parent / "docs" / "ddica_variants.md").read_text()
