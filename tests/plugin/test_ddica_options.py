"""deepunmix:ddica advanced options reach the estimator: brightness normalisation, refinement, convention, variants;
an empty field is the variant's value."""

import numpy as np
from plugin_helpers import dialog_estimator, unmix


def test_ddica_pixel_norm_refine_and_variance_weight(run_alg, scene):
    base = {"INPUT": scene["cube"], "N_ENDMEMBERS": 3, "SEED": 0, "STEPS": 20, "RESTARTS": 2, "BATCH_SIZE": 64}
    d = scene["dir"]
    plain = unmix(run_alg, "ddica", base, d, "plain")
    paper = unmix(run_alg, "ddica", {**base, "NETWORK_MAPS": True}, d, "paper")
    nnls = unmix(run_alg, "ddica", {**base, "PURIFY": 0.0}, d, "nnls")  # NNLS endmembers of the maps
    refine = unmix(run_alg, "ddica", {**base, "REFINE": True}, d, "refine")  # the default's own output
    opts = {**base, "PIXEL_NORM": True, "VARIANCE_WEIGHT": 1.0, "PURIFY": 0.1, "EXPAND": 0}
    opts = unmix(run_alg, "ddica", opts, d, "opts")
    for maps in (plain, paper, opts, nnls, refine):
        assert maps.shape == (3, 12, 12)
    assert not np.allclose(opts, plain, atol=1e-3)
    assert not np.allclose(paper, plain, atol=1e-3)
    assert not np.allclose(nnls, plain, atol=1e-3)
    np.testing.assert_allclose(refine, plain, atol=1e-5)


def test_ddica_peak_normalised_convention(run_alg, scene):
    from deepunmix.engine.io.endmember_csv import read_endmembers_csv

    params = {"INPUT": scene["cube"], "N_ENDMEMBERS": 3, "SEED": 0, "STEPS": 20, "RESTARTS": 2, "BATCH_SIZE": 64}
    unmix(run_alg, "ddica", {**params, "ABUNDANCE_CONVENTION": 1}, scene["dir"], "peak")
    peaks = read_endmembers_csv(str(scene["dir"] / "peak.csv")).matrix.max(axis=0)
    np.testing.assert_allclose(peaks, 1.0, atol=1e-5)


def test_ddica_empty_fields_are_the_variants_and_typed_values_win(deepunmix):
    from deepunmix.algorithms.ddica import refine_purify
    from deepunmix.algorithms.engine_parameters import variant_table
    from deepunmix.engine.ddica.unmixing import DDICA

    variants = variant_table(DDICA)
    for index, variant in enumerate(("default", "paper", "authors_code")):
        resolved = dialog_estimator("ddica", VARIANT=index).resolved_settings()
        assert {k: resolved[k] for k in variants[variant]} == variants[variant]
    cfg = dialog_estimator("ddica", VARIANT=1, HIDDEN_WIDTH=16, RESTARTS=2, WHITENING=True).resolved_settings()
    assert cfg["hidden_units"] == (16,) * 6 and cfg["n_restarts"] == 2 and cfg["whitening"]
    assert cfg["kernel_width"] == variants["paper"]["kernel_width"]
    # a typed value equal to the default variant's is kept with the paper variant (it once became the paper's)
    shown = variants["default"]["batch_size"]
    assert dialog_estimator("ddica", VARIANT=1, BATCH_SIZE=shown).resolved_settings()["batch_size"] == shown
    assert dialog_estimator("ddica", REFINE=True).purify == refine_purify()


def test_ddica_paper_and_authors_code_variants_output_network_maps(run_alg, scene):
    base = {"INPUT": scene["cube"], "N_ENDMEMBERS": 3, "SEED": 0, "HIDDEN_WIDTH": 8, "RESTARTS": 2, "BATCH_SIZE": 64}
    for variant, name in ((1, "paper_variant"), (2, "authors_code")):  # both output min-max network maps
        maps = unmix(run_alg, "ddica", {**base, "VARIANT": variant}, scene["dir"], name, fractions=False)
        assert maps.shape == (3, 12, 12) and np.isfinite(maps).all()
        np.testing.assert_allclose(maps.reshape(3, -1).max(1), 1.0, atol=1e-5)
        np.testing.assert_allclose(maps.reshape(3, -1).min(1), 0.0, atol=1e-5)
