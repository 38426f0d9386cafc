"""Help one can read: a short plain side panel, the details on the Help page and in docs/, no copy-paste slips."""

import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from qgis.core import QgsApplication

REPO = Path(__file__).resolve().parents[2]
MAX_WORDS = 150  # a side panel read in under a minute


def _algorithms():
    provider = QgsApplication.processingRegistry().providerById("deepunmix")
    return [a for a in provider.algorithms() if a.group() != "DeepUnmix examples"]


def test_side_panels_are_short_plain_text(deepunmix):
    for alg in _algorithms():
        text = alg.shortHelpString()
        assert len(text.split()) <= MAX_WORDS, (alg.id(), len(text.split()))
        assert not re.search(r"<[a-zA-Z/]", text), alg.id()  # qgis_process help prints it as it is
        assert alg.details(), alg.id()  # the rest is on the Help page


def test_qgis_process_help_has_no_raw_tags(deepunmix):
    proc = subprocess.run(
        [str(REPO / "scripts" / "qgis_process"), "help", "deepunmix:fcls"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Abundance maps from a hyperspectral raster" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "<b>" not in proc.stdout and "<br>" not in proc.stdout


def test_memory_budget_text_fits_each_algorithm(deepunmix):
    """The budget once mentioned BUDDIP tiles in Import, Evaluate and FCLS."""
    for alg in _algorithms():
        definition = alg.parameterDefinition("MEMORY_MB")
        if definition is None:
            continue
        tiles = "tiles" in definition.help()
        assert tiles == (alg.name() in ("buddip", "undip")), (alg.id(), definition.help())
        assert "BUDDIP" not in definition.help() and "UnDIP" not in definition.help(), alg.id()


def test_the_seed_is_explained_once(deepunmix):
    """In its tooltip (the Help page's table shows it), not again in the help texts."""
    for alg in _algorithms():
        if alg.parameterDefinition("SEED") is None:
            continue
        prose = alg.shortHelpString() + alg.details()
        assert "same seed" not in prose.lower(), alg.id()
        assert "same seed" in alg.parameterDefinition("SEED").help().lower(), alg.id()


def test_cited_files_ship_with_the_plugin(deepunmix, tmp_path):
    """A help text cites a file the ZIP holds, or says where it is (the project's home page)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("package", REPO / "scripts" / "package.py")
    package = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(package)
    names = {n.split("/", 1)[1] for n in zipfile.ZipFile(package.build(tmp_path)).namelist()}
    for alg in _algorithms():
        texts = [alg.shortHelpString(), alg.details()] + [p.help() for p in alg.parameterDefinitions()]
        for text in texts:
            for m in re.finditer(r"([\w./-]+\.md)\b( on the project's home page)?", text):
                assert m.group(2) or m.group(1) in names, (alg.id(), m.group(1))


def test_labels_read_like_a_user_interface(deepunmix):
    """No lab notes in labels and tooltips (dates, asides on how much training matters)."""
    for alg in _algorithms():
        for p in alg.parameterDefinitions():
            for text in (p.description(), p.help()):
                assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), (alg.id(), p.name(), text)
            assert "barely" not in p.description() and "(the authors' code)" not in p.description(), p.name()
            assert "same threads" not in p.description() and "always honoured" not in p.description(), p.name()


def test_help_page_and_docs_hold_the_details(deepunmix):
    from deepunmix.algorithms.help_page import markdown, render

    for alg in _algorithms():
        page = render(alg)
        assert "<h2>Details</h2>" in page and alg.details().split("\n")[0][:60] in page, alg.id()
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_docs", REPO / "scripts" / "build_docs.py")
    build_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_docs)
    provider = QgsApplication.processingRegistry().providerById("deepunmix")
    expected = markdown(build_docs.algorithms(provider))
    assert (REPO / "docs" / "algorithms.md").read_text(encoding="utf-8") == expected, (
        "docs/algorithms.md is stale: QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/build_docs.py"
    )


@pytest.mark.parametrize("name", ["ddica", "buddip", "fcls"])
def test_defaults_come_first(deepunmix, name):
    """The side panel tells what to leave as it is before any variant or option."""
    text = QgsApplication.processingRegistry().algorithmById(f"deepunmix:{name}").shortHelpString()
    first_setting = text.index("Set the")
    assert "paper" not in text[:first_setting].lower(), name
