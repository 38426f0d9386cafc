"""Import a .mat dataset with its scale and band facts, so its reference applies to its cube."""

import re

import numpy as np
import pytest
from plugin_helpers import read
from qgis.core import QgsProcessingFeedback

from deepunmix.engine.io.matfile import default_data_dir

JASPER = str(default_data_dir() / "jasper_ridge")


def _import(run_alg, folder, image, truth=None):
    params = {
        "INPUT": str(image),
        "OUTPUT_CUBE": str(folder / "cube.tif"),
        "OUTPUT_REFERENCE_ABUNDANCES": str(folder / "ref.tif"),
        "OUTPUT_REFERENCE_ENDMEMBERS": str(folder / "ref.csv"),
    }
    if truth:
        params["TRUTH"] = str(truth)
    feedback = QgsProcessingFeedback()
    return run_alg("deepunmix:import_mat", params, feedback), feedback.textLog()


def _fcls_rmse(run_alg, folder, res):
    feedback = QgsProcessingFeedback()
    run_alg(
        "deepunmix:fcls",
        {
            "INPUT": res["OUTPUT_CUBE"],
            "ENDMEMBERS": res["OUTPUT_REFERENCE_ENDMEMBERS"],
            "OUTPUT_ABUNDANCES": str(folder / "fcls.tif"),
        },
        feedback,
    )
    return float(re.search(r"Reconstruction RMSE \(every 16th pixel\): (\S+)", feedback.textLog()).group(1))


def _jasper_like(tmp_path, peak_normalised=False, max_value=True):
    """A Zhu-format file as Jasper Ridge's: integer counts, 'maxValue', 'SlectBands' out of 'nBand'."""
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    H, W, L, p = 10, 8, 24, 3
    A = rng.dirichlet(np.ones(p), H * W).T
    M = rng.uniform(0.1, 1.0, (L, p)) * [0.6, 0.3, 0.06]  # a dark third material, as water
    Y = np.round(5000 * (M @ A)).astype(np.uint16)
    bands = np.arange(3, 3 + L)[:, None].astype(float)  # the sensor's bands 3..26 of 30
    ref = M / M.max(axis=0) if peak_normalised else M
    image = {"Y": Y, "nRow": H, "nCol": W, "SlectBands": bands, "nBand": 30}
    savemat(tmp_path / "img.mat", {**image, "maxValue": 5000.0} if max_value else image)
    savemat(tmp_path / "gt.mat", {"A": A, "M": ref, "cood": np.array(["a", "b", "c"], dtype=object)})
    return tmp_path / "img.mat", tmp_path / "gt.mat"


def test_import_applies_max_value_and_keeps_sensor_band_numbers(run_alg, tmp_path):
    from deepunmix.engine.io.endmember_csv import read_endmembers_csv

    res, log = _import(run_alg, tmp_path, *_jasper_like(tmp_path))
    cube, _, _, _, names = read(res["OUTPUT_CUBE"])
    assert 0.01 < cube.max() <= 0.6  # Y / maxValue, not the raw counts
    assert names[0] == "Sensor band 3 of 30" and names[-1] == "Sensor band 26 of 30"
    assert "maxValue 5000" in log
    assert "scale=1.0" in read_endmembers_csv(res["OUTPUT_REFERENCE_ENDMEMBERS"]).comment
    assert _fcls_rmse(run_alg, tmp_path, res) < 1e-3  # the reference rebuilds the cube (rounding only)


def test_without_max_value_the_reference_csv_states_the_cube_factor(run_alg, tmp_path):
    res, log = _import(run_alg, tmp_path, *_jasper_like(tmp_path, max_value=False))
    assert "the cube is about 5000 times endmembers x abundances" in log
    assert _fcls_rmse(run_alg, tmp_path, res) < 1e-3  # FCLS applies the stated factor to the cube


def test_import_names_a_per_endmember_normalisation(run_alg, tmp_path):
    res, log = _import(run_alg, tmp_path, *_jasper_like(tmp_path, peak_normalised=True))
    assert "Scale mismatch: each reference endmember has its own normalisation" in log


@pytest.mark.skipif(not __import__("os").path.isdir(JASPER), reason="no shared Jasper Ridge data")
def test_jasper_reference_fits_the_imported_cube(run_alg, tmp_path):
    """A scientist's first check: FCLS of the cube with its reference (RMSE 1581 before the import applied maxValue)."""
    res, log = _import(run_alg, tmp_path, f"{JASPER}/jasperRidge2_R198.mat", f"{JASPER}/end4.mat")
    assert "Scale mismatch" not in log
    rmse = _fcls_rmse(run_alg, tmp_path, res)
    print("Jasper FCLS with its reference: RMSE", rmse)
    assert rmse < 0.1
