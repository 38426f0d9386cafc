"""The pip package (pyproject.toml) holds every runtime package and the data files the plugin reads."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNTIME = ("algorithms", "engine", "gui")

tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")


def _setuptools():
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_runtime_folder_is_a_listed_package():
    on_disk = {
        "deepunmix." + ".".join(init.parent.relative_to(REPO).parts)
        for folder in RUNTIME
        for init in (REPO / folder).rglob("__init__.py")
    }
    assert set(_setuptools()["packages"]) == {"deepunmix", *on_disk}


def test_package_data_names_existing_files_and_every_non_python_runtime_file():
    patterns = _setuptools()["package-data"]["deepunmix"]
    for pattern in patterns:
        assert list(REPO.glob(pattern)), pattern
    data = {p for folder in RUNTIME for p in (REPO / folder).rglob("*") if p.is_file()}
    data = {p for p in data if p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts}
    covered = {p for pattern in patterns for p in REPO.glob(pattern)}
    assert data <= covered, sorted(str(p.relative_to(REPO)) for p in data - covered)
