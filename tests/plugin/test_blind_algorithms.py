"""The blind unmixing algorithms end to end on a tiny raster (short trainings)."""

from pathlib import Path

import numpy as np
import pytest
from plugin_helpers import assert_sum_to_one, csv_rows, read
from qgis.core import QgsProcessingException, QgsProcessingFeedback

FAST = {
    "ddica": {"STEPS": 20, "RESTARTS": 2, "BATCH_SIZE": 64},
    "buddip": {"ITERATIONS": 30},
    "undip": {"ITERATIONS": 30},
    "minvol_nmf": {"MAX_ITER": 30},
}


@pytest.mark.parametrize("alg", sorted(FAST))
def test_blind_algorithm_outputs(run_alg, scene, alg):
    d = scene["dir"]
    params = {
        "INPUT": scene["cube"],
        "N_ENDMEMBERS": 3,
        "SEED": 0,
        **FAST[alg],
        "OUTPUT_ABUNDANCES": str(d / "a.tif"),
        "OUTPUT_ENDMEMBERS": str(d / "e.csv"),
        "OUTPUT_REPORT": str(d / "r.html"),
    }
    res = run_alg(f"deepunmix:{alg}", params)
    ab, transform, crs, _, names = read(res["OUTPUT_ABUNDANCES"])
    assert ab.shape == (3, 12, 12) and transform == scene["transform"] and crs == scene["crs"]
    assert_sum_to_one(ab)
    rows = csv_rows(res["OUTPUT_ENDMEMBERS"])
    assert rows[0][2:] == names and len(rows) == 21
    assert np.all(np.array([r[2:] for r in rows[1:]], dtype=float) >= 0)
    html = Path(res["OUTPUT_REPORT"]).read_text()
    assert html.count("data:image/png;base64,") == 2 and "Run time" in html
    assert ("Change from the starting point" in html) == (alg == "buddip")  # the only one with a first guess kept


def test_undip_with_endmember_csv(run_alg, scene):
    d = scene["dir"]
    res = run_alg(
        "deepunmix:undip",
        {
            "INPUT": scene["cube"],
            "ENDMEMBERS": scene["endmembers"],
            "ITERATIONS": 30,
            "OUTPUT_ABUNDANCES": str(d / "a.tif"),
            "OUTPUT_ENDMEMBERS": str(d / "e.csv"),
        },
    )
    E = np.array([r[2:] for r in csv_rows(res["OUTPUT_ENDMEMBERS"])[1:]], dtype=float)
    np.testing.assert_allclose(E, scene["scene"].endmembers, rtol=1e-5)


def test_deep_algorithm_cancel(run_alg, scene):
    feedback = QgsProcessingFeedback()
    feedback.progressChanged.connect(lambda _: feedback.cancel())
    out = scene["dir"] / "a.tif"
    with pytest.raises(QgsProcessingException, match="Cancel"):
        run_alg(
            "deepunmix:ddica",
            {
                "INPUT": scene["cube"],
                "N_ENDMEMBERS": 3,
                "STEPS": 500,
                "RESTARTS": 2,
                "OUTPUT_ABUNDANCES": str(out),
                "OUTPUT_ENDMEMBERS": str(scene["dir"] / "e.csv"),
            },
            feedback=feedback,
        )
    assert not out.exists()


