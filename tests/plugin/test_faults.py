"""Real-scene faults: each gives a clear error and no output, or is handled."""

import numpy as np
import pytest
from plugin_helpers import assert_sum_to_one, read
from qgis.core import QgsProcessingException


def _extract(run_alg, path, out, n=3, **extra):
    return run_alg(
        "deepunmix:extract_endmembers", {"INPUT": str(path), "N_ENDMEMBERS": n, "OUTPUT_ENDMEMBERS": str(out), **extra}
    )


def test_fewer_than_two_endmembers_is_refused(run_alg, scene):
    out = scene["dir"] / "e.csv"
    with pytest.raises(QgsProcessingException):
        _extract(run_alg, scene["cube"], out, n=1)
    assert not out.exists()


def test_constant_image(run_alg, tmp_path):
    from deepunmix.engine.io.raster import write_cube

    write_cube(str(tmp_path / "c.tif"), np.full((8, 6, 6), 0.3, dtype=np.float32))
    with pytest.raises(QgsProcessingException, match="constant"):
        _extract(run_alg, tmp_path / "c.tif", tmp_path / "e.csv")
    assert not (tmp_path / "e.csv").exists()


def test_all_nodata_image(run_alg, tmp_path):
    from deepunmix.engine.io.raster import write_cube

    write_cube(str(tmp_path / "n.tif"), np.full((8, 6, 6), np.nan, dtype=np.float32))
    with pytest.raises(QgsProcessingException, match="no valid pixel"):
        _extract(run_alg, tmp_path / "n.tif", tmp_path / "e.csv")


def test_nan_and_inf_pixels_are_skipped_and_written_as_nodata(run_alg, scene, tmp_path):
    from deepunmix.engine.io.raster import write_cube

    cube = scene["scene"].cube.copy()
    cube[:, 0, 0] = np.nan
    cube[3, 5, 7] = np.inf
    write_cube(str(tmp_path / "bad.tif"), cube, wavelengths=scene["scene"].wavelengths)
    res = run_alg(
        "deepunmix:fcls",
        {
            "INPUT": str(tmp_path / "bad.tif"),
            "ENDMEMBERS": scene["endmembers"],
            "OUTPUT_ABUNDANCES": str(tmp_path / "a.tif"),
        },
    )
    ab, _, _, nodata, _ = read(res["OUTPUT_ABUNDANCES"])
    assert nodata == -9999.0
    assert (ab[:, 0, 0] == nodata).all() and (ab[:, 5, 7] == nodata).all()
    assert_sum_to_one(ab)


def test_truncated_raster(run_alg, scene, tmp_path):
    data = open(scene["cube"], "rb").read()
    (tmp_path / "cut.tif").write_bytes(data[: len(data) // 3])
    with pytest.raises(QgsProcessingException):
        _extract(run_alg, tmp_path / "cut.tif", tmp_path / "e.csv")
    assert not (tmp_path / "e.csv").exists()


def test_output_folder_is_a_file(run_alg, scene, tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(QgsProcessingException, match="folder"):
        _extract(run_alg, scene["cube"], tmp_path / "afile" / "e.csv")


def test_cuda_requested_without_cuda(run_alg, scene):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = scene["dir"] / "a.tif"
    with pytest.raises(QgsProcessingException, match="CUDA"):
        run_alg(
            "deepunmix:ddica",
            {
                "INPUT": scene["cube"],
                "N_ENDMEMBERS": 3,
                "DEVICE": 1,
                "STEPS": 5,
                "OUTPUT_ABUNDANCES": str(out),
                "OUTPUT_ENDMEMBERS": str(scene["dir"] / "e.csv"),
            },
        )
    assert not out.exists()


def test_large_raster_is_sampled_and_streamed_within_budget(run_alg, tmp_path):
    """A raster over the memory budget: extraction fits on a sample, FCLS streams; truth is recovered."""
    from synthetic import make_mixed_scene, procedural_library

    from deepunmix.engine.io.endmember_csv import read_endmembers_csv
    from deepunmix.engine.io.raster import write_cube
    from deepunmix.engine.reporting.metrics import score_unmixing

    lib, wl, names = procedural_library(n_bands=64, n_spectra=6, random_state=0)
    s = make_mixed_scene(size=(300, 300), n_endmembers=3, library=lib, wavelengths=wl, names=names, random_state=0)
    write_cube(str(tmp_path / "big.tif"), s.cube, wavelengths=wl)  # 64 x 300 x 300 float32 = 22 MB
    feedback_log = []
    from qgis.core import QgsProcessingFeedback

    class Log(QgsProcessingFeedback):
        def pushInfo(self, info):
            feedback_log.append(info)

    res = run_alg(
        "deepunmix:minvol_nmf",
        {
            "INPUT": str(tmp_path / "big.tif"),
            "N_ENDMEMBERS": 3,
            "MEMORY_MB": 64,
            "MAX_ITER": 20,
            "OUTPUT_ABUNDANCES": str(tmp_path / "a.tif"),
            "OUTPUT_ENDMEMBERS": str(tmp_path / "e.csv"),
        },
        feedback=Log(),
    )
    assert any("random sample" in line for line in feedback_log)
    ab, *_ = read(res["OUTPUT_ABUNDANCES"])
    assert ab.shape == (3, 300, 300)
    assert_sum_to_one(ab)
    E = read_endmembers_csv(res["OUTPUT_ENDMEMBERS"]).matrix
    assert score_unmixing(s.endmembers, None, E, None)["asad"] < 5.0
