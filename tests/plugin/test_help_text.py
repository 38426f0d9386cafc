"""Help one can read: a short plain side panel, the engine's variant tables on the Help page and in docs/."""

import re
import subprocess
import zipfile
from pathlib import Path

from qgis.core import QgsApplication

REPO = Path(__file__).resolve().parents[2]
MAX_SENTENCES = 6  # what the method does, in a few sentences


def _algorithms():
    provider = QgsApplication.processingRegistry().providerById("deepunmix")
    return [a for a in provider.algorithms() if a.group() != "DeepUnmix examples"]


def test_side_panels_are_short_plain_text(deepunmix):
    from deepunmix.algorithms.texts import text as help_text

    for alg in _algorithms():
        text = help_text(alg.name(), "help")
        assert 2 <= len(re.findall(r"[.!?](\s|$)", text)) <= MAX_SENTENCES, alg.id()
        assert not re.search(r"<[a-zA-Z/]", text), alg.id()  # qgis_process help prints it as it is


def test_qgis_process_help_has_no_raw_tags(deepunmix):
    proc = subprocess.run(
        [str(REPO / "scripts" / "qgis_process"), "help", "deepunmix:fcls"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Abundance maps from a hyperspectral raster" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "<b>" not in proc.stdout and "<br>" not in proc.stdout


def test_cited_files_ship_with_the_plugin(deepunmix, tmp_path):
    """A help text cites a file the ZIP holds, or says where it is (the project's home page)."""
    from plugin_helpers import build_zip

    names = {n.split("/", 1)[1] for n in zipfile.ZipFile(build_zip(tmp_path)).namelist()}
    for alg in _algorithms():
        for text in [alg.shortHelpString()] + [p.help() for p in alg.parameterDefinitions()]:
            for m in re.finditer(r"([\w./-]+\.md)\b( on the project's home page)?", text):
                assert m.group(2) or m.group(1) in names, (alg.id(), m.group(1))


def test_variant_settings_table_is_the_engines(deepunmix):
    """The Help page's settings table: one column per variant, one row per setting, values from the engine."""
    from deepunmix.algorithms.engine_parameters import settings_table, variant_table
    from deepunmix.algorithms.help_page import render
    from deepunmix.engine.ddica.unmixing import DDICA
    from deepunmix.engine.dip.undip import UnDIP

    table = variant_table(UnDIP)
    rows = settings_table(UnDIP)
    assert rows[0] == ["setting", *table]
    by_key = {row[0]: row[1:] for row in rows[1:]}
    assert by_key["n_iter"] == [str(s["n_iter"]) for s in table.values()]
    widths = {row[0]: row[1:] for row in settings_table(DDICA)[1:]}["hidden_units"]
    for cell, settings in zip(widths, variant_table(DDICA).values()):  # (128, 128) as "128 × 2"
        units = settings["hidden_units"]
        assert cell == (f"{units[0]} × {len(units)}" if len(set(units)) == 1 else " / ".join(map(str, units)))

    page = render(QgsApplication.processingRegistry().algorithmById("deepunmix:undip"))
    assert "<h2>Variant settings</h2>" in page and f"<td>{table['paper']['channels']}</td>" in page


def test_docs_are_current(deepunmix):
    import importlib.util

    from deepunmix.algorithms.help_page import markdown, settings_tables

    spec = importlib.util.spec_from_file_location("build_docs", REPO / "scripts" / "build_docs.py")
    build_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_docs)
    provider = QgsApplication.processingRegistry().providerById("deepunmix")
    expected = markdown(build_docs.algorithms(provider))
    assert (REPO / "docs" / "algorithms.md").read_text(encoding="utf-8") == expected, (
        "docs/algorithms.md is stale: QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/build_docs.py"
    )
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    tables = settings_tables(build_docs.algorithms(provider))
    assert build_docs.readme_with_tables(readme, tables) == readme, "README's settings tables are stale: build_docs.py"
