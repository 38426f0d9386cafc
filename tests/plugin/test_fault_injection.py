"""Fault injection: what a user gets for each bad input, bad parameter, output collision and cancel.

Read ``CASES`` as a list: every row is one fault, the algorithm it is given to, and the message the
user must see. For every row the test also checks that nothing was written (no new file, no
``.partial`` left behind) and that every file that was there before (the inputs) is byte-for-byte
unchanged. Memory limits, cancel at each phase and concurrent runs follow the table.
"""

from __future__ import annotations

import hashlib
import sys
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
    return {
        "INPUT": s["cube"],
        "N_ENDMEMBERS": 3,
        "MAX_ITER": 3,
        "OUTPUT_ABUNDANCES": s["out"] / "a.tif",
        "OUTPUT_ENDMEMBERS": s["out"] / "e.csv",
        **kw,
    }


def _undip(s, **kw):
    return {
        "INPUT": s["cube"],
        "ENDMEMBERS": s["endmembers"],
        "ITERATIONS": 2,
        "OUTPUT_ABUNDANCES": s["out"] / "a.tif",
        "OUTPUT_ENDMEMBERS": s["out"] / "e.csv",
        **kw,
    }


def _evaluate(s, **kw):
    return {"ABUNDANCES": s["truth"], "REFERENCE_ABUNDANCES": s["truth"], "OUTPUT_TABLE": s["out"] / "t.csv", **kw}


# ---- bad files the rows below prepare in the scene folder
def _raw_raster(path, cube, dtype="float32", driver="GTiff", envi_tags=None):
    """Write ``cube`` exactly as given (no nodata spreading), optionally as ENVI with header tags."""
    import rasterio

    with rasterio.open(
        path, "w", driver=driver, width=cube.shape[2], height=cube.shape[1], count=cube.shape[0], dtype=dtype
    ) as ds:
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
        from deepunmix.engine.io.endmember_csv import read_endmembers_csv, write_endmembers_csv

        t = read_endmembers_csv(s["endmembers"])
        write_endmembers_csv(
            s["dir"] / "scaled.csv",
            t.matrix,
            t.names,
            t.wavelengths,
            comment=f"units: input x 1; scale={value}; made up",
        )

    return prepare


def _csv_bands(bands, wavelengths=False, name="bands.csv"):
    def prepare(s):
        from deepunmix.engine.io.endmember_csv import read_endmembers_csv, write_endmembers_csv

        t = read_endmembers_csv(s["endmembers"])
        write_endmembers_csv(
            s["dir"] / name,
            t.matrix[: len(bands)],
            t.names,
            t.wavelengths[: len(bands)] if wavelengths else None,
            bands=bands,
        )

    return prepare


def _huge_declared(s):
    """A 3 x 200 000 x 200 000 float32 raster (480 GB as declared, a few KB on disk)."""
    import rasterio

    with rasterio.open(
        s["dir"] / "huge.tif",
        "w",
        driver="GTiff",
        width=200_000,
        height=200_000,
        count=3,
        dtype="float32",
        tiled=True,
        SPARSE_OK="TRUE",
        BIGTIFF="YES",
    ):
        pass


def _big_mat(s):
    import scipy.io as sio

    sio.savemat(
        s["dir"] / "big.mat",
        {"Y": np.zeros((20, 2_000_000), np.uint8), "nRow": 1000, "nCol": 2000},
        do_compression=True,
    )


def _corrupt_mat(s):
    (s["dir"] / "bad.mat").write_bytes(b"MATLAB 5.0 MAT-file" + bytes(range(256)) * 2)


def _envi(s):
    _raw_raster(s["dir"] / "envi.img", s["scene"].cube, driver="ENVI")


def _vrt(s):
    """A VRT reading the scene's GeoTIFF (its source is part of the input)."""
    (s["dir"] / "scene.vrt").write_text(
        "<VRTDataset rasterXSize='12' rasterYSize='12'>"
        + "".join(
            f"<VRTRasterBand dataType='Float32' band='{b}'><SimpleSource><SourceFilename relativeToVRT='1'>"
            f"scene.tif</SourceFilename><SourceBand>{b}</SourceBand></SimpleSource></VRTRasterBand>"
            for b in range(1, 21)
        )
        + "</VRTDataset>"
    )


def _world_file(s):
    (s["dir"] / "scene.tfw").write_text("30\n0\n0\n-30\n500000\n4200000\n")


def _aux(s):
    (s["dir"] / "scene.tif.aux.xml").write_text("<PAMDataset></PAMDataset>\n")


