"""The pixel tool's logic without a GUI: locate, read, match bands, unmix, RMSE."""

import numpy as np
import pytest
from rasterio.transform import from_origin
from synthetic import make_mixed_scene, procedural_library

from deepunmix.engine.core.errors import InputError
from deepunmix.engine.io.endmember_csv import read_endmembers_csv, write_endmembers_csv
from deepunmix.engine.io.raster import write_cube
from deepunmix.engine.io.scaling import units_comment, units_from_comment
from deepunmix.engine.reporting.pixel_spectrum import explain_pixel, pixel_at, read_pixel, unmix_pixel


@pytest.fixture
def scene(tmp_path):
    lib, wl, names = procedural_library(n_bands=16, n_spectra=5, random_state=1)
    s = make_mixed_scene(
        size=(5, 7), n_endmembers=3, library=lib, wavelengths=wl, names=names, snr_db=None, random_state=2
    )
    path = tmp_path / "scene.tif"
    write_cube(str(path), s.cube, transform=from_origin(1000.0, 2000.0, 10.0, 10.0), wavelengths=s.wavelengths)
    return s, str(path)


def test_pixel_at_follows_the_extent_and_refuses_outside():
    # 7 columns x 5 rows of 10 m pixels, upper-left corner (1000, 2000)
    args = dict(x_min=1000.0, y_max=2000.0, pixel_width=10.0, pixel_height=10.0, width=7, height=5)
    assert pixel_at(1000.0, 2000.0, **args) == (0, 0)
    assert pixel_at(1069.9, 1950.1, **args) == (4, 6)
    assert pixel_at(1015.0, 1975.0, **args) == (2, 1)
    assert pixel_at(1070.0, 1990.0, **args) is None  # right edge belongs to no pixel
    assert pixel_at(1005.0, 1950.0, **args) is None
    assert pixel_at(999.9, 1990.0, **args) is None


def test_read_pixel_reads_the_right_row_and_column(scene):
    s, path = scene
    values, valid = read_pixel(path, 3, 5)
    assert valid
    np.testing.assert_allclose(values, s.cube[:, 3, 5], rtol=1e-6)
    values, _ = read_pixel(path, 3, 5, bands=[2, 9])
    np.testing.assert_allclose(values, s.cube[[1, 8], 3, 5], rtol=1e-6)
    with pytest.raises(InputError, match="outside"):
        read_pixel(path, 5, 0)


def test_unmix_pixel_recovers_a_mixture_and_its_error():
    E = np.array([[0.1, 0.8, 0.3], [0.5, 0.2, 0.3], [0.9, 0.1, 0.6], [0.2, 0.4, 0.9]])
    a_true = np.array([0.2, 0.5, 0.3])
    a, recon, rmse = unmix_pixel(E @ a_true, E)
    np.testing.assert_allclose(a, a_true, atol=1e-9)
    np.testing.assert_allclose(recon, E @ a_true, atol=1e-9)
    assert rmse < 1e-9
    # a spectrum twice as bright lies outside the simplex: a real error, abundances still sum to one
    a, recon, rmse = unmix_pixel(2 * E @ a_true, E)
    assert a.min() >= 0 and a.sum() == pytest.approx(1.0)
    assert rmse == pytest.approx(np.sqrt(np.mean((2 * E @ a_true - recon) ** 2)))
    assert rmse > 0.1
    with pytest.raises(InputError, match="bands"):
        unmix_pixel(np.ones(3), E)


def test_explain_pixel_with_the_true_endmembers_gives_the_true_abundances(scene, tmp_path):
    s, path = scene
    csv = write_endmembers_csv(tmp_path / "e.csv", s.endmembers, s.names, wavelengths=s.wavelengths)
    out = explain_pixel(path, 4, 2, read_endmembers_csv(csv))
    assert out.valid and out.names == list(s.names)
    np.testing.assert_allclose(out.abundances, s.abundances[:, 4, 2], atol=1e-5)
    np.testing.assert_allclose(out.reconstruction, s.cube[:, 4, 2], atol=1e-5)
    assert out.rmse < 1e-5
    np.testing.assert_allclose(out.wavelengths, s.wavelengths)
    np.testing.assert_array_equal(out.bands, np.arange(1, 17))


def test_explain_pixel_matches_a_band_subset_by_band_number_and_applies_the_csv_scale(scene, tmp_path):
    """Endmembers from bands 3-14 of a reflectance x 10000 raster, without wavelengths: bands by number,
    values scaled by the CSV's stated scale."""
    s, _ = scene
    path = tmp_path / "scene_uint16.tif"
    write_cube(str(path), np.round(s.cube * 10000), transform=from_origin(0, 0, 1, 1), dtype="uint16")
    keep = np.arange(3, 15)
    csv = write_endmembers_csv(
        tmp_path / "sub.csv", s.endmembers[keep - 1], s.names, bands=keep, comment=units_comment(1e-4, "test")
    )
    out = explain_pixel(str(path), 1, 6, read_endmembers_csv(csv))
    np.testing.assert_array_equal(out.bands, keep)
    assert out.scale == pytest.approx(1e-4) and out.wavelengths is None
    np.testing.assert_allclose(out.spectrum, np.round(s.cube[keep - 1, 1, 6] * 10000) * 1e-4, atol=1e-9)
    np.testing.assert_allclose(out.abundances, s.abundances[:, 1, 6], atol=2e-3)
    assert out.rmse < 1e-4


def test_explain_pixel_without_endmembers_and_at_nodata(scene, tmp_path):
    s, path = scene
    out = explain_pixel(path, 0, 0)
    assert out.abundances is None and out.rmse is None and len(out.spectrum) == 16
    np.testing.assert_allclose(out.spectrum, s.cube[:, 0, 0], rtol=1e-6)
    mask = np.ones(s.cube.shape[1:], dtype=bool)
    mask[2, 3] = False
    holey = tmp_path / "holey.tif"
    write_cube(str(holey), s.cube, mask=mask, wavelengths=s.wavelengths)
    csv = write_endmembers_csv(tmp_path / "e.csv", s.endmembers, s.names, wavelengths=s.wavelengths)
    out = explain_pixel(str(holey), 2, 3, read_endmembers_csv(csv))
    assert not out.valid and out.abundances is None and np.all(np.isnan(out.spectrum))


def test_explain_pixel_refuses_endmembers_of_another_sensor(scene, tmp_path):
    s, path = scene
    csv = write_endmembers_csv(tmp_path / "e.csv", np.ones((30, 2)), ["a", "b"])  # 30 bands, raster 16
    with pytest.raises(ValueError, match="names bands 17, 18, 19, 20, 21"):
        explain_pixel(path, 0, 0, read_endmembers_csv(csv))


def test_units_from_comment():
    assert units_from_comment(units_comment(1e-4, "detected")) == "reflectance (input / 10000)"
    assert units_from_comment(units_comment(1.0, "float data")) == "input units"
    assert units_from_comment(None) is None and units_from_comment("no units here") is None
