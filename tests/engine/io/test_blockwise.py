import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin

from deepunmix.engine.core.progress import Cancelled
from deepunmix.engine.io.blockwise import apply_blockwise, iter_valid_pixels, sample_valid_pixels
from deepunmix.engine.io.raster import read_raster, write_cube

L, H, W = 8, 13, 11
TRANSFORM = from_origin(300000.0, 5000000.0, 10.0, 10.0)


@pytest.fixture()
def src(tmp_path):
    cube = np.random.default_rng(0).random((L, H, W)).astype(np.float32)
    cube[:, 2, 3] = np.nan
    mask = np.ones((H, W), bool)
    mask[7, 0] = False
    return write_cube(tmp_path / "src.tif", cube, TRANSFORM, CRS.from_epsg(32632), mask=mask)


def _func(Y):
    # any per-pixel function; two outputs
    return np.stack([Y.sum(0), Y[0] - Y[1]])


def test_blockwise_equals_in_memory(src, tmp_path):
    ref = read_raster(src)
    expected = np.full((2, H, W), np.nan, np.float32)
    expected[:, ref.mask] = _func(ref.cube[:, ref.mask].astype(np.float64))
    calls = []
    out = apply_blockwise(
        src, tmp_path / "out.tif", _func, 2, ["sum", "diff"], block_rows=4, progress=lambda f, m: calls.append(f)
    )
    got = read_raster(out)
    np.testing.assert_array_equal(got.mask, ref.mask)
    np.testing.assert_allclose(got.cube, expected, rtol=1e-6, equal_nan=True)
    assert got.band_names == ["sum", "diff"] and got.transform == TRANSFORM and got.crs == ref.crs
    with rasterio.open(out) as d:
        assert d.nodata == -9999.0 and d.read(1)[2, 3] == -9999.0
    assert len(calls) == 1 + 4 and calls[-1] == 1.0 and calls == sorted(calls)


def test_block_size_from_bytes(src, tmp_path):
    # a byte budget of about 3 rows -> several blocks, same result
    out = apply_blockwise(src, tmp_path / "o.tif", _func, 2, ["a", "b"], max_block_bytes=3 * W * L * 16)
    a = read_raster(out).cube
    b = read_raster(apply_blockwise(src, tmp_path / "p.tif", _func, 2, ["a", "b"], block_rows=H)).cube
    np.testing.assert_array_equal(a, b)


def test_cancel_leaves_no_output(src, tmp_path):
    def cancel_on_second(frac, msg):
        if frac > 0.3:
            raise Cancelled()

    with pytest.raises(Cancelled):
        apply_blockwise(src, tmp_path / "c.tif", _func, 2, ["a", "b"], block_rows=4, progress=cancel_on_second)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.tif"]


def test_func_error_keeps_existing_output(src, tmp_path):
    dst = tmp_path / "keep.tif"
    dst.write_bytes(b"old")
    with pytest.raises(ValueError, match="func returned shape"):
        apply_blockwise(src, dst, lambda Y: Y[:1], 2, ["a", "b"], block_rows=5)
    assert dst.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.tif", "src.tif"]


def test_iter_valid_pixels_covers_all(src):
    ref = read_raster(src)
    blocks = list(iter_valid_pixels(src, block_rows=5, bands=[1, 3]))
    assert [b.row_off for b in blocks] == [0, 5, 10]
    Y = np.concatenate([b.Y for b in blocks], axis=1)
    np.testing.assert_allclose(Y, ref.cube[[0, 2]][:, ref.mask])


def test_sample_valid_pixels(src):
    ref = read_raster(src)
    Y, rc = sample_valid_pixels(src, 30, random_state=1, block_rows=3)
    assert Y.shape == (L, 30) and rc.shape == (30, 2)
    assert len({tuple(x) for x in rc}) == 30 and ref.mask[rc[:, 0], rc[:, 1]].all()
    np.testing.assert_allclose(Y, ref.cube[:, rc[:, 0], rc[:, 1]])
    Y2, rc2 = sample_valid_pixels(src, 30, random_state=1, block_rows=3)
    np.testing.assert_array_equal(rc, rc2)
    Yall, rcall = sample_valid_pixels(src, 10**6, block_rows=4)
    assert Yall.shape[1] == ref.mask.sum()


def test_tiled_input_uses_tile_windows(tmp_path):
    from deepunmix.engine.io.blockwise import plan_windows

    rng = np.random.default_rng(3)
    cube = rng.random((3, 40, 50)).astype(np.float32)
    cube[:, 17, 33] = -1.0
    f = tmp_path / "tiled.tif"
    with rasterio.open(
        f,
        "w",
        driver="GTiff",
        width=50,
        height=40,
        count=3,
        dtype="float32",
        nodata=-1.0,
        tiled=True,
        blockxsize=16,
        blockysize=16,
        transform=TRANSFORM,
    ) as d:
        d.write(cube)
    budget = 16 * 16 * 3 * 16 * 2  # about two tiles
    with rasterio.open(f) as d:
        wins, tiles = plan_windows(d, 3, max_block_bytes=budget)
    assert tiles == (16, 16) and all(w.height <= 16 and w.width <= 32 for w in wins)
    out = apply_blockwise(f, tmp_path / "o.tif", lambda Y: Y[:2] * 2, 2, ["a", "b"], max_block_bytes=budget)
    got = read_raster(out)
    assert not got.mask[17, 33] and got.mask.sum() == 40 * 50 - 1
    np.testing.assert_allclose(got.cube[:, got.mask], 2 * cube[:2][:, got.mask])
    with rasterio.open(out) as d:
        assert d.block_shapes[0] == (16, 16)
    Y, rc = sample_valid_pixels(f, 40 * 50, max_block_bytes=budget)
    assert Y.shape[1] == 40 * 50 - 1
    np.testing.assert_allclose(Y, cube[:, rc[:, 0], rc[:, 1]])


def test_envi_source_bands_and_scale(tmp_path):
    rng = np.random.default_rng(4)
    raw = rng.integers(1, 10000, size=(5, 9, 7)).astype(np.int16)
    raw[:, 4, 4] = 0
    f = tmp_path / "e.img"
    with rasterio.open(f, "w", driver="ENVI", width=7, height=9, count=5, dtype="int16", nodata=0) as d:
        d.write(raw)
    out = apply_blockwise(f, tmp_path / "o.tif", lambda Y: Y, 2, ["b2", "b4"], bands=[2, 4], scale=1e-4, block_rows=2)
    got = read_raster(out)
    assert not got.mask[4, 4] and got.mask.sum() == 62
    np.testing.assert_allclose(got.cube[:, got.mask], raw[[1, 3]][:, got.mask] * 1e-4, rtol=1e-6)
    with pytest.raises(ValueError, match="outside"):
        apply_blockwise(f, tmp_path / "x.tif", lambda Y: Y, 1, ["a"], bands=[6])