def test_estimate_n_endmembers_output(run_alg, tmp_path):
    from synthetic import make_mixed_scene

    from deepunmix.engine.io.raster import write_cube

    s = make_mixed_scene(size=40, n_endmembers=4, snr_db=40, random_state=1)
    write_cube(str(tmp_path / "s.tif"), s.cube)
    res = run_alg(
        "deepunmix:estimate_n_endmembers",
        {"INPUT": str(tmp_path / "s.tif"), "METHOD": 0, "OUTPUT_REPORT": str(tmp_path / "n.html")},
    )
    assert res["N_ENDMEMBERS"] == 4
    assert "Number of endmembers: 4" in (tmp_path / "n.html").read_text()
    # the default method (endmembers for linear unmixing) and the cap
    res = run_alg(
        "deepunmix:estimate_n_endmembers", {"INPUT": str(tmp_path / "s.tif"), "OUTPUT_REPORT": str(tmp_path / "r.html")}
    )
    assert res["N_ENDMEMBERS"] == 4
    assert "reconstruction error" in (tmp_path / "r.html").read_text()
    res = run_alg("deepunmix:estimate_n_endmembers", {"INPUT": str(tmp_path / "s.tif"), "MAX_ENDMEMBERS": 3})
    assert res["N_ENDMEMBERS"] == 3


def test_estimate_n_endmembers_on_noise_returns_the_fewest_and_says_why(run_alg, tmp_path):
    from deepunmix.engine.io.raster import write_cube

    class Log(QgsProcessingFeedback):
        warnings = []

        def pushWarning(self, warning):
            Log.warnings.append(warning)

    rng = np.random.default_rng(0)
    write_cube(str(tmp_path / "n.tif"), (0.3 + 0.001 * rng.standard_normal((20, 16, 16))).astype(np.float32))
    res = run_alg("deepunmix:estimate_n_endmembers", {"INPUT": str(tmp_path / "n.tif"), "METHOD": 0}, feedback=Log())
    assert res["N_ENDMEMBERS"] == 2  # HySime finds 1 signal dimension in noise around a constant
    assert any("found 1 signal dimension(s): the data look like noise" in w for w in Log.warnings), Log.warnings


def _ica(run_alg, tmp_path, bands, feedback=None, **params):
    """Two independent non-Gaussian sources mixed into ``bands`` bands, separated by deepunmix:ica: (sources,
    components)."""
    from deepunmix.engine.io.raster import write_cube

    rng = np.random.default_rng(0)
    S = np.vstack([rng.laplace(size=400), rng.uniform(-1, 1, 400)])
    write_cube(str(tmp_path / "mix.tif"), (rng.normal(size=(bands, 2)) @ S).reshape(bands, 20, 20).astype(np.float32))
    params = {"INPUT": str(tmp_path / "mix.tif"), "N_COMPONENTS": 2, "OUTPUT": str(tmp_path / "ic.tif"), **params}
    ic = read(run_alg("deepunmix:ica", params, feedback=feedback)["OUTPUT"])[0]
    assert ic.shape == (2, 20, 20) and np.isfinite(ic).all()
    return S, ic


def test_ica_separates_components(run_alg, tmp_path):
    """Two independent non-Gaussian sources mixed into 6 bands come back as 2 components."""
    S, ic = _ica(run_alg, tmp_path, 6, STEPS=60, RESTARTS=2)
    corr = np.abs(np.corrcoef(np.vstack([ic.reshape(2, -1), S]))[:2, 2:])
    assert corr.max(axis=1).min() > 0.8  # each component matches one source


def test_ica_paper_variant_runs_the_papers_settings(run_alg, tmp_path):
    """VARIANT = paper reaches the engine's paper preset; empty RESTARTS/ALPHA take the variant's values."""
    from qgis.core import QgsProcessingFeedback

    from deepunmix.algorithms.engine_parameters import variant_table
    from deepunmix.engine.ddica.ica import DeepICA

    class Log(QgsProcessingFeedback):
        text = ""

        def pushInfo(self, info):
            Log.text += info + "\n"

    _ica(run_alg, tmp_path, 4, feedback=Log(), VARIANT=1, STEPS=2)
    paper = variant_table(DeepICA)["paper"]
    expected = (
        f"2 steps, {paper['n_restarts']} restart(s), alpha {paper['alpha']}, kernel width {paper['kernel_width']}"
    )
    assert f"variant 'paper': {expected}" in Log.text and f"batch {paper['batch_size']}" in Log.text