def _cut_envi(s):
    _envi(s)
    data = (s["dir"] / "envi.img").read_bytes()
    (s["dir"] / "envi.img").write_bytes(data[: len(data) // 2])


def _spike(s):
    cube = s["scene"].cube.copy()
    cube[:, 5, 5] = 1e30
    _raw_raster(s["dir"] / "spike.tif", cube)


def _x10000_without_units(s):
    """The scene as reflectance x 10000 (uint16) and its endmember CSV in reflectance, its units sidecar lost."""
    import shutil

    _raw_raster(s["dir"] / "x10000.tif", np.round(s["scene"].cube * 10000), dtype="uint16")
    shutil.copy(s["endmembers"], s["dir"] / "nounits.csv")


def _hostile_mat(make):
    def prepare(s):
        import hostile_mat

        hostile_mat.mat_file(s["dir"] / "hostile.mat", make(hostile_mat))

    return prepare


def _cut_tif(s):
    data = Path(s["cube"]).read_bytes()
    (s["dir"] / "cut.tif").write_bytes(data[: len(data) // 2])


CASES = [
    # ---- output collisions: refused before anything is read or written
    Case(
        "fcls output is its input",
        "deepunmix:fcls",
        lambda s: _fcls(s, OUTPUT_ABUNDANCES=s["cube"]),
        "is the input INPUT",
    ),
    Case(
        "fcls output is its input, other spelling",
        "deepunmix:fcls",
        lambda s: _fcls(s, OUTPUT_ABUNDANCES=str(Path(s["cube"]).parent / "." / Path(s["cube"]).name)),
        "is the input INPUT",
    ),
    Case(
        "fcls error map = abundance output",
        "deepunmix:fcls",
        lambda s: _fcls(s, OUTPUT_ERROR=s["out"] / "a.tif"),
        "same file",
    ),
    Case(
        "fcls output is the endmember CSV",
        "deepunmix:fcls",
        lambda s: _fcls(s, OUTPUT_ABUNDANCES=s["endmembers"]),
        "is the input ENDMEMBERS",
    ),
    Case(
        "min-vol NMF output is its input",
        "deepunmix:minvol_nmf",
        lambda s: _nmf(s, OUTPUT_ABUNDANCES=s["cube"]),
        "is the input INPUT",
    ),
    Case(
        "min-vol NMF raster and CSV outputs on one path",
        "deepunmix:minvol_nmf",
        lambda s: _nmf(s, OUTPUT_ABUNDANCES=s["out"] / "x.csv", OUTPUT_ENDMEMBERS=s["out"] / "x.csv"),
        "same file",
    ),
    Case(
        "UnDIP endmember output is its endmember CSV",
        "deepunmix:undip",
        lambda s: _undip(s, OUTPUT_ENDMEMBERS=s["endmembers"]),
        "is the input ENDMEMBERS",
    ),
    Case(
        "report on top of the abundance output",
        "deepunmix:minvol_nmf",
        lambda s: _nmf(s, OUTPUT_REPORT=s["out"] / "a.tif"),
        "same file",
    ),
    Case(
        "evaluate table is the reference raster",
        "deepunmix:evaluate",
        lambda s: _evaluate(s, OUTPUT_TABLE=s["truth"]),
        "is the input",
    ),
    # every file an input consists of is an input
    Case(
        "fcls output is the ENVI input's header",
        "deepunmix:fcls",
        lambda s: _fcls(s, INPUT=s["dir"] / "envi.img", OUTPUT_ABUNDANCES=s["dir"] / "envi.hdr"),
        r"is the input INPUT \(its file envi.hdr\)",
        _envi,
    ),
    Case(
        "extraction CSV on the ENVI input's header",
        "deepunmix:extract_endmembers",
        lambda s: _extract(s, INPUT=s["dir"] / "envi.img", OUTPUT_ENDMEMBERS=s["dir"] / "envi.hdr"),
        "its file envi.hdr",
        _envi,
    ),
    Case(
        "fcls output is the file a VRT input reads",
        "deepunmix:fcls",
        lambda s: _fcls(s, INPUT=s["dir"] / "scene.vrt", OUTPUT_ABUNDANCES=s["cube"]),
        "its file scene.tif",
        _vrt,
    ),
    Case(
        "min-vol NMF CSV on the input's world file",
        "deepunmix:minvol_nmf",
        lambda s: _nmf(s, OUTPUT_ENDMEMBERS=s["dir"] / "scene.tfw"),
        "its file scene.tfw",
        _world_file,
    ),
    Case(
        "report on the input's .aux.xml",
        "deepunmix:minvol_nmf",
        lambda s: _nmf(s, OUTPUT_REPORT=s["dir"] / "scene.tif.aux.xml"),
        "its file scene.tif.aux.xml",
        _aux,
    ),
    Case(
        "UnDIP CSV on its endmember CSV's column types (.csvt)",
        "deepunmix:undip",
        lambda s: _undip(s, OUTPUT_ENDMEMBERS=s["dir"] / "truth_endmembers.csvt"),
        "is the input ENDMEMBERS",
    ),
    Case(
        "output path is a folder",
        "deepunmix:extract_endmembers",
        lambda s: _extract(s, OUTPUT_ENDMEMBERS=s["dir"]),
        "folder",
    ),
    Case(
        "raster output in a format not written (.png)",
        "deepunmix:fcls",
        lambda s: _fcls(s, OUTPUT_ABUNDANCES=s["out"] / "a.png"),
        "use .tif",
    ),
    # ---- inputs that used to give silently wrong results
    Case(
        "CSV rows name bands the raster lacks (same row count)",
        "deepunmix:fcls",
        lambda s: _fcls(s, ENDMEMBERS=s["dir"] / "bands.csv"),
        "bands 21",
        _csv_bands(list(range(2, 22))),
    ),
    Case(
        "CSV scale -1",
        "deepunmix:fcls",
        lambda s: _fcls(s, ENDMEMBERS=s["dir"] / "scaled.csv"),
        "scale",
        _csv_scale("-1"),
    ),
    Case(
        "CSV scale 0",
        "deepunmix:fcls",
        lambda s: _fcls(s, ENDMEMBERS=s["dir"] / "scaled.csv"),
        "scale",
        _csv_scale("0"),
    ),
    Case(
        "CSV scale 1e300",
        "deepunmix:fcls",
        lambda s: _fcls(s, ENDMEMBERS=s["dir"] / "scaled.csv"),
        "scale",
        _csv_scale("1e300"),
    ),
    Case("SCALE parameter 1e300", "deepunmix:extract_endmembers", lambda s: _extract(s, SCALE=1e300), "scale"),
    Case(
        "one all-NaN band (fcls)",
        "deepunmix:fcls",
        lambda s: _fcls(s, INPUT=s["dir"] / "nanband.tif"),
        r"band\(s\) 5 hold no value",
        _nan_band,
    ),
    Case(
        "one all-NaN band (extraction)",
        "deepunmix:extract_endmembers",
        lambda s: _extract(s, INPUT=s["dir"] / "nanband.tif"),
        r"band\(s\) 5 hold no value",
        _nan_band,
    ),
    Case(
        "complex raster",
        "deepunmix:extract_endmembers",
        lambda s: _extract(s, INPUT=s["dir"] / "complex.tif"),
        "complex",
        _complex,
    ),
    Case(
        "complex raster (fcls)",
        "deepunmix:fcls",
        lambda s: _fcls(s, INPUT=s["dir"] / "complex.tif"),
        "complex",
        _complex,
    ),
    Case(
        "one valid pixel",
        "deepunmix:extract_endmembers",
        lambda s: _extract(s, INPUT=s["dir"] / "onepixel.tif"),
        "only 1 valid pixel",
        _one_pixel,
    ),
    Case(
        "ENVI bbl of the wrong length",
        "deepunmix:extract_endmembers",
        lambda s: _extract(s, INPUT=s["dir"] / "shortbbl.img"),
        "bbl.*3 entries for 20 bands",
        _short_bbl,
    ),
    Case(
        "ENVI bbl of the wrong length (fcls)",
        "deepunmix:fcls",
        lambda s: _fcls(s, INPUT=s["dir"] / "shortbbl.img"),
        "bbl.*3 entries for 20 bands",
        _short_bbl,
    ),
    Case(
        "UnDIP CSV without rows for the bands used",
        "deepunmix:undip",
        lambda s: _undip(s, ENDMEMBERS=s["dir"] / "bands.csv"),
        "no row for raster band",
        _csv_bands([1, 2, 3]),
    ),
    Case(
        "evaluate CSVs over different bands",
        "deepunmix:evaluate",
        lambda s: _evaluate(s, ENDMEMBERS=s["dir"] / "bands.csv", REFERENCE_ENDMEMBERS=s["endmembers"]),
        "same bands",
        _csv_bands([1, 2, 3]),
    ),
    Case(
        "corrupt .mat",
        "deepunmix:import_mat",
        lambda s: {"INPUT": s["dir"] / "bad.mat", "OUTPUT_CUBE": s["out"] / "c.tif"},
        "not a readable",
        _corrupt_mat,
    ),
    Case(
        "UnDIP on an 8 x 8 image",
        "deepunmix:undip",
        lambda s: _undip(s, INPUT=s["dir"] / "tiny.tif"),
        "too small",
        lambda s: _raw_raster(s["dir"] / "tiny.tif", s["scene"].cube[:, :8, :8]),
    ),
    # input formats that used to be read silently wrong
    Case(
        "ENVI data file cut short (an interrupted copy)",
        "deepunmix:extract_endmembers",
        lambda s: _extract(s, INPUT=s["dir"] / "envi.img"),
        "cut short",
        _cut_envi,
    ),
    Case(
        "ENVI data file cut short (fcls)",
        "deepunmix:fcls",
        lambda s: _fcls(s, INPUT=s["dir"] / "envi.img"),
        "cut short",
        _cut_envi,
    ),
    Case(
        "one 1e30 pixel (DDICA)",
        "deepunmix:ddica",
        lambda s: _nmf(s, INPUT=s["dir"] / "spike.tif", STEPS=2),
        r"1 pixel\(s\) hold values up to 1e\+30",
        _spike,
    ),
    Case(
        "one 1e30 pixel (BUDDIP)",
        "deepunmix:buddip",
        lambda s: _nmf(s, INPUT=s["dir"] / "spike.tif", ITERATIONS=2),
        r"1e\+30",
        _spike,
    ),
    Case(
        "endmember CSV without its units sidecar on a raster x 10000",
        "deepunmix:fcls",
        lambda s: _fcls(s, INPUT=s["dir"] / "x10000.tif", ENDMEMBERS=s["dir"] / "nounits.csv"),
        "states no units",
        _x10000_without_units,
    ),
    # hostile files: a message, never a traceback or a crash
    Case(
        "import_mat of cells nested 5000 deep (crashed QGIS)",
        "deepunmix:import_mat",
        lambda s: {"INPUT": s["dir"] / "hostile.mat", "OUTPUT_CUBE": s["out"] / "c.tif"},
        "nests cells/structs more than 50 deep",
        _hostile_mat(lambda h: h.nested_cells(5000)),
    ),
    Case(
        "import_mat of a MATLAB object as the image",
        "deepunmix:import_mat",
        lambda s: {"INPUT": s["dir"] / "hostile.mat", "OUTPUT_CUBE": s["out"] / "c.tif"},
        "the variable Y is",
        _hostile_mat(lambda h: h.matlab_object("Y")),
    ),
    Case(
        "import_mat with its image size as text",
        "deepunmix:import_mat",
        lambda s: {"INPUT": s["dir"] / "t.mat", "OUTPUT_CUBE": s["out"] / "c.tif"},
        "nRow is text",
        lambda s: __import__("scipy.io").io.savemat(
            s["dir"] / "t.mat", {"V": np.ones((6, 20)), "nRow": "ab", "nCol": 5}
        ),
    ),
    Case(
        "zero-byte .tif input",
        "deepunmix:extract_endmembers",
        lambda s: _extract(s, INPUT=s["dir"] / "zero.tif"),
        "zero.tif is empty",
        lambda s: (s["dir"] / "zero.tif").write_bytes(b""),
    ),
    Case(
        "text file under a .tif name",
        "deepunmix:fcls",
        lambda s: _fcls(s, INPUT=s["dir"] / "text.tif"),
        "text.tif is a text file",
        lambda s: (s["dir"] / "text.tif").write_text("not a raster\n" * 20),
    ),
    Case(
        ".tif cut short",
        "deepunmix:minvol_nmf",
        lambda s: _nmf(s, INPUT=s["dir"] / "cut.tif"),
        "cut short|damaged",  # GDAL 3.13 (QGIS 3.44) already fails to open it; older GDAL opens it and reads zeros
        _cut_tif,
    ),
    Case(
        "binary file as endmember CSV",
        "deepunmix:fcls",
        lambda s: _fcls(s, ENDMEMBERS=s["dir"] / "bin.csv"),
        "not a text CSV",
        lambda s: (s["dir"] / "bin.csv").write_bytes(bytes(range(256)) * 4),
    ),
    # ---- bad parameters
    Case(
        "BAD_BANDS not a range",
        "deepunmix:extract_endmembers",
        lambda s: _extract(s, BAD_BANDS="1-3,abc"),
        "'abc' is not a band number",
    ),
    Case(
        "BAD_BANDS backwards", "deepunmix:extract_endmembers", lambda s: _extract(s, BAD_BANDS="5-3"), "runs backwards"
    ),
    Case(
        "BAD_BANDS beyond the last band",
        "deepunmix:extract_endmembers",
        lambda s: _extract(s, BAD_BANDS="18-25"),
        "beyond the last band",
    ),
    Case(
        "BAD_BANDS leaving one band",
        "deepunmix:extract_endmembers",
        lambda s: _extract(s, BAD_BANDS="2-20"),
        "only 1 of 20 bands remain",
    ),
    Case(
        "more endmembers than bands",
        "deepunmix:minvol_nmf",
        lambda s: _nmf(s, N_ENDMEMBERS=25),
        "25 endmembers cannot be unmixed from 20 bands",
    ),
    # ---- other bad inputs
    Case("endmember CSV missing", "deepunmix:fcls", lambda s: _fcls(s, ENDMEMBERS=s["dir"] / "none.csv"), "not"),
    Case(
        "endmember CSV with a text cell",
        "deepunmix:fcls",
        lambda s: _fcls(s, ENDMEMBERS=s["dir"] / "text.csv"),
        "not a number",
        lambda s: (s["dir"] / "text.csv").write_text("band,wavelength,a,b\n1,400,x,0.2\n"),
    ),
    Case(
        "all-nodata raster",
        "deepunmix:extract_endmembers",
        lambda s: _extract(s, INPUT=s["dir"] / "nan.tif"),
        "no valid pixel",
        lambda s: _raw_raster(s["dir"] / "nan.tif", np.full((4, 6, 6), np.nan)),
    ),
    Case(
        "constant image",
        "deepunmix:extract_endmembers",
        lambda s: _extract(s, INPUT=s["dir"] / "const.tif"),
        "constant",
        lambda s: _raw_raster(s["dir"] / "const.tif", np.full((4, 6, 6), 0.3)),
    ),
    # ---- memory: every size is checked before allocating, and the message says what to change
    Case(
        "MEMORY_MB above the machine's memory",
        "deepunmix:extract_endmembers",
        lambda s: _extract(s, MEMORY_MB=10**9),
        "more than this machine",
    ),
    Case(
        "MEMORY_MB above the machine's memory (fcls)",
        "deepunmix:fcls",
        lambda s: _fcls(s, MEMORY_MB=10**9),
        "more than this machine",
    ),
    Case(
        "MEMORY_MB = 2^31 (used to wrap to the default)",
        "deepunmix:extract_endmembers",
        lambda s: _extract(s, MEMORY_MB=2**31),
        "more than this machine",
    ),
    Case(
        "MEMORY_MB = 2^32 + 1024 (wrapped to 1024)",
        "deepunmix:fcls",
        lambda s: _fcls(s, MEMORY_MB=2**32 + 1024),
        "more than this machine",
    ),
    Case(
        "import_mat of a .mat whose large array sits inside a struct",
        "deepunmix:import_mat",
        lambda s: {"INPUT": s["dir"] / "inside.mat", "OUTPUT_CUBE": s["out"] / "c.tif", "MEMORY_MB": 64},
        "inside.mat.*MEMORY_MB",
        lambda s: __import__("scipy.io").io.savemat(
            s["dir"] / "inside.mat",
            {"V": np.ones((4, 4)), "s": {"Y": np.zeros((20, 2_000_000), np.uint8)}},
            do_compression=True,
        ),
    ),
    Case(
        "DDICA with 100 000 restarts",
        "deepunmix:ddica",
        lambda s: _nmf(s, RESTARTS=100_000, STEPS=1),
        "DDICA training needs.*RESTARTS",
    ),
    Case(
        "evaluate on a raster declaring 480 GB",
        "deepunmix:evaluate",
        lambda s: _evaluate(s, ABUNDANCES=s["dir"] / "huge.tif", REFERENCE_ABUNDANCES=s["dir"] / "huge.tif"),
        "MEMORY_MB",
        _huge_declared,
    ),
    Case(
        "import_mat of a .mat that decompresses past the budget",
        "deepunmix:import_mat",
        lambda s: {"INPUT": s["dir"] / "big.mat", "OUTPUT_CUBE": s["out"] / "c.tif", "MEMORY_MB": 64},
        "big.mat.*MEMORY_MB",
        _big_mat,
    ),
]


def _snapshot(folder: Path) -> Dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


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
    with pytest.raises(QgsProcessingException, match=case.match) as err:
        run_alg(case.alg, _stringify(case.params(files)))
    assert "Traceback" not in str(err.value), "a user problem was reported as a bug"
    assert _snapshot(files["dir"]) == before, "an input changed or an output was written"


# ---- cancel at every phase: the user gets "Canceled", no output and no .partial file
@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A 64-band 300 x 300 float32 raster (22 MB): over a 64 MB budget, so it is sampled and streamed."""
    from synthetic import make_mixed_scene, procedural_library

    from deepunmix.engine.io.endmember_csv import write_endmembers_csv
    from deepunmix.engine.io.raster import write_cube

    folder = tmp_path_factory.mktemp("big")
    lib, wl, names = procedural_library(n_bands=64, n_spectra=6, random_state=0)
    s = make_mixed_scene(size=(300, 300), n_endmembers=3, library=lib, wavelengths=wl, names=names, random_state=0)
    write_cube(str(folder / "big.tif"), s.cube, wavelengths=wl)
    write_endmembers_csv(folder / "e.csv", s.endmembers, list(s.names), wavelengths=wl)
    import scipy.io as sio

    sio.savemat(folder / "big.mat", {"Y": s.cube.reshape(s.cube.shape[0], -1), "H": 300, "W": 300})
    return folder


class CancelAt:
    """A feedback that cancels once progress passes ``at`` percent."""

    def __new__(cls, at):
        from qgis.core import QgsProcessingFeedback

        class _Feedback(QgsProcessingFeedback):
            def setProgress(self, progress):
                super().setProgress(progress)
                if progress > at:
                    self.cancel()

        feedback = _Feedback()
        if at < 0:
            feedback.cancel()
        return feedback


def _big_params(alg, big, out):
    if alg == "deepunmix:fcls":
        return {
            "INPUT": str(big / "big.tif"),
            "ENDMEMBERS": str(big / "e.csv"),
            "MEMORY_MB": 64,
            "OUTPUT_ABUNDANCES": str(out / "a.tif"),
            "OUTPUT_ERROR": str(out / "err.tif"),
        }
    params = {
        "INPUT": str(big / "big.tif"),
        "N_ENDMEMBERS": 3,
        "MEMORY_MB": 64,
        "MAX_ITER": 5,
        "STEPS": 30,
        "OUTPUT_ABUNDANCES": str(out / "a.tif"),
        "OUTPUT_ENDMEMBERS": str(out / "e.csv"),
    }
    if alg == "deepunmix:estimate_n_endmembers":
        return {"INPUT": params["INPUT"], "MEMORY_MB": 64, "METHOD": 3, "OUTPUT_REPORT": str(out / "r.html")}
    if alg == "deepunmix:evaluate":
        return {
            "ABUNDANCES": params["INPUT"],
            "REFERENCE_ABUNDANCES": params["INPUT"],
            "OUTPUT_TABLE": str(out / "t.csv"),
        }
    if alg == "deepunmix:import_mat":
        return {"INPUT": str(big / "big.mat"), "OUTPUT_CUBE": str(out / "c.tif")}
    return params


CANCELS = [  # (phase, algorithm, cancel once progress passes this %; -1 = cancelled before it starts)
    ("before start", "deepunmix:fcls", -1),
    ("before start (deep)", "deepunmix:ddica", -1),
    ("sampling pass of a raster over the budget", "deepunmix:minvol_nmf", 0.5),
    ("sampling pass (DDICA)", "deepunmix:ddica", 0.5),
    ("sampling pass (endmember extraction)", "deepunmix:extract_endmembers", 0.5),
    ("sampling pass (endmember count)", "deepunmix:estimate_n_endmembers", 0.5),
    ("DDICA training", "deepunmix:ddica", 10),
    ("min-vol NMF fit", "deepunmix:minvol_nmf", 6),
    ("streaming every pixel after a sampled fit", "deepunmix:minvol_nmf", 95.5),
    ("fcls streaming, abundances", "deepunmix:fcls", 10),
    ("fcls streaming, error map (abundances done)", "deepunmix:fcls", 60),
    ("endmember count, while counting", "deepunmix:estimate_n_endmembers", 30),
    ("evaluate, between reading and scoring", "deepunmix:evaluate", 10),
    ("import .mat, before writing", "deepunmix:import_mat", 20),
]


@pytest.mark.parametrize("phase,alg,at", CANCELS, ids=[c[0] for c in CANCELS])
def test_cancel(phase, alg, at, big, tmp_path, run_alg):
    before = _snapshot(big)
    params = _big_params(alg, big, tmp_path)
    if phase == "DDICA training":  # training a 20 000-pixel sample needs more than 64 MB (measured)
        params.update(MEMORY_MB=160, RESTARTS=2)
    with pytest.raises(QgsProcessingException, match="Cancel"):
        run_alg(alg, params, feedback=CancelAt(at))
    assert not list(tmp_path.iterdir()), "a cancelled run left files"
    assert _snapshot(big) == before


class CancelOnLog:
    """A feedback that cancels when a log line containing ``text`` is written: after the step that wrote it."""

    def __new__(cls, text):
        from qgis.core import QgsProcessingFeedback

        class _Feedback(QgsProcessingFeedback):
            def pushInfo(self, info):
                super().pushInfo(info)
                if text in info:
                    self.cancel()

        return _Feedback()


LATE_CANCELS = [  # (phase, algorithm, the log line after which the user cancels)
    ("endmember count, its estimate logged", "deepunmix:estimate_n_endmembers", "endmembers"),
    ("import .mat, the cube read", "deepunmix:import_mat", "Read 64 bands"),
]


@pytest.mark.parametrize("phase,alg,text", LATE_CANCELS, ids=[c[0] for c in LATE_CANCELS])
def test_a_cancel_during_the_last_step_writes_nothing(phase, alg, text, big, tmp_path, run_alg):
    """A cancel that comes while a step runs that cannot stop midway is honoured when the step ends: the
    output (here the count report, the imported cube) is not written, and the user sees "Canceled"."""
    with pytest.raises(QgsProcessingException, match="Cancel"):
        run_alg(alg, _big_params(alg, big, tmp_path), feedback=CancelOnLog(text))
    assert not list(tmp_path.iterdir())


# ---- concurrent runs writing different outputs: each gets its own complete output, as if run alone
def test_concurrent_runs_write_their_own_outputs(deepunmix, scene, tmp_path):
    import threading

    from plugin_helpers import read
    from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback

    registry = QgsApplication.processingRegistry()
    results, errors = {}, []

    def run(k):
        try:
            alg = registry.createAlgorithmById("deepunmix:fcls")
            context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
            params = {
                "INPUT": scene["cube"],
                "ENDMEMBERS": scene["endmembers"],
                "MEMORY_MB": 64,
                "OUTPUT_ABUNDANCES": str(tmp_path / f"a{k}.tif"),
                "OUTPUT_ERROR": str(tmp_path / f"r{k}.tif"),
            }
            out, ok = alg.run(params, context, feedback)
            results[k] = out if ok else None
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(results[k] for k in range(4))
    first = read(str(tmp_path / "a0.tif"))[0]
    np.testing.assert_allclose(first, scene["scene"].abundances, atol=1e-3)
    for k in range(1, 4):
        np.testing.assert_array_equal(read(str(tmp_path / f"a{k}.tif"))[0], first)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")) == []


# ---- memory limits: a raster over the budget runs in tiles; a run capped with RLIMIT_AS gets a message, not a MemoryError
CAPPED_RUN = r"""
import os, resource, sys
sys.path.insert(0, sys.argv[2])
from qgis.core import QgsApplication
app = QgsApplication([], False)
app.initQgis()
sys.path.append("/usr/share/qgis/python/plugins")
from processing.core.Processing import Processing
Processing.initialize()
import deepunmix
from deepunmix.algorithms.provider import DeepUnmixProvider
provider = DeepUnmixProvider()
QgsApplication.processingRegistry().addProvider(provider)
import processing, torch
from qgis.core import QgsProcessingException
size = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmSize:"))
if float(sys.argv[6]) > 0:  # MB of address space above the current size
    resource.setrlimit(resource.RLIMIT_AS, (size + int(float(sys.argv[6]) * 2 ** 20), resource.RLIM_INFINITY))
try:
    from qgis.core import QgsProcessingFeedback

    class Log(QgsProcessingFeedback):
        def pushInfo(self, text):
            print("LOG", text)

    processing.run("deepunmix:undip", {"INPUT": sys.argv[1], "N_ENDMEMBERS": 3, "MEMORY_MB": int(sys.argv[5]),
                                       "ITERATIONS": 1, "OUTPUT_ABUNDANCES": sys.argv[3],
                                       "OUTPUT_ENDMEMBERS": sys.argv[4]}, feedback=Log())
    print("NO ERROR")
except QgsProcessingException as exc:
    print("MESSAGE", str(exc).replace("\n", " "))
"""


def test_over_the_budget_runs_in_tiles_from_disk_and_a_memory_cap_gives_a_message(deepunmix, tmp_path):
    """UnDIP on a 20 x 480 x 480 raster over a 64 MB budget: fitted in tiles read from disk, one complete output.
    In a process capped at +600 MB of address space the same; capped at +200 MB: a message before the fit (the
    libraries' one-off buffers and the smallest tile need more) and no output. (Measured on this machine: +280 MB
    that message; +300 MB that message, or once the check passed and the fit ran out mid-way (an out-of-memory
    message); +330 to +450 MB complete. The test keeps away from that edge.)"""
    import os
    import subprocess
    import sys

    import rasterio
    from conftest import PLUGINS

    path = tmp_path / "big.tif"
    rng = np.random.default_rng(0)
    with rasterio.open(path, "w", driver="GTiff", width=480, height=480, count=20, dtype="float32", tiled=True) as ds:
        ds.write(rng.random((20, 480, 480), dtype=np.float32))

    def run(memory_mb, out_name, cap):
        return subprocess.run(
            [
                sys.executable,
                "-c",
                CAPPED_RUN,
                str(path),
                str(PLUGINS),
                str(tmp_path / f"{out_name}.tif"),
                str(tmp_path / f"{out_name}.csv"),
                str(memory_mb),
                cap,
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )

    for name, cap in (("a", "0"), ("c", "600")):
        out = run(64, name, cap)
        assert "NO ERROR" in out.stdout, out.stdout + out.stderr[-3000:]
        assert "tiles read from disk" in out.stdout
        with rasterio.open(tmp_path / f"{name}.tif") as ds:
            assert (ds.count, ds.height, ds.width) == (3, 480, 480)
            A = ds.read()
        assert np.isfinite(A).all() and np.allclose(A.sum(0), 1.0, atol=1e-4)
    out = run(64, "b", "200")
    assert "MESSAGE" in out.stdout and "address-space limit" in out.stdout, out.stdout + out.stderr[-3000:]
    assert "Traceback" not in out.stdout
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "big.tif.aux.xml")  # QGIS's histogram of the input
    written = [f"{n}.{ext}" for n in "ac" for ext in ("csv", "csv.aux.xml", "csvt", "tif")]
    assert left == sorted(["big.tif", *written])


# ---- a full disk: every algorithm's writers (in memory and streamed, GeoTIFF, Erdas Imagine, CSV, HTML); the
# previous outputs stay as they were, the user gets a message, no temporary is left
sys.path.insert(0, str(Path(__file__).parents[1] / "engine" / "io"))
import small_disk as disk  # noqa: E402 - tests/engine/io/small_disk.py

small_disk, _fill = disk.small_disk, disk.fill  # a fixture shared with tests/engine/io/test_write_checks.py


def _mat(s):
    import scipy.io as sio

    sc = s["scene"]
    L, H, W = sc.cube.shape
    sio.savemat(s["dir"] / "d.mat", {"V": sc.cube.reshape(L, -1, order="F"), "nRow": H, "nCol": W})
    return s["dir"] / "d.mat"


FULL_DISK = [  # (id, algorithm, parameters(scene, output folder)); the blind methods' CSV goes to a healthy disk
    ("fcls", "deepunmix:fcls", lambda s, o: _fcls(s, OUTPUT_ABUNDANCES=o / "a.tif")),
    ("fcls, Erdas Imagine", "deepunmix:fcls", lambda s, o: _fcls(s, OUTPUT_ABUNDANCES=o / "a.img")),
    ("endmember extraction", "deepunmix:extract_endmembers", lambda s, o: _extract(s, OUTPUT_ENDMEMBERS=o / "e.csv")),
    (
        "min-vol NMF",
        "deepunmix:minvol_nmf",
        lambda s, o: _nmf(s, OUTPUT_ABUNDANCES=o / "a.tif", OUTPUT_ENDMEMBERS=s["dir"] / "e_out.csv"),
    ),
    (
        "DDICA",
        "deepunmix:ddica",
        lambda s, o: _nmf(
            s, STEPS=2, RESTARTS=1, OUTPUT_ABUNDANCES=o / "a.tif", OUTPUT_ENDMEMBERS=s["dir"] / "e_out.csv"
        ),
    ),
    (
        "UnDIP",
        "deepunmix:undip",
        lambda s, o: _undip(s, OUTPUT_ABUNDANCES=o / "a.tif", OUTPUT_ENDMEMBERS=s["dir"] / "e_out.csv"),
    ),
    (
        "BUDDIP",
        "deepunmix:buddip",
        lambda s, o: _nmf(s, ITERATIONS=2, OUTPUT_ABUNDANCES=o / "a.tif", OUTPUT_ENDMEMBERS=s["dir"] / "e_out.csv"),
    ),
    (
        "deep ICA",
        "deepunmix:ica",
        lambda s, o: {"INPUT": s["cube"], "N_COMPONENTS": 2, "STEPS": 2, "RESTARTS": 1, "OUTPUT": str(o / "a.tif")},
    ),
    ("import .mat", "deepunmix:import_mat", lambda s, o: {"INPUT": str(_mat(s)), "OUTPUT_CUBE": str(o / "a.tif")}),
    ("evaluate", "deepunmix:evaluate", lambda s, o: _evaluate(s, OUTPUT_TABLE=o / "t.csv")),
    (
        "endmember count report",
        "deepunmix:estimate_n_endmembers",
        lambda s, o: {"INPUT": s["cube"], "OUTPUT_REPORT": str(o / "r.html")},
    ),
]


@pytest.fixture
def scene64(tmp_path):
    """A 64 x 64 x 20 scene: its abundance maps (about 48 kB) are far larger than its endmember CSV (1 kB)."""
    from synthetic import make_mixed_scene, procedural_library

    from deepunmix.engine.io.endmember_csv import write_endmembers_csv
    from deepunmix.engine.io.raster import write_abundances, write_cube

    lib, wl, names = procedural_library(n_bands=20, n_spectra=6, random_state=0)
    s = make_mixed_scene(size=64, n_endmembers=3, library=lib, wavelengths=wl, names=names, random_state=0)
    folder = tmp_path / "scene64"
    folder.mkdir()
    write_cube(folder / "scene.tif", s.cube, wavelengths=wl)
    write_abundances(folder / "truth.tif", s.abundances, list(s.names))
    write_endmembers_csv(folder / "e.csv", s.endmembers, list(s.names), wavelengths=wl)
    return {
        "dir": folder,
        "scene": s,
        "cube": str(folder / "scene.tif"),
        "truth": str(folder / "truth.tif"),
        "endmembers": str(folder / "e.csv"),
    }


@pytest.mark.parametrize("leave", [0, 24_000], ids=["no byte free", "room for the CSVs, not the raster"])
@pytest.mark.parametrize("alg,params", [c[1:] for c in FULL_DISK], ids=[c[0] for c in FULL_DISK])
def test_full_disk_keeps_previous_outputs(alg, params, leave, scene64, small_disk, run_alg):
    p = _stringify(params({**scene64, "out": small_disk}, small_disk))
    for name, value in p.items():  # a good previous output on every output path
        if name.startswith("OUTPUT") and isinstance(value, str) and value.startswith(str(small_disk)):
            Path(value).write_text(f"previous {name}")
    before = _snapshot(small_disk)
    _fill(small_disk, leave)
    with pytest.raises(QgsProcessingException, match="could not be written|[Nn]o space") as err:
        run_alg(alg, p)
    assert "Traceback" not in str(err.value)
    after = _snapshot(small_disk)
    after.pop("filler")
    assert after == before, "a previous output changed or a temporary was left"


def test_qgis_process_refuses_an_output_on_an_envi_inputs_header(scene):
    """The same check on the command-line route: an error exit, the message, and the header unchanged."""
    import subprocess

    from conftest import REPO

    _envi(scene)
    header = scene["dir"] / "envi.hdr"
    before = header.read_bytes()
    proc = subprocess.run(
        [
            str(REPO / "scripts" / "qgis_process"),
            "run",
            "deepunmix:fcls",
            "--",
            f"INPUT={scene['dir'] / 'envi.img'}",
            f"ENDMEMBERS={scene['endmembers']}",
            f"OUTPUT_ABUNDANCES={header}",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode != 0
    assert "is the input INPUT (its file envi.hdr)" in proc.stdout + proc.stderr
    assert header.read_bytes() == before


# ---- input formats handled, not refused: a mask band, an alpha band, a pixel at nodata in all bands but one
def test_mask_and_alpha_bands_are_honoured_and_a_mostly_nodata_pixel_is_nodata(scene, tmp_path, run_alg):
    import rasterio
    from plugin_helpers import read
    from rasterio.enums import ColorInterp

    cube = scene["scene"].cube.copy()
    masked = tmp_path / "masked.tif"
    _raw_raster(masked, cube)
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(masked, "r+") as ds:
        mask = np.full(cube.shape[1:], 255, np.uint8)
        mask[:4] = 0
        ds.write_mask(mask)
    alpha = tmp_path / "alpha.tif"
    with rasterio.open(alpha, "w", driver="GTiff", width=12, height=12, count=21, dtype="float32") as ds:
        ds.colorinterp = [ColorInterp.gray] * 20 + [ColorInterp.alpha]  # before the pixels: in the TIFF itself
        ds.write(np.concatenate([cube, (mask[None] > 0).astype(np.float32) * 255]))
    with rasterio.open(alpha) as ds:
        assert ds.colorinterp[-1] == ColorInterp.alpha
    mostly = tmp_path / "mostly.tif"
    edge = cube.copy()
    edge[:-1, :4] = -9999  # every band but the last at nodata
    _raw_raster(mostly, edge)
    with rasterio.open(mostly, "r+") as ds:
        ds.nodata = -9999
    for src in (masked, alpha, mostly):
        out = tmp_path / f"{src.stem}_a.tif"
        run_alg("deepunmix:fcls", {"INPUT": str(src), "ENDMEMBERS": scene["endmembers"], "OUTPUT_ABUNDANCES": str(out)})
        ab, _, _, nodata, _ = read(str(out))
        assert (ab[:, :4] == nodata).all(), src.name
        np.testing.assert_allclose(ab[:, 4:], scene["scene"].abundances[:, 4:], atol=1e-3)
        res = run_alg("deepunmix:extract_endmembers", _stringify(_extract({"cube": str(src), "out": tmp_path})))
        from deepunmix.engine.io.endmember_csv import read_endmembers_csv

        table = read_endmembers_csv(res["OUTPUT_ENDMEMBERS"])
        assert table.matrix.shape[0] == 20 and table.matrix.min() > -1, src.name


@pytest.mark.parametrize("value,match", [("abc", "positive whole number"), ("0", "positive whole number")])
def test_a_bad_torch_thread_setting_gives_a_message(value, match, scene, run_alg, monkeypatch):
    monkeypatch.setenv("DEEPUNMIX_TORCH_THREADS", value)
    with pytest.raises(QgsProcessingException, match=match) as err:
        run_alg("deepunmix:ddica", _stringify(_nmf({**scene, "out": scene["dir"]}, STEPS=2)))
    assert "Traceback" not in str(err.value)


@pytest.mark.parametrize(
    "names,encoding",
    [(["$\\frac{1}{", "a$b", "_c"], "utf-8"), (["x" * 70_000, "Tree é", "$$"], "utf-16")],
    ids=["mathtext names", "70 000-character names in UTF-16"],
)
def test_any_endmember_names_and_encoding_give_maps_and_a_report(names, encoding, scene, tmp_path, run_alg):
    from plugin_helpers import read

    from deepunmix.engine.io.endmember_csv import read_endmembers_csv, write_endmembers_csv

    t = read_endmembers_csv(scene["endmembers"])
    write_endmembers_csv(tmp_path / "n.csv", t.matrix, names, t.wavelengths)
    text = (tmp_path / "n.csv").read_text(encoding="utf-8")
    (tmp_path / "n.csv").write_bytes(text.encode(encoding))
    res = run_alg(
        "deepunmix:fcls",
        {
            "INPUT": scene["cube"],
            "ENDMEMBERS": str(tmp_path / "n.csv"),
            "OUTPUT_ABUNDANCES": str(tmp_path / "a.tif"),
            "OUTPUT_REPORT": str(tmp_path / "r.html"),
        },
    )
    assert read(res["OUTPUT_ABUNDANCES"])[0].shape == (3, 12, 12)
    assert "data:image/png;base64," in (tmp_path / "r.html").read_text()
