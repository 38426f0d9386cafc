"""deepunmix:buddip advanced options reach the estimator: first-guess refinement and the network's abundances."""
import numpy as np
import pytest
from plugin_helpers import assert_sum_to_one, read
from qgis.core import QgsProcessingException


def test_buddip_paper_guidance_and_network_abundances(run_alg, scene):
    d = scene["dir"]
    base = {"INPUT": scene["cube"], "N_ENDMEMBERS": 3, "SEED": 0, "ITERATIONS": 5,
            "OUTPUT_ENDMEMBERS": str(d / "e.csv")}
    default = read(run_alg("deepunmix:buddip", {**base, "OUTPUT_ABUNDANCES": str(d / "a.tif")})["OUTPUT_ABUNDANCES"])[0]
    paper = read(run_alg("deepunmix:buddip", {**base, "PURIFY": 0.0, "EXPAND": 0, "NETWORK_ABUNDANCES": True,
                                              "OUTPUT_ABUNDANCES": str(d / "p.tif")})["OUTPUT_ABUNDANCES"])[0]
    assert paper.shape == default.shape == (3, 12, 12)
    assert_sum_to_one(paper)
    assert np.all(paper >= -1e-6)
    assert not np.allclose(paper, default, atol=1e-3)


def test_buddip_rejects_a_purify_fraction_of_one(run_alg, scene):
    with pytest.raises(QgsProcessingException, match="purify"):
        run_alg("deepunmix:buddip", {"INPUT": scene["cube"], "N_ENDMEMBERS": 3, "ITERATIONS": 2, "PURIFY": 1.0,
                                     "OUTPUT_ABUNDANCES": str(scene["dir"] / "x.tif"),
                                     "OUTPUT_ENDMEMBERS": str(scene["dir"] / "x.csv")})
