"""Fault injection on the engine's own routes (the API a script calls, and Dask's ``engine.io.distributed``): the
guarantees hold there too, not only behind the QGIS algorithms (``tests/plugin/test_fault_injection.py``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from deepunmix.engine.core.errors import OutputError


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
    from deepunmix.engine.io.distributed import apply_distributed

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


# ---- class 4: nothing silently wrong, for input formats
def _gtiff(path, cube, **kw):
    import rasterio

    L, H, W = cube.shape
    with rasterio.open(path, "w", driver="GTiff", width=W, height=H, count=L, dtype=cube.dtype, **kw) as ds:
        ds.write(cube)
    return path


def _cube(L=6, H=10, W=12, seed=0):
    return np.random.default_rng(seed).uniform(0.1, 0.9, (L, H, W)).astype(np.float32)


def test_a_geotiff_mask_band_excludes_its_pixels(tmp_path):
    import rasterio

    from deepunmix.engine.io.blockwise import sample_valid_pixels
    from deepunmix.engine.io.raster import read_raster

    cube = _cube()
    path = _gtiff(tmp_path / "m.tif", cube)
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "r+") as ds:
        mask = np.full((10, 12), 255, np.uint8)
        mask[2:5, 3:9] = 0
        ds.write_mask(mask)
    r = read_raster(path)
    assert (r.mask == (mask > 0)).all() and np.isnan(r.cube[:, ~r.mask]).all()
    Y, rc = sample_valid_pixels(path, 1000)
    assert Y.shape[1] == int((mask > 0).sum()) and not any(mask[r_, c_] == 0 for r_, c_ in rc)


def test_an_alpha_band_is_a_mask_not_a_spectral_band(tmp_path):
    from rasterio.enums import ColorInterp

    from deepunmix.engine.io.fitting import load_for_fitting
    from deepunmix.engine.io.raster import raster_info

    cube = _cube()
    alpha = np.full((1, 10, 12), 255, np.float32)
    alpha[0, :3] = 0
    path = tmp_path / "a.tif"
    import rasterio

    with rasterio.open(path, "w", driver="GTiff", width=12, height=10, count=7, dtype="float32") as ds:
        ds.colorinterp = [ColorInterp.gray] * 6 + [ColorInterp.alpha]  # before the pixels: in the TIFF itself
        ds.write(np.concatenate([cube, alpha]))
    assert list(raster_info(path).bad_bands) == [False] * 6 + [True]
    data = load_for_fitting(str(path))
    assert list(data.bands) == [1, 2, 3, 4, 5, 6]
    assert not data.mask[:3].any() and data.mask[3:].all()


def test_a_pixel_at_nodata_in_all_bands_but_one_is_nodata(tmp_path):
    from deepunmix.engine.io.raster import read_raster

    cube = _cube()
    cube[:-1, 4, 4] = -9999  # an edge pixel of a reprojected scene: one band still has a value
    cube[0, 6, 6] = -9999  # a real value can hit nodata in one band: kept
    r = read_raster(_gtiff(tmp_path / "n.tif", cube, nodata=-9999))
    assert not r.mask[4, 4] and r.mask[6, 6]


def test_a_truncated_envi_file_is_refused(tmp_path):
    from deepunmix.engine.core.errors import InputError
    from deepunmix.engine.io.raster import raster_info, read_raster

    path = _envi(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])  # an interrupted copy
    for read in (raster_info, read_raster):
        with pytest.raises(InputError, match="cut short"):
            read(path)


def test_a_single_1e30_pixel_is_refused_before_fitting(tmp_path):
    from deepunmix.engine.core.errors import InputError
    from deepunmix.engine.io.fitting import load_for_fitting

    cube = _cube()
    cube[:, 5, 5] = 1e30
    with pytest.raises(InputError, match=r"1 pixel\(s\) hold values up to 1e\+30"):
        load_for_fitting(str(_gtiff(tmp_path / "x.tif", cube)))
    with pytest.raises(InputError, match="1e\\+30"):  # the sampled route (over the budget) too
        load_for_fitting(str(_gtiff(tmp_path / "y.tif", np.tile(cube, (1, 100, 100)))), memory_mb=64)


def test_an_endmember_csv_without_units_in_other_units_is_refused(tmp_path):
    from deepunmix.engine.core.errors import InputError
    from deepunmix.engine.io.scaling import choose_scale

    E = np.random.default_rng(0).uniform(0.05, 0.6, (20, 3))
    raster = np.random.default_rng(1).uniform(500, 6000, (20, 50))  # reflectance x 10000
    with pytest.raises(InputError, match="states no units.*give SCALE"):
        choose_scale(None, None, E, raster)
    assert choose_scale(None, None, E, raster * 1e-4)[0] == 1.0  # same units: used as is
    assert choose_scale(1e-4, None, E, raster)[0] == 1e-4  # the user's SCALE settles it


def test_dask_route_leaves_out_the_envi_bad_bands(tmp_path):
    pytest.importorskip("dask")
    import rasterio

    from deepunmix.engine.io.distributed import apply_distributed

    cube = _cube(L=4)
    with rasterio.open(tmp_path / "b.img", "w", driver="ENVI", width=12, height=10, count=4, dtype="float32") as ds:
        ds.write(cube)
        ds.update_tags(ns="ENVI", bbl="{1, 0, 1, 0}")
    seen = []

    def bands_seen(Y):
        seen.append(Y.shape[0])
        return Y[:1]

    apply_distributed(tmp_path / "b.img", tmp_path / "o.tif", bands_seen, 1, ["a"])
    assert set(seen) == {2}


def test_dask_route_refuses_a_format_it_would_not_write(tmp_path):
    from deepunmix.engine.io.distributed import apply_distributed

    src = _gtiff(tmp_path / "s.tif", _cube())
    with pytest.raises(OutputError, match="use .tif"):
        apply_distributed(src, tmp_path / "o.png", np.sqrt, 6, list("abcdef"))
    assert not (tmp_path / "o.png").exists()


# ---- class 3: cancel means stop, on the engine's routes
class _CancelAfter:
    """A progress callback that records its calls and raises Cancelled at call number ``n``."""

    def __init__(self, n):
        self.n, self.calls = n, []

    def __call__(self, fraction, message=""):
        from deepunmix.engine.core.progress import Cancelled

        self.calls.append((fraction, message))
        if len(self.calls) >= self.n:
            raise Cancelled()


def test_endmember_count_reports_progress_and_stops_on_cancel():
    from synthetic import make_mixed_scene

    from deepunmix.engine.core.progress import Cancelled
    from deepunmix.engine.count.estimate import EndmemberCountEstimator

    s = make_mixed_scene(size=20, n_endmembers=4, random_state=0)
    stop = _CancelAfter(4)
    with pytest.raises(Cancelled):
        EndmemberCountEstimator(max_endmembers=8, progress=stop).fit(s.cube)
    assert len(stop.calls) == 4 and 0 < stop.calls[-1][0] < 1  # stopped inside the count, not after it


def test_mat_import_reports_progress_per_variable_and_stops_on_cancel(tmp_path):
    import scipy.io as sio

    from deepunmix.engine.core.progress import Cancelled
    from deepunmix.engine.io.matfile import load_mat_dataset

    rng = np.random.default_rng(0)
    sio.savemat(tmp_path / "d.mat", {"V": rng.random((6, 20)), "nRow": 4, "nCol": 5, "M": rng.random((6, 3))})
    stop = _CancelAfter(3)
    with pytest.raises(Cancelled):
        load_mat_dataset(tmp_path / "d.mat", progress=stop)
    assert [m for _, m in stop.calls][:3] == ["reading d.mat", "reading V", "reading nRow"]


@pytest.mark.parametrize("cluster", [False, True], ids=["local threads", "distributed client"])
def test_dask_route_reports_progress_while_computing_and_cancels(cluster, tmp_path):
    """One chunk that takes 2 s: progress comes while it computes, and a cancel then stops the run at once
    (it used to come only once the chunk, or the whole batch, was done)."""
    pytest.importorskip("dask")
    import time

    from deepunmix.engine.core.progress import Cancelled
    from deepunmix.engine.io.distributed import apply_distributed

    src = _gtiff(tmp_path / "s.tif", _cube(L=4, H=16, W=16))

    def slow(Y):
        time.sleep(2.0)
        return Y[:1]

    client = None
    if cluster:
        distributed = pytest.importorskip("distributed")
        client = distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None)
    try:
        stop = _CancelAfter(2)  # the first call says "starting"; the second comes while the chunk computes
        started = time.perf_counter()
        with pytest.raises(Cancelled):
            apply_distributed(src, tmp_path / "o.tif", slow, 1, ["a"], client=client, progress=stop)
        took = time.perf_counter() - started
    finally:
        if client is not None:
            client.close()
    assert took < 1.5, f"the cancel took {took:.1f} s"
    time.sleep(2.0)  # the chunk still running in a worker thread finishes and is dropped
    assert [p.name for p in tmp_path.iterdir()] == ["s.tif"]


# ---- class 5: memory checked before allocation, and the settings it depends on validated
@pytest.mark.parametrize("value", ["abc", "0", "-1", "2.5", " "])
def test_a_bad_torch_thread_count_is_refused_with_a_message(value, monkeypatch):
    from deepunmix.engine.core.errors import ParameterError
    from deepunmix.engine.core.torch_support import cpu_threads

    monkeypatch.setenv("DEEPUNMIX_TORCH_THREADS", value)
    if not value.strip():  # empty: the default
        assert cpu_threads() >= 1
        return
    with pytest.raises(ParameterError, match="DEEPUNMIX_TORCH_THREADS must be a positive whole number"):
        cpu_threads()


def test_more_torch_threads_than_cores_are_capped_with_a_warning(monkeypatch):
    import os

    from deepunmix.engine.core.torch_support import cpu_threads

    monkeypatch.setenv("DEEPUNMIX_TORCH_THREADS", "1000")
    with pytest.warns(UserWarning, match="more than this machine's"):
        assert cpu_threads() == (os.cpu_count() or 2)


@pytest.mark.parametrize("container", ["plain", "cell", "struct", "struct in a cell"])
def test_a_mat_array_inside_a_cell_or_struct_is_counted_before_loading(container, tmp_path):
    """20 x 2 000 000 uint8 (40 MB stored, compressed to a few kB), plain or inside a container, against a 64 MB
    budget: refused before anything is decompressed."""
    import scipy.io as sio

    from deepunmix.engine.core.errors import MemoryBudgetError
    from deepunmix.engine.io.matfile import load_mat_dataset

    big = np.zeros((20, 2_000_000), np.uint8)
    wrapped = {
        "plain": big,
        "cell": np.array([big, None], dtype=object)[:1],
        "struct": {"Y": big},
        "struct in a cell": np.array([{"Y": big}], dtype=object),
    }[container]
    sio.savemat(tmp_path / "c.mat", {"V": np.ones((4, 4)), "extra": wrapped}, do_compression=True)
    assert (tmp_path / "c.mat").stat().st_size < 1_000_000
    with pytest.raises(MemoryBudgetError, match="c.mat.*MEMORY_MB"):
        load_mat_dataset(tmp_path / "c.mat", max_bytes=64 * 2**20)


# ---- class 6: messages, not tracebacks, and never a crash
@pytest.mark.parametrize("compress", [True, False], ids=["compressed", "plain"])
@pytest.mark.parametrize("depth", [5000, 60])
def test_deeply_nested_mat_cells_are_refused_without_crashing(depth, compress, tmp_path):
    """scipy's reader recurses in C: 5 000 nested cells killed the process (segmentation fault). Checked in a
    child process, so a crash fails this test instead of ending the test run."""
    import subprocess
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "io"))
    from hostile_mat import mat_file, nested_cells

    path = mat_file(tmp_path / "deep.mat", nested_cells(depth), compress=compress)
    code = (
        "import sys\nfrom deepunmix.engine.io.matfile import load_mat_dataset\n"
        "try:\n    load_mat_dataset(sys.argv[1])\nexcept Exception as e:\n    print(type(e).__name__, e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"the reader crashed: {out.returncode} {out.stderr[-500:]}"
    assert "InputError deep.mat nests cells/structs more than 50 deep" in out.stdout


def test_shallow_nesting_still_loads(tmp_path):
    import scipy.io as sio

    from deepunmix.engine.io.matfile import load_mat_dataset

    V = np.random.default_rng(0).random((6, 20))
    sio.savemat(tmp_path / "ok.mat", {"V": V, "nRow": 4, "nCol": 5, "meta": {"a": [np.ones(3)], "b": "x"}})
    assert load_mat_dataset(tmp_path / "ok.mat").cube.shape == (6, 4, 5)


MAT_CASES = {  # the variables, and the message
    "size as text": ({"V": np.ones((6, 20)), "nRow": "abc", "nCol": 5}, "nRow is text"),
    "negative sizes": ({"V": np.ones((6, 20)), "nRow": -4, "nCol": -5}, "nRow should be one positive whole number"),
    "sizes that do not hold the pixels": ({"V": np.ones((6, 20)), "nRow": 3, "nCol": 5}, "20 pixels, not the 3 x 5"),
    "image in a struct": ({"V": {"a": np.ones((6, 20))}, "nRow": 4, "nCol": 5}, "V is a struct"),
    "image in a cell": ({"Y": np.array([np.ones((6, 16))], dtype=object)}, "Y is a cell, struct or object"),
    "image as text": ({"Y": "hello"}, "Y is text"),
    "complex image": ({"Y": np.ones((6, 16)) * 1j}, "not a numeric array"),
    "no image variable": ({"foo": np.zeros(3)}, "no image variable"),
    "corrupt file": (b"MATLAB 5.0 MAT-file" + bytes(range(256)) * 2, "not a readable"),
}


@pytest.mark.parametrize("case", list(MAT_CASES))
def test_hostile_mat_variables_give_messages(case, tmp_path):
    import scipy.io as sio

    from deepunmix.engine.core.errors import InputError
    from deepunmix.engine.io.matfile import load_mat_dataset

    variables, match = MAT_CASES[case]
    if isinstance(variables, bytes):
        (tmp_path / "h.mat").write_bytes(variables)
    else:
        sio.savemat(tmp_path / "h.mat", variables)
    with pytest.raises(InputError, match=match):
        load_mat_dataset(tmp_path / "h.mat")


def test_a_matlab_object_as_the_image_gives_a_message(tmp_path):
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "io"))
    from hostile_mat import mat_file, matlab_object

    from deepunmix.engine.core.errors import InputError
    from deepunmix.engine.io.matfile import load_mat_dataset

    with pytest.raises(InputError, match="the variable Y is"):
        load_mat_dataset(mat_file(tmp_path / "o.mat", matlab_object("Y")))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig", "cp1252"])
def test_endmember_csvs_in_other_encodings_are_read(encoding, tmp_path):
    import warnings

    from deepunmix.engine.io.endmember_csv import read_endmembers_csv

    (tmp_path / "e.csv").write_bytes("band,wavelength,Sol é,Tree\n1,400,0.1,0.2\n2,500,0.2,0.3\n".encode(encoding))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        table = read_endmembers_csv(tmp_path / "e.csv")
    assert table.names == ["Sol é", "Tree"] and table.matrix.shape == (2, 2)


@pytest.mark.parametrize(
    "names",
    [["$\\frac{1}{", "b", "c"], ["a$b$c", "$$", "100$"], ["x" * 70_000, "_hidden", "c"]],
    ids=["unbalanced mathtext", "dollar signs", "70 000 characters and a leading underscore"],
)
def test_report_draws_any_endmember_name(names, tmp_path):
    from deepunmix.engine.reporting.report import write_report

    rng = np.random.default_rng(0)
    write_report(str(tmp_path / "r.html"), "run", rng.random((20, 3)), names, abundances=rng.random((3, 10, 10)))
    text = (tmp_path / "r.html").read_text()
    assert "data:image/png;base64," in text and names[1].replace("$", "") in text.replace("$", "")


@pytest.mark.parametrize("kind", ["empty", "text", "cut short", "missing"])
def test_unreadable_rasters_are_explained(kind, tmp_path):
    from deepunmix.engine.io.raster import unreadable_message, write_cube

    path = tmp_path / "in.tif"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("this is a text file, saved under a raster's name\n" * 5)
    elif kind == "cut short":
        write_cube(path, np.random.default_rng(0).random((8, 64, 64)).astype(np.float32), compress=None)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    expected = {"empty": "is empty", "text": "is a text file", "cut short": "cut short", "missing": "not found"}
    assert expected[kind] in unreadable_message(path)
