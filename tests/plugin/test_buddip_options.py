"""deepunmix:buddip and undip options reach the estimator: first-guess refinement, the network's abundances,
the variants; an empty field is the variant's value."""

import numpy as np
import pytest
from plugin_helpers import dialog_estimator, unmix
from qgis.core import QgsProcessingException


def test_buddip_paper_guidance_and_network_abundances(run_alg, scene):
    base = {"INPUT": scene["cube"], "N_ENDMEMBERS": 3, "SEED": 0, "ITERATIONS": 5}
    default = unmix(run_alg, "buddip", base, scene["dir"], "a")
    paper = {**base, "PURIFY": 0.0, "EXPAND": 0, "NETWORK_ABUNDANCES": True}
    paper = unmix(run_alg, "buddip", paper, scene["dir"], "p")
    assert paper.shape == default.shape == (3, 12, 12)
    assert not np.allclose(paper, default, atol=1e-3)


def test_buddip_rejects_a_purify_fraction_of_one(run_alg, scene):
    with pytest.raises(QgsProcessingException, match="purify"):
        unmix(run_alg, "buddip", {"INPUT": scene["cube"], "N_ENDMEMBERS": 3, "PURIFY": 1.0}, scene["dir"], "x")


@pytest.mark.parametrize("alg_id, variant", [("buddip", 1), ("buddip", 2), ("undip", 1)])
def test_paper_and_authors_code_variants_run(run_alg, scene, alg_id, variant):
    params = {"INPUT": scene["cube"], "N_ENDMEMBERS": 3, "SEED": 0, "ITERATIONS": 2, "VARIANT": variant}
    assert unmix(run_alg, alg_id, params, scene["dir"], f"{alg_id}{variant}").shape == (3, 12, 12)


def test_buddip_variant_settings_reach_the_engine(deepunmix):
    from deepunmix.algorithms.buddip import BUDDIPUnmixing

    model = dialog_estimator("buddip", VARIANT=1)
    assert model.variant == "paper" and model.n_iter is None and model.alpha1 is None
    assert model.final_abundances is None and model.min_volume is None  # empty: the variant's
    model = dialog_estimator("buddip", ALPHA1=0.1, ITERATIONS=7, NETWORK_ABUNDANCES=True, MIN_VOLUME=30)
    assert (model.variant, model.alpha1, model.n_iter, model.final_abundances) == ("default", 0.1, 7, "adip")
    assert model.min_volume == 30.0
    alg = BUDDIPUnmixing()
    alg.initAlgorithm()
    assert alg.parameterDefinition("MIN_VOLUME").minimum() == 0  # the engine's range: >= 0
