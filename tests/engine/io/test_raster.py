import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin

from deepunmix.engine.io.raster import raster_info, read_raster, write_abundances, write_cube

L, H, W = 8, 13, 11
TRANSFORM = from_origin(500000.0, 4100000.0, 30.0, 30.0)
CRS32633 = CRS.from_epsg(32633)


def _cube(seed=0):
    return np.random.default_rng(seed).random((L, H, W)).astype(np.float32)


def test_cube_round_trip_with_georef_and_wavelengths(tmp_path):
    cube = _cube()
    wl = np.linspace(450.0, 900.0, L)
    f = write_cube(
        tmp_path / "c.tif", cube, TRANSFORM, CRS32633, wavelengths=wl, band_names=[f"b{i}" for i in range(L)]
    )
    r = read_raster(f)
    np.testing.assert_array_equal(r.cube, cube)
    assert r.mask.all() and r.mask.shape == (H, W)
    np.testing.assert_allclose(r.wavelengths, wl)
    assert r.band_names == [f"b{i}" for i in range(L)]
    assert r.transform == TRANSFORM and r.crs == CRS32633
    assert r.bad_bands is None
    assert not list(tmp_path.glob(".*partial*"))
    info = raster_info(f)
    assert (info.count, info.height, info.width) == (L, H, W)
    np.testing.assert_allclose(info.wavelengths, wl)


def test_nodata_rule_all_bands_or_nan(tmp_path):
    raw = (np.arange(L * H * W).reshape(L, H, W) % 200 + 1).astype(np.int16)
    raw[:, 0, 0] = -1  # nodata in all bands -> invalid
    raw[3, 1, 1] = -1  # nodata in one band only -> valid
    f = tmp_path / "i.tif"
    with rasterio.open(
        f, "w", driver="GTiff", width=W, height=H, count=L, dtype="int16", nodata=-1, transform=TRANSFORM, crs=CRS32633
    ) as d:
        d.write(raw)
    r = read_raster(f)
    assert r.cube.dtype == np.float32
    assert not r.mask[0, 0] and r.mask[1, 1] and r.mask.sum() == H * W - 1
    assert np.isnan(r.cube[:, 0, 0]).all()
    assert r.cube[3, 1, 1] == -1
    assert r.nodata == -1
    r2 = read_raster(f, use_nodata=False)
    assert r2.mask.all()


def test_nan_pixels_invalid_and_subset(tmp_path):
    cube = _cube(1)
    cube[2, 4, 5] = np.nan
    f = write_cube(tmp_path / "n.tif", cube, wavelengths=np.arange(L) * 0.1 + 0.4)  # micrometre-like values
    r = read_raster(f, bands=[2, 3, 5], window=(1, 2, 6, 7))
    assert r.cube.shape == (3, 6, 7)
    assert not r.mask[3, 3] and r.mask.sum() == 6 * 7 - 1
    np.testing.assert_array_equal(r.bands, [2, 3, 5])
    # values < 30 are taken as micrometres
    np.testing.assert_allclose(r.wavelengths, [500.0, 600.0, 800.0])
    np.testing.assert_array_equal(r.cube[:, 0, 0], cube[[1, 2, 4], 1, 2])


def test_envi_header_wavelengths_and_bbl(tmp_path):
    f = tmp_path / "e.img"
    with rasterio.open(
        f, "w", driver="ENVI", width=W, height=H, count=L, dtype="float32", transform=TRANSFORM, crs=CRS32633
    ) as d:
        d.write(_cube(2))
        d.update_tags(
            ns="ENVI",
            wavelength="{" + ", ".join(f"{0.4 + 0.05 * i:.2f}" for i in range(L)) + "}",
            wavelength_units="Micrometers",
            bbl="{" + ",".join(["1"] * (L - 1) + ["0"]) + "}",
        )
    assert (tmp_path / "e.hdr").exists()
    r = read_raster(f)
    np.testing.assert_allclose(r.wavelengths, 400 + 50 * np.arange(L))
    np.testing.assert_array_equal(r.bad_bands, [False] * (L - 1) + [True])
    np.testing.assert_allclose(r.cube, _cube(2))
    assert r.crs == CRS32633


def test_write_abundances_nodata_and_georef(tmp_path):
    like = read_raster(write_cube(tmp_path / "c.tif", _cube(), TRANSFORM, CRS32633))
    A = np.random.default_rng(0).dirichlet(np.ones(3), size=H * W).T.reshape(3, H, W).astype(np.float32)
    A[:, 0, 1] = np.nan
    mask = np.ones((H, W), bool)
    mask[5, 5] = False
    f = write_abundances(tmp_path / "a.tif", A, ["soil", "tree", "water"], like=like, mask=mask)
    with rasterio.open(f) as d:
        assert d.nodata == -9999.0 and d.count == 3 and d.dtypes[0] == "float32"
        assert d.descriptions == ("soil", "tree", "water")
        assert d.transform == TRANSFORM and d.crs == CRS32633
        data = d.read()
    assert (data[:, 0, 1] == -9999).all() and (data[:, 5, 5] == -9999).all()
    np.testing.assert_array_equal(data[:, 2, 2], A[:, 2, 2])
    back = read_raster(f)
    assert back.mask.sum() == H * W - 2
    # with a rasterio profile as 'like'
    write_abundances(tmp_path / "b.tif", A, ["a", "b", "c"], like=like.profile)
    assert read_raster(tmp_path / "b.tif").transform == TRANSFORM


def test_write_abundances_errors_leave_no_file(tmp_path):
    like = read_raster(write_cube(tmp_path / "c.tif", _cube()))
    with pytest.raises(ValueError):
        write_abundances(tmp_path / "a.tif", np.zeros((2, H, W)), ["x"], like=like)
    with pytest.raises(ValueError):
        write_abundances(tmp_path / "a.tif", np.zeros((2, H + 1, W)), ["x", "y"], like=like)
    assert not (tmp_path / "a.tif").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.tif"]


