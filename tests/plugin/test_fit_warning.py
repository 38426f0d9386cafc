"""The fit warning on real scenes: quiet on an ordinary fit, names a scale mismatch as one."""

import os

import numpy as np
import pytest
from qgis.core import QgsProcessingFeedback

from deepunmix.engine.io.matfile import default_data_dir

DATA = str(default_data_dir())
pytestmark = pytest.mark.skipif(not os.path.isdir(DATA), reason="no shared data")


def _fcls_log(run_alg, cube, csv, out):
    feedback = QgsProcessingFeedback()
    run_alg("deepunmix:fcls", {"INPUT": cube, "ENDMEMBERS": csv, "OUTPUT_ABUNDANCES": out}, feedback)
    return feedback.textLog()


def test_an_ordinary_samson_fit_is_not_flagged(run_alg, tmp_path):
    """SiVM's 3 endmembers on Samson leave 10x the noise: spectral variability, once flagged as a missing material."""
    res = run_alg(
        "deepunmix:import_mat",
        {"INPUT": f"{DATA}/samson/samson_1.mat", "OUTPUT_CUBE": str(tmp_path / "samson.tif")},
    )
    csv = run_alg(
        "deepunmix:extract_endmembers",
        {"INPUT": res["OUTPUT_CUBE"], "N_ENDMEMBERS": 3, "METHOD": 1, "OUTPUT_ENDMEMBERS": str(tmp_path / "e.csv")},
    )["OUTPUT_ENDMEMBERS"]
    log = _fcls_log(run_alg, res["OUTPUT_CUBE"], csv, str(tmp_path / "a.tif"))
    assert "Reconstruction RMSE" in log
    assert "poor fit" not in log.lower() and "mismatch" not in log.lower()


def test_raw_jasper_counts_with_a_reflectance_csv_is_a_scale_mismatch(run_alg, tmp_path):
    """Jasper Ridge's raw counts (0..5437) against its reference endmembers in 0..0.63, as the import once left them.

    With no units stated the CSV is refused before the fit, naming the factor; with a sidecar that wrongly claims
    the raster's units the fit runs and its warning says scale mismatch, not a missing material.
    """
    from qgis.core import QgsProcessingException

    from deepunmix.engine.io.endmember_csv import write_endmembers_csv
    from deepunmix.engine.io.matfile import load_mat_dataset
    from deepunmix.engine.io.raster import write_cube
    from deepunmix.engine.io.scaling import units_comment

    ds = load_mat_dataset(f"{DATA}/jasper_ridge/jasperRidge2_R198.mat", f"{DATA}/jasper_ridge/end4.mat")
    write_cube(str(tmp_path / "raw.tif"), ds.cube)
    write_endmembers_csv(str(tmp_path / "ref.csv"), ds.endmembers, ds.names)  # no units stated
    with pytest.raises(QgsProcessingException, match="states no units.*give SCALE"):
        _fcls_log(run_alg, str(tmp_path / "raw.tif"), str(tmp_path / "ref.csv"), str(tmp_path / "a.tif"))
    write_endmembers_csv(
        str(tmp_path / "claimed.csv"), ds.endmembers, ds.names, comment=units_comment(1.0, "wrongly claimed")
    )
    log = _fcls_log(run_alg, str(tmp_path / "raw.tif"), str(tmp_path / "claimed.csv"), str(tmp_path / "b.tif"))
    assert "Scale mismatch: the pixels are" in log
    assert "material may be missing" not in log
    assert np.isfinite(float(log.split("Reconstruction RMSE (every 16th pixel): ")[1].split()[0]))
