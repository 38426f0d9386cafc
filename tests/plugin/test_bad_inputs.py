"""Bad inputs raise a clear QgsProcessingException and write no output."""

import numpy as np
import pytest
from qgis.core import QgsProcessingException, QgsProcessingFeedback


def _single_band(path):
    from deepunmix.engine.io.raster import write_cube

    write_cube(str(path), np.random.default_rng(0).random((1, 6, 6)).astype(np.float32))
    return str(path)


def test_single_band_raster(run_alg, tmp_path):
    out = tmp_path / "e.csv"
    with pytest.raises(QgsProcessingException, match="band"):
        run_alg(
            "deepunmix:extract_endmembers",
            {"INPUT": _single_band(tmp_path / "one.tif"), "N_ENDMEMBERS": 2, "OUTPUT_ENDMEMBERS": str(out)},
        )
    assert not out.exists()


@pytest.mark.parametrize("n", [21, 1000])
def test_too_many_endmembers(run_alg, scene, n):
    out = scene["dir"] / "e.csv"
    with pytest.raises(QgsProcessingException, match=str(n)):
        run_alg(
            "deepunmix:extract_endmembers", {"INPUT": scene["cube"], "N_ENDMEMBERS": n, "OUTPUT_ENDMEMBERS": str(out)}
        )
    assert not out.exists()


@pytest.mark.parametrize(
    "content,match",
    [
        (None, "not"),  # missing file
        ("band,wavelength,a,b\n1,400,x,0.2\n", "not a number"),  # malformed cell
        ("band,wavelength,a,b\n25,,0.1,0.2\n", "band"),  # band count mismatch, band 25 not in the raster
        ("band,wavelength,a,b\n1,5000,0.1,0.2\n", "wavelength"),  # wavelength not in the raster
    ],
)
def test_bad_endmember_csv(run_alg, scene, content, match):
    csv_path = scene["dir"] / "bad.csv"
    if content is not None:
        csv_path.write_text(content)
    out = scene["dir"] / "a.tif"
    with pytest.raises(QgsProcessingException, match=match):
        run_alg("deepunmix:fcls", {"INPUT": scene["cube"], "ENDMEMBERS": str(csv_path), "OUTPUT_ABUNDANCES": str(out)})
    assert not out.exists()


def test_cancel_writes_no_output(run_alg, scene):
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    out = scene["dir"] / "a.tif"
    with pytest.raises(QgsProcessingException, match="Cancel"):
        run_alg(
            "deepunmix:fcls",
            {"INPUT": scene["cube"], "ENDMEMBERS": scene["endmembers"], "OUTPUT_ABUNDANCES": str(out)},
            feedback=feedback,
        )
    assert not out.exists()
    assert not list(scene["dir"].glob("a*.tif*"))


def test_missing_output_folder(run_alg, scene):
    out = scene["dir"] / "no" / "such" / "a.tif"
    with pytest.raises(QgsProcessingException, match="folder"):
        run_alg(
            "deepunmix:fcls", {"INPUT": scene["cube"], "ENDMEMBERS": scene["endmembers"], "OUTPUT_ABUNDANCES": str(out)}
        )
