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


# ---- bad files the rows below prepare in the scene folder
def _raw_raster(path, cube, dtype="float32", driver="GTiff", envi_tags=None):
    """Write ``cube`` exactly as given (no nodata spreading), optionally as ENVI with header tags."""
    import rasterio

    with rasterio.open(path, "w", driver=driver, width=cube.shape[2], height=cube.shape[1], count=cube.shape[0],
                       dtype=dtype) as ds:
        ds.write(cube.astype(dtype))
        if envi_tags:
            ds.update_tags(ns="ENVI", **envi_tags)


def _nan_band(s):
    cube = s["scene"].cube.copy()
    cube[4] = np.nan
    _raw_raster(s["dir"] / "nanband.tif", cube)


def _complex(s):
    _raw_raster(s["dir"] / "complex.tif", s["scene"].cube * (1 + 1j), dtype="complex64")


def _one_pixel(s):
    cube = np.full_like(s["scene"].cube, np.nan)
    cube[:, 3, 3] = s["scene"].cube[:, 3, 3]
    _raw_raster(s["dir"] / "onepixel.tif", cube)


def _short_bbl(s):
    _raw_raster(s["dir"] / "shortbbl.img", s["scene"].cube, driver="ENVI", envi_tags={"bbl": "{1, 1, 0}"})


def _csv_scale(value):
    def prepare(s):
        from engine.io.endmember_csv import read_endmembers_csv, write_endmembers_csv

        t = read_endmembers_csv(s["endmembers"])
        write_endmembers_csv(s["dir"] / "scaled.csv", t.matrix, t.names, t.wavelengths,
                             comment=f"units: input x 1; scale={value}; made up")
    return prepare


def _csv_bands(bands, wavelengths=False, name="bands.csv"):
    def prepare(s):
        from engine.io.endmember_csv import read_endmembers_csv, write_endmembers_csv

        t = read_endmembers_csv(s["endmembers"])
        write_endmembers_csv(s["dir"] / name, t.matrix[: len(bands)], t.names,
                             t.wavelengths[: len(bands)] if wavelengths else None, bands=bands)
    return prepare


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
    Case("raster output in a format not written (.png)", "deepunmix:fcls",
         lambda s: _fcls(s, OUTPUT_ABUNDANCES=s["out"] / "a.png"), "use .tif"),
    # ---- inputs that used to give silently wrong results
    Case("CSV rows name bands the raster lacks (same row count)", "deepunmix:fcls",
         lambda s: _fcls(s, ENDMEMBERS=s["dir"] / "bands.csv"), "bands 21",
         _csv_bands(list(range(2, 22)))),
    Case("CSV scale -1", "deepunmix:fcls", lambda s: _fcls(s, ENDMEMBERS=s["dir"] / "scaled.csv"), "scale",
         _csv_scale("-1")),
    Case("CSV scale 0", "deepunmix:fcls", lambda s: _fcls(s, ENDMEMBERS=s["dir"] / "scaled.csv"), "scale",
         _csv_scale("0")),
    Case("CSV scale 1e300", "deepunmix:fcls", lambda s: _fcls(s, ENDMEMBERS=s["dir"] / "scaled.csv"), "scale",
         _csv_scale("1e300")),
    Case("SCALE parameter 1e300", "deepunmix:extract_endmembers", lambda s: _extract(s, SCALE=1e300), "scale"),
    Case("one all-NaN band (fcls)", "deepunmix:fcls", lambda s: _fcls(s, INPUT=s["dir"] / "nanband.tif"),
         r"band\(s\) 5 hold no value", _nan_band),
    Case("one all-NaN band (extraction)", "deepunmix:extract_endmembers",
         lambda s: _extract(s, INPUT=s["dir"] / "nanband.tif"), r"band\(s\) 5 hold no value", _nan_band),
    Case("complex raster", "deepunmix:extract_endmembers", lambda s: _extract(s, INPUT=s["dir"] / "complex.tif"),
         "complex", _complex),
    Case("complex raster (fcls)", "deepunmix:fcls", lambda s: _fcls(s, INPUT=s["dir"] / "complex.tif"),
         "complex", _complex),
    Case("one valid pixel", "deepunmix:extract_endmembers", lambda s: _extract(s, INPUT=s["dir"] / "onepixel.tif"),
         "only 1 valid pixel", _one_pixel),
    Case("ENVI bbl of the wrong length", "deepunmix:extract_endmembers",
         lambda s: _extract(s, INPUT=s["dir"] / "shortbbl.img"), "bbl.*3 entries for 20 bands", _short_bbl),
    Case("ENVI bbl of the wrong length (fcls)", "deepunmix:fcls",
         lambda s: _fcls(s, INPUT=s["dir"] / "shortbbl.img"), "bbl.*3 entries for 20 bands", _short_bbl),
    Case("UnDIP CSV without rows for the bands used", "deepunmix:undip",
         lambda s: _undip(s, ENDMEMBERS=s["dir"] / "bands.csv"), "no row for raster band", _csv_bands([1, 2, 3])),
    Case("evaluate CSVs over different bands", "deepunmix:evaluate",
         lambda s: _evaluate(s, ENDMEMBERS=s["dir"] / "bands.csv", REFERENCE_ENDMEMBERS=s["endmembers"]),
         "same bands", _csv_bands([1, 2, 3])),
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
