"""Endmember CSV rows reach the right raster bands whatever their order; bbl and output formats are honoured."""

import numpy as np
import pytest
import rasterio
from plugin_helpers import read


def _reversed_csv(scene, with_wavelengths=True):
    from deepunmix.engine.io.endmember_csv import read_endmembers_csv, write_endmembers_csv

    t = read_endmembers_csv(scene["endmembers"])
    path = scene["dir"] / "reversed.csv"
    write_endmembers_csv(
        path, t.matrix[::-1], t.names, t.wavelengths[::-1] if with_wavelengths else None, bands=t.bands[::-1]
    )
    return str(path)


@pytest.mark.parametrize("with_wavelengths", [True, False])
def test_fcls_with_a_reversed_csv_gives_the_same_abundances(run_alg, scene, with_wavelengths):
    d = scene["dir"]
    run_alg(
        "deepunmix:fcls",
        {"INPUT": scene["cube"], "ENDMEMBERS": scene["endmembers"], "OUTPUT_ABUNDANCES": str(d / "a.tif")},
    )
    run_alg(
        "deepunmix:fcls",
        {
            "INPUT": scene["cube"],
            "ENDMEMBERS": _reversed_csv(scene, with_wavelengths),
            "OUTPUT_ABUNDANCES": str(d / "b.tif"),
        },
    )
    a, b = read(str(d / "a.tif"))[0], read(str(d / "b.tif"))[0]
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(a, scene["scene"].abundances, atol=1e-3)


def test_evaluate_identical_spectra_in_reverse_order_score_zero(run_alg, scene):
    res = run_alg(
        "deepunmix:evaluate",
        {
            "ABUNDANCES": scene["truth"],
            "REFERENCE_ABUNDANCES": scene["truth"],
            "ENDMEMBERS": _reversed_csv(scene),
            "REFERENCE_ENDMEMBERS": scene["endmembers"],
            "OUTPUT_TABLE": str(scene["dir"] / "t.csv"),
        },
    )
    assert res["ASAD"] == pytest.approx(0.0, abs=1e-3)


def test_undip_uses_csv_rows_by_band_not_position(run_alg, scene):
    d = scene["dir"]
    common = {"INPUT": scene["cube"], "ITERATIONS": 3, "SEED": 1}
    run_alg(
        "deepunmix:undip",
        {
            **common,
            "ENDMEMBERS": scene["endmembers"],
            "OUTPUT_ABUNDANCES": str(d / "a.tif"),
            "OUTPUT_ENDMEMBERS": str(d / "ea.csv"),
        },
    )
    run_alg(
        "deepunmix:undip",
        {
            **common,
            "ENDMEMBERS": _reversed_csv(scene),
            "OUTPUT_ABUNDANCES": str(d / "b.tif"),
            "OUTPUT_ENDMEMBERS": str(d / "eb.csv"),
        },
    )
    np.testing.assert_allclose(read(str(d / "a.tif"))[0], read(str(d / "b.tif"))[0], atol=1e-6)


def test_fcls_honours_the_envi_bad_band_list(run_alg, scene):
    """Band 3 is garbage and marked bad in the ENVI header: FCLS leaves it out and recovers the truth."""
    s = scene["scene"]
    cube = s.cube.copy()
    cube[2] = 1e4
    path = scene["dir"] / "bbl.img"
    with rasterio.open(
        path, "w", driver="ENVI", width=cube.shape[2], height=cube.shape[1], count=cube.shape[0], dtype="float32"
    ) as ds:
        ds.write(cube)
        ds.update_tags(
            ns="ENVI",
            bbl="{" + ",".join("0" if i == 2 else "1" for i in range(cube.shape[0])) + "}",
            wavelength="{" + ",".join(f"{w:g}" for w in s.wavelengths) + "}",
            wavelength_units="nm",
        )
    res = run_alg(
        "deepunmix:fcls",
        {"INPUT": str(path), "ENDMEMBERS": scene["endmembers"], "OUTPUT_ABUNDANCES": str(scene["dir"] / "a.tif")},
    )
    np.testing.assert_allclose(read(res["OUTPUT_ABUNDANCES"])[0], s.abundances, atol=1e-3)


def test_img_output_is_written_as_erdas_imagine(run_alg, scene):
    res = run_alg(
        "deepunmix:fcls",
        {"INPUT": scene["cube"], "ENDMEMBERS": scene["endmembers"], "OUTPUT_ABUNDANCES": str(scene["dir"] / "a.img")},
    )
    with rasterio.open(res["OUTPUT_ABUNDANCES"]) as ds:
        assert ds.driver == "HFA" and ds.count == 3
