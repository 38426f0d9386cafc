"""Dask route: same output as the single-process blockwise apply."""

import functools
import pickle

import numpy as np
import pytest

pytest.importorskip("dask.array", reason="dask is not installed (pip install 'dask[array]' distributed)")

from deepunmix.engine.abundances.fcls import fcls
from deepunmix.engine.core.progress import Cancelled
from deepunmix.engine.io.blockwise import apply_blockwise
from deepunmix.engine.io.distributed import apply_distributed, fcls_func, plan_chunks, predictor, read_dask_array
from deepunmix.engine.io.raster import open_raster, read_raster

NAMES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def scene(tmp_path_factory, reflectance_geotiff):
    """A 20-band int16 'reflectance x 10000' raster with a nodata border; endmembers in reflectance."""
    path = tmp_path_factory.mktemp("dist") / "src.tif"
    return path, reflectance_geotiff(path, 0, 61, 47, nodata_rows=4, nodata_cols=2)


def _read(path):
    with open_raster(path) as ds:
        return ds.read(), list(ds.descriptions)


def test_dask_array_one_task_per_window(scene):
    path, _ = scene
    x = read_dask_array(path, chunk_rows=10, bands=[2, 3, 5])
    assert x.shape == (3, 61, 47) and x.numblocks == (1, 7, 1)
    ref = read_raster(path, bands=[2, 3, 5]).cube
    np.testing.assert_array_equal(np.isnan(x.compute(scheduler="sync")), np.isnan(ref))
    np.testing.assert_array_equal(np.nan_to_num(x.compute(scheduler="sync")), np.nan_to_num(ref))


def test_local_threads_match_blockwise(scene, tmp_path):
    path, E = scene
    bands = list(range(2, 21))
    func = fcls_func(E[1:])
    a = apply_blockwise(path, tmp_path / "a.tif", func, 3, NAMES, block_rows=8, bands=bands, scale=1e-4)
    b = apply_distributed(path, tmp_path / "b.tif", func, 3, NAMES, chunk_rows=13, bands=bands, scale=1e-4)
    (da_, _), (db, names) = _read(a), _read(b)
    np.testing.assert_allclose(db, da_, rtol=0, atol=1e-6)
    assert names == NAMES and (db == -9999).sum() == 3 * (4 * 47 + 57 * 2)
    ok = db[0] != -9999
    np.testing.assert_allclose(db[:, ok].sum(0), 1.0, atol=1e-5)


def test_plan_chunks_follow_tiles():
    # strips: whole rows within the budget
    assert plan_chunks(100, 50, (1, 50), 10, 2, chunk_bytes=50 * 10 * 14 * 30) == ((30, 30, 30, 10), (50,))
    # tiles whose full-width strip fits: rows rounded to the tile height
    rows, cols = plan_chunks(100, 64, (16, 16), 10, 2, chunk_bytes=64 * 10 * 14 * 40)
    assert rows == (32, 32, 32, 4) and cols == (64,)
    # a strip of tiles over budget: one tile row high, whole tiles wide
    rows, cols = plan_chunks(100, 64, (16, 16), 10, 2, chunk_bytes=16 * 10 * 14 * 40)
    assert rows == (16,) * 6 + (4,) and cols == (32, 32)
    assert plan_chunks(100, 64, (16, 16), 10, 2, chunk_rows=7)[1] == (64,)


def test_tiled_source_in_tile_chunks(scene, tmp_path):
    path, E = scene
    src = read_raster(path)
    tiled = tmp_path / "tiled.tif"
    with open_raster(path) as ds:
        prof = dict(ds.profile, tiled=True, blockxsize=16, blockysize=16)
        data = ds.read()
    with open_raster(tiled, "w", **prof) as ds:
        ds.write(data)
    func = fcls_func(E)
    budget = 20 * 14 * 16 * 32  # 20 int16 bands: two 16 x 16 tiles per chunk
    assert read_dask_array(tiled, chunk_bytes=budget).chunks[2] == (32, 15)
    a = apply_blockwise(path, tmp_path / "a.tif", func, 3, NAMES, scale=1e-4)
    b = apply_distributed(tiled, tmp_path / "b.tif", func, 3, NAMES, scale=1e-4, chunk_bytes=budget)
    np.testing.assert_allclose(_read(b)[0], _read(a)[0], rtol=0, atol=1e-6)
    assert src.mask.sum() == (_read(b)[0][0] != -9999).sum()


def test_cancel_leaves_no_output(scene, tmp_path):
    path, E = scene

    def stop(f, msg):
        if f > 0.3:
            raise Cancelled()

    with pytest.raises(Cancelled):
        apply_distributed(path, tmp_path / "x.tif", fcls_func(E), 3, NAMES, chunk_rows=5, scale=1e-4, progress=stop)
    assert list(tmp_path.iterdir()) == []


def test_predictor_is_picklable_and_light():
    class Model:
        def __init__(self):
            self.progress = lambda f, m: None  # unpicklable, like a QGIS feedback closure
            self.abundances_ = np.zeros((3, 500, 500), np.float32)
            self.E = np.eye(3)

        def predict_abundances(self, Y):
            return fcls(Y, self.E)

    m = Model()
    f = pytest.importorskip("cloudpickle").dumps(predictor(m))
    assert len(f) < 100_000 and m.progress is not None and hasattr(m, "abundances_")
    Y = np.random.default_rng(1).dirichlet(np.ones(3), 5).T
    np.testing.assert_allclose(pickle.loads(f)(Y), Y, atol=1e-9)
    with pytest.raises(TypeError):
        predictor(object())


@pytest.mark.timeout(60)
def test_local_cluster_two_processes_match_blockwise(scene, tmp_path):
    pytest.importorskip("distributed", reason="dask.distributed is not installed")
    from distributed import Client, LocalCluster

    path, E = scene
    func = functools.partial(fcls, E=E)
    a = apply_blockwise(path, tmp_path / "a.tif", func, 3, NAMES, scale=1e-4)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        b = apply_distributed(
            path, tmp_path / "b.tif", func, 3, NAMES, client=client, chunk_rows=6, scale=1e-4, max_in_flight=3
        )
        assert len(client.nthreads()) == 2
    (da_, _), (db, names) = _read(a), _read(b)
    np.testing.assert_allclose(db, da_, rtol=0, atol=1e-6)
    assert names == NAMES and np.isclose(db[0, 30, 20] + db[1, 30, 20] + db[2, 30, 20], 1.0, atol=1e-5)