def test_overwrite_replaces_existing(tmp_path):
    f = tmp_path / "c.tif"
    write_cube(f, _cube(0))
    write_cube(f, _cube(5)[:4], band_names=list("abcd"))
    r = read_raster(f)
    assert r.cube.shape[0] == 4 and r.band_names == list("abcd")


def test_scale_offset_applied(tmp_path):
    f = tmp_path / "s.tif"
    raw = np.full((2, 3, 4), 5000, dtype=np.int16)
    with rasterio.open(f, "w", driver="GTiff", width=4, height=3, count=2, dtype="int16") as d:
        d.write(raw)
        d.scales = (1e-4, 1e-4)
        d.offsets = (0.0, 0.1)
    r = read_raster(f)
    np.testing.assert_allclose(r.cube[0], 0.5, rtol=1e-6)
    np.testing.assert_allclose(r.cube[1], 0.6, rtol=1e-6)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        read_raster("/nonexistent/x.tif")


def test_wavelengths_from_imagery_domain_and_dataset_tags(tmp_path):
    f1, f2 = tmp_path / "im.tif", tmp_path / "ds.tif"
    with rasterio.open(f1, "w", driver="GTiff", width=3, height=2, count=2, dtype="float32") as d:
        d.write(np.ones((2, 2, 3), "float32"))
        d.update_tags(1, ns="IMAGERY", CENTRAL_WAVELENGTH_UM="0.45")
        d.update_tags(2, ns="IMAGERY", CENTRAL_WAVELENGTH_UM="0.55")
    with rasterio.open(f2, "w", driver="GTiff", width=3, height=2, count=2, dtype="float32") as d:
        d.write(np.ones((2, 2, 3), "float32"))
        d.update_tags(wavelength="{1000, 2000}", wavelength_units="Nanometers", bbl="{0, 1}")
    np.testing.assert_allclose(read_raster(f1).wavelengths, [450.0, 550.0])
    r = read_raster(f2)
    np.testing.assert_allclose(r.wavelengths, [1000.0, 2000.0])
    np.testing.assert_array_equal(r.bad_bands, [True, False])


def test_max_bytes_guard(tmp_path):
    f = write_cube(tmp_path / "c.tif", _cube())
    with pytest.raises(ValueError, match="limit"):
        read_raster(f, max_bytes=L * H * W * 4 - 1)
    assert read_raster(f, max_bytes=L * H * W * 4).cube.shape == (L, H, W)


def test_read_valid_pixels_equals_read_block(tmp_path):
    """The fast gather used for streaming gives read_block's values, for integer and float files."""
    import rasterio

    from deepunmix.engine.io.raster import open_raster, read_block, read_valid_pixels

    rng = np.random.default_rng(5)
    for dtype, nodata in (("uint16", 0), ("float64", -1.0)):
        data = (rng.random((4, 9, 7)) * 10000).astype(dtype)
        data[:, 2, 3] = nodata
        path = tmp_path / f"{dtype}.tif"
        with rasterio.open(path, "w", driver="GTiff", width=7, height=9, count=4, dtype=dtype, nodata=nodata) as ds:
            ds.write(data)
            ds.scales, ds.offsets = [1e-4] * 4, [0.01] * 4
        with open_raster(path) as ds:
            cube, valid = read_block(ds)
            Y, valid2 = read_valid_pixels(ds)
        assert not valid[2, 3] and (valid == valid2).all()
        assert Y.dtype == np.float64 and Y.shape == (4, valid.sum())
        np.testing.assert_array_equal(Y, cube[:, valid].astype(np.float64))


def test_wrong_length_bbl_is_refused(tmp_path):
    from deepunmix.engine.core.errors import InputError

    f = tmp_path / "e.img"
    with rasterio.open(f, "w", driver="ENVI", width=W, height=H, count=L, dtype="float32") as d:
        d.write(_cube(2))
        d.update_tags(ns="ENVI", bbl="{" + ",".join(["1"] * (L - 2)) + "}")
    with pytest.raises(InputError, match=f"bbl.*{L - 2} entries for {L} bands"):
        raster_info(f)


def test_complex_raster_is_refused(tmp_path):
    from deepunmix.engine.core.errors import InputError

    f = tmp_path / "c.tif"
    with rasterio.open(f, "w", driver="GTiff", width=4, height=4, count=3, dtype="complex64") as d:
        d.write((np.ones((3, 4, 4)) * (1 + 2j)).astype(np.complex64))
    with pytest.raises(InputError, match="complex"):
        raster_info(f)
    with pytest.raises(InputError, match="complex"):
        read_raster(f)


@pytest.mark.parametrize("ext,driver", [(".tif", "GTiff"), (".tiff", "GTiff"), (".img", "HFA")])
def test_output_format_follows_the_extension(tmp_path, ext, driver):
    f = write_abundances(tmp_path / f"a{ext}", np.full((2, 5, 6), 0.5, np.float32), ["a", "b"])
    with rasterio.open(f) as ds:
        assert ds.driver == driver and ds.count == 2
        np.testing.assert_allclose(ds.read(), 0.5)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".nc", ".xyz", ".weird"])
def test_unwritable_output_format_is_refused(tmp_path, ext):
    from deepunmix.engine.core.errors import OutputError

    with pytest.raises(OutputError, match="use .tif"):
        write_abundances(tmp_path / f"a{ext}", np.full((2, 5, 6), 0.5, np.float32), ["a", "b"])
    assert not list(tmp_path.iterdir())
