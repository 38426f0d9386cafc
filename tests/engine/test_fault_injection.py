"""Fault injection on the engine's own routes (the API a script calls, and Dask's ``engine.distributed``): the
guarantees hold there too, not only behind the QGIS algorithms (``tests/plugin/test_fault_injection.py``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from deepunmix.engine.errors import OutputError


def _digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _envi(folder: Path) -> Path:
    import rasterio

    cube = np.random.default_rng(0).random((4, 16, 16)).astype(np.float32)
    with rasterio.open(folder / "envi.img", "w", driver="ENVI", width=16, height=16, count=4, dtype="float32") as ds:
        ds.write(cube)
    return folder / "envi.img"


def _vrt(folder: Path) -> Path:
    from deepunmix.engine.io.raster import write_cube

    write_cube(folder / "src.tif", np.random.default_rng(1).random((2, 8, 8)).astype(np.float32))
    bands = "".join(
        f"<VRTRasterBand dataType='Float32' band='{b}'><SimpleSource><SourceFilename relativeToVRT='1'>src.tif"
        f"</SourceFilename><SourceBand>{b}</SourceBand></SimpleSource></VRTRasterBand>"
        for b in (1, 2)
    )
    (folder / "v.vrt").write_text(f"<VRTDataset rasterXSize='8' rasterYSize='8'>{bands}</VRTDataset>")
    return folder / "v.vrt"


def _blockwise(src, dst):
    from deepunmix.engine.io.blockwise import apply_blockwise

    return apply_blockwise(src, dst, lambda Y: Y[:2], 2, ["a", "b"])


def _dask(src, dst):
    pytest.importorskip("dask")
    from deepunmix.engine.distributed import apply_distributed

    return apply_distributed(src, dst, np.sqrt, 2, ["a", "b"], bands=[1, 2])


# ---- class 1: every file an input consists of is an input, on the engine's routes
INPUT_FILES = [  # (id, make the input in a folder, the output's name in that folder)
    ("the ENVI header", _envi, "envi.hdr"),
    ("the ENVI data file itself", _envi, "envi.img"),
    ("the VRT's source", _vrt, "src.tif"),
    ("the VRT itself", _vrt, "v.vrt"),
    ("the input's .aux.xml", _envi, "envi.img.aux.xml"),
]


@pytest.mark.parametrize("route", [_blockwise, _dask], ids=["streamed (engine API)", "Dask"])
@pytest.mark.parametrize("make,name", [c[1:] for c in INPUT_FILES], ids=[c[0] for c in INPUT_FILES])
def test_an_output_on_any_file_of_the_input_is_refused(make, name, route, tmp_path):
    src = make(tmp_path)
    before = _digest(tmp_path)
    with pytest.raises(OutputError, match="is the input"):
        route(src, tmp_path / name)
    assert _digest(tmp_path) == before


def test_from_disk_fit_refuses_its_input_as_output_before_fitting(tmp_path):
    pytest.importorskip("torch")
    from deepunmix.engine.dip.from_disk import fit_tiles_from_disk
    from deepunmix.engine.dip.undip import UnDIP

    src = _envi(tmp_path)
    before = _digest(tmp_path)

    class Boom(UnDIP):
        def guidance(self, Y):
            raise AssertionError("fitting started")

    with pytest.raises(OutputError, match="its file envi.hdr"):
        fit_tiles_from_disk(Boom(endmembers=np.eye(4)[:, :2]), src, tmp_path / "envi.hdr", "a", np.ones((4, 10)))
    assert _digest(tmp_path) == before
