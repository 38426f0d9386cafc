"""deepunmix:ddica advanced options reach the estimator: brightness normalisation, FCLS refinement, variance weight."""
import numpy as np
from plugin_helpers import assert_sum_to_one, read


def test_ddica_pixel_norm_refine_and_variance_weight(run_alg, scene):
    d = scene["dir"]
    base = {"INPUT": scene["cube"], "N_ENDMEMBERS": 3, "SEED": 0, "STEPS": 20, "RESTARTS": 2, "BATCH_SIZE": 64,
            "OUTPUT_ENDMEMBERS": str(d / "e.csv")}
    plain = read(run_alg("deepunmix:ddica", {**base, "OUTPUT_ABUNDANCES": str(d / "plain.tif")})["OUTPUT_ABUNDANCES"])[0]
    opts = read(run_alg("deepunmix:ddica", {**base, "PIXEL_NORM": True, "REFINE": True, "VARIANCE_WEIGHT": 1.0,
                                            "OUTPUT_ABUNDANCES": str(d / "opts.tif")})["OUTPUT_ABUNDANCES"])[0]
    assert opts.shape == plain.shape == (3, 12, 12)
    assert_sum_to_one(opts)
    assert np.all(opts >= -1e-6)
    assert not np.allclose(opts, plain, atol=1e-3)
