"""Outputs overlay their input in QGIS: same extent, same orientation, georeferenced or not."""

import numpy as np
import pytest


def _extent(path):
    from qgis.core import QgsRasterLayer

    layer = QgsRasterLayer(str(path), "x", "gdal")
    assert layer.isValid(), path
    e = layer.extent()
    return (e.xMinimum(), e.yMinimum(), e.xMaximum(), e.yMaximum()), layer.crs().authid()


@pytest.fixture
def imported(run_alg, tmp_path):
    """A cube imported from a .mat file, as a scientist gets one: no georeferencing at all."""
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    H, W, L, p = 7, 5, 12, 3
    A = rng.dirichlet(np.ones(p), H * W).T
    M = rng.uniform(0.1, 0.9, (L, p))
    savemat(tmp_path / "d.mat", {"V": M @ A, "nRow": H, "nCol": W, "A": A, "M": M})
    return run_alg(
        "deepunmix:import_mat",
        {
            "INPUT": str(tmp_path / "d.mat"),
            "OUTPUT_CUBE": str(tmp_path / "cube.tif"),
            "OUTPUT_REFERENCE_ABUNDANCES": str(tmp_path / "ref.tif"),
            "OUTPUT_REFERENCE_ENDMEMBERS": str(tmp_path / "ref.csv"),
        },
    )


def test_outputs_of_an_unreferenced_cube_overlay_it_in_qgis(run_alg, imported, tmp_path):
    from osgeo import gdal

    cube, ref = imported["OUTPUT_CUBE"], imported["OUTPUT_REFERENCE_ABUNDANCES"]
    res = run_alg(
        "deepunmix:fcls",
        {
            "INPUT": cube,
            "ENDMEMBERS": imported["OUTPUT_REFERENCE_ENDMEMBERS"],
            "OUTPUT_ABUNDANCES": str(tmp_path / "ab.tif"),
            "OUTPUT_ERROR": str(tmp_path / "err.tif"),
        },
    )
    want = _extent(cube)
    assert want[0] == (0.0, -7.0, 5.0, 0.0)  # QGIS's place for a raster without a geotransform
    for out in (ref, res["OUTPUT_ABUNDANCES"], res["OUTPUT_ERROR"]):
        assert _extent(out) == want, out
        assert gdal.Open(out).GetGeoTransform(can_return_null=True) is None, out


def test_outputs_of_a_georeferenced_cube_keep_its_geotransform_and_crs(run_alg, scene, tmp_path):
    from osgeo import gdal

    res = run_alg(
        "deepunmix:fcls",
        {"INPUT": scene["cube"], "ENDMEMBERS": scene["endmembers"], "OUTPUT_ABUNDANCES": str(tmp_path / "ab.tif")},
    )
    assert _extent(res["OUTPUT_ABUNDANCES"]) == _extent(scene["cube"])
    gt = gdal.Open(res["OUTPUT_ABUNDANCES"]).GetGeoTransform(can_return_null=True)
    assert gt == gdal.Open(scene["cube"]).GetGeoTransform(can_return_null=True)
