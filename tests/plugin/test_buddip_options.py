"""deepunmix:buddip advanced options reach the estimator: first-guess refinement and the network's abundances."""

import numpy as np
import pytest
from plugin_helpers import assert_sum_to_one, read
from qgis.core import QgsProcessingException


def test_buddip_paper_guidance_and_network_abundances(run_alg, scene):
    d = scene["dir"]
    base = {
        "INPUT": scene["cube"],
        "N_ENDMEMBERS": 3,
        "SEED": 0,
        "ITERATIONS": 5,
        "OUTPUT_ENDMEMBERS": str(d / "e.csv"),
    }
    default = read(run_alg("deepunmix:buddip", {**base, "OUTPUT_ABUNDANCES": str(d / "a.tif")})["OUTPUT_ABUNDANCES"])[0]
    paper = read(
        run_alg(
            "deepunmix:buddip",
            {**base, "PURIFY": 0.0, "EXPAND": 0, "NETWORK_ABUNDANCES": True, "OUTPUT_ABUNDANCES": str(d / "p.tif")},
        )["OUTPUT_ABUNDANCES"]
    )[0]
    assert paper.shape == default.shape == (3, 12, 12)
    assert_sum_to_one(paper)
    assert np.all(paper >= -1e-6)
    assert not np.allclose(paper, default, atol=1e-3)


def test_buddip_rejects_a_purify_fraction_of_one(run_alg, scene):
    with pytest.raises(QgsProcessingException, match="purify"):
        run_alg(
            "deepunmix:buddip",
            {
                "INPUT": scene["cube"],
                "N_ENDMEMBERS": 3,
                "ITERATIONS": 2,
                "PURIFY": 1.0,
                "OUTPUT_ABUNDANCES": str(scene["dir"] / "x.tif"),
                "OUTPUT_ENDMEMBERS": str(scene["dir"] / "x.csv"),
            },
        )


@pytest.mark.parametrize("variant", [1, 2])
def test_buddip_paper_and_authors_code_variants_run(run_alg, scene, variant):
    d = scene["dir"]
    res = run_alg(
        "deepunmix:buddip",
        {
            "INPUT": scene["cube"],
            "N_ENDMEMBERS": 3,
            "SEED": 0,
            "ITERATIONS": 2,
            "VARIANT": variant,
            "OUTPUT_ABUNDANCES": str(d / f"v{variant}.tif"),
            "OUTPUT_ENDMEMBERS": str(d / f"v{variant}.csv"),
        },
    )
    maps = read(res["OUTPUT_ABUNDANCES"])[0]
    assert maps.shape == (3, 12, 12)
    assert_sum_to_one(maps)
    assert np.all(maps >= -1e-6)


def test_buddip_variant_settings_reach_the_engine(deepunmix):
    from qgis.core import QgsProcessingContext

    from deepunmix.algorithms.buddip import BUDDIPUnmixing

    alg = BUDDIPUnmixing()
    alg.initAlgorithm()
    ctx = QgsProcessingContext()
    kw = alg.extra_kwargs({"VARIANT": 1, "EXTRACTOR": 0}, ctx)
    assert kw["variant"] == "paper" and "n_iter" not in kw and "alpha1" not in kw and "final_abundances" not in kw
    kw = alg.extra_kwargs(
        {"VARIANT": 0, "EXTRACTOR": 0, "ALPHA1": 0.1, "ITERATIONS": 7, "NETWORK_ABUNDANCES": True}, ctx
    )
    assert (kw["variant"], kw["alpha1"], kw["n_iter"], kw["final_abundances"]) == ("default", 0.1, 7, "adip")
    assert "min_volume" not in kw  # empty: the variant's (0, off)
    kw = alg.extra_kwargs({"VARIANT": 0, "EXTRACTOR": 0, "MIN_VOLUME": 30}, ctx)
    assert kw["min_volume"] == 30.0
    assert alg.parameterDefinition("MIN_VOLUME").minimum() == 0  # the engine's range: >= 0


def test_undip_paper_variant_runs(run_alg, scene):
    d = scene["dir"]
    res = run_alg(
        "deepunmix:undip",
        {
            "INPUT": scene["cube"],
            "N_ENDMEMBERS": 3,
            "SEED": 0,
            "ITERATIONS": 2,
            "VARIANT": 1,
            "OUTPUT_ABUNDANCES": str(d / "u.tif"),
            "OUTPUT_ENDMEMBERS": str(d / "u.csv"),
        },
    )
    maps = read(res["OUTPUT_ABUNDANCES"])[0]
    assert maps.shape == (3, 12, 12)
    assert_sum_to_one(maps)
