"""deepunmix:ddica advanced options reach the estimator: brightness normalisation, refinement, convention."""
import numpy as np
from plugin_helpers import assert_sum_to_one, read


def test_ddica_pixel_norm_refine_and_variance_weight(run_alg, scene):
    d = scene["dir"]
    base = {"INPUT": scene["cube"], "N_ENDMEMBERS": 3, "SEED": 0, "STEPS": 20, "RESTARTS": 2, "BATCH_SIZE": 64,
            "OUTPUT_ENDMEMBERS": str(d / "e.csv")}
    plain = read(run_alg("deepunmix:ddica", {**base, "OUTPUT_ABUNDANCES": str(d / "plain.tif")})["OUTPUT_ABUNDANCES"])[0]
    paper = read(run_alg("deepunmix:ddica", {**base, "REFINE": False,
                                             "OUTPUT_ABUNDANCES": str(d / "paper.tif")})["OUTPUT_ABUNDANCES"])[0]
    opts = read(run_alg("deepunmix:ddica", {**base, "PIXEL_NORM": True, "VARIANCE_WEIGHT": 1.0, "PURIFY": 0.1,
                                            "EXPAND": 0, "OUTPUT_ABUNDANCES": str(d / "opts.tif")})["OUTPUT_ABUNDANCES"])[0]
    for maps in (plain, paper, opts):
        assert maps.shape == (3, 12, 12)
        assert_sum_to_one(maps)
        assert np.all(maps >= -1e-6)
    assert not np.allclose(opts, plain, atol=1e-3)
    assert not np.allclose(paper, plain, atol=1e-3)


def test_ddica_peak_normalised_convention(run_alg, scene):
    d = scene["dir"]
    out = run_alg("deepunmix:ddica", {"INPUT": scene["cube"], "N_ENDMEMBERS": 3, "SEED": 0, "STEPS": 20,
                                      "RESTARTS": 2, "BATCH_SIZE": 64, "ABUNDANCE_CONVENTION": 1,
                                      "OUTPUT_ABUNDANCES": str(d / "peak.tif"), "OUTPUT_ENDMEMBERS": str(d / "peak.csv")})
    maps = read(out["OUTPUT_ABUNDANCES"])[0]
    assert_sum_to_one(maps)
    from deepunmix.engine.io.endmember_csv import read_endmembers_csv

    np.testing.assert_allclose(read_endmembers_csv(out["OUTPUT_ENDMEMBERS"]).matrix.max(axis=0), 1.0, atol=1e-5)
