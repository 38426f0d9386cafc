"""deepunmix:ddica advanced options reach the estimator: brightness normalisation, refinement, convention."""

import numpy as np
from plugin_helpers import assert_sum_to_one, read


def test_ddica_pixel_norm_refine_and_variance_weight(run_alg, scene):
    d = scene["dir"]
    base = {
        "INPUT": scene["cube"],
        "N_ENDMEMBERS": 3,
        "SEED": 0,
        "STEPS": 20,
        "RESTARTS": 2,
        "BATCH_SIZE": 64,
        "OUTPUT_ENDMEMBERS": str(d / "e.csv"),
    }
    plain = read(run_alg("deepunmix:ddica", {**base, "OUTPUT_ABUNDANCES": str(d / "plain.tif")})["OUTPUT_ABUNDANCES"])[
        0
    ]
    paper = read(
        run_alg("deepunmix:ddica", {**base, "NETWORK_MAPS": True, "OUTPUT_ABUNDANCES": str(d / "paper.tif")})[
            "OUTPUT_ABUNDANCES"
        ]
    )[0]
    nnls = read(  # purest-pixel fraction 0: NNLS endmembers of the maps (the default of issue 22)
        run_alg("deepunmix:ddica", {**base, "PURIFY": 0.0, "OUTPUT_ABUNDANCES": str(d / "nnls.tif")})[
            "OUTPUT_ABUNDANCES"
        ]
    )[0]
    refine = read(  # REFINE: the default's own output
        run_alg("deepunmix:ddica", {**base, "REFINE": True, "OUTPUT_ABUNDANCES": str(d / "refine.tif")})[
            "OUTPUT_ABUNDANCES"
        ]
    )[0]
    opts = read(
        run_alg(
            "deepunmix:ddica",
            {
                **base,
                "PIXEL_NORM": True,
                "VARIANCE_WEIGHT": 1.0,
                "PURIFY": 0.1,
                "EXPAND": 0,
                "OUTPUT_ABUNDANCES": str(d / "opts.tif"),
            },
        )["OUTPUT_ABUNDANCES"]
    )[0]
    for maps in (plain, paper, opts, nnls, refine):
        assert maps.shape == (3, 12, 12)
        assert_sum_to_one(maps)
        assert np.all(maps >= -1e-6)
    assert not np.allclose(opts, plain, atol=1e-3)
    assert not np.allclose(paper, plain, atol=1e-3)
    assert not np.allclose(nnls, plain, atol=1e-3)
    np.testing.assert_allclose(refine, plain, atol=1e-5)


def test_ddica_peak_normalised_convention(run_alg, scene):
    d = scene["dir"]
    out = run_alg(
        "deepunmix:ddica",
        {
            "INPUT": scene["cube"],
            "N_ENDMEMBERS": 3,
            "SEED": 0,
            "STEPS": 20,
            "RESTARTS": 2,
            "BATCH_SIZE": 64,
            "ABUNDANCE_CONVENTION": 1,
            "OUTPUT_ABUNDANCES": str(d / "peak.tif"),
            "OUTPUT_ENDMEMBERS": str(d / "peak.csv"),
        },
    )
    maps = read(out["OUTPUT_ABUNDANCES"])[0]
    assert_sum_to_one(maps)
    from deepunmix.engine.io.endmember_csv import read_endmembers_csv

    np.testing.assert_allclose(read_endmembers_csv(out["OUTPUT_ENDMEMBERS"]).matrix.max(axis=0), 1.0, atol=1e-5)


def test_ddica_variant_paper_reaches_the_engine(deepunmix, run_alg, scene):
    from qgis.core import QgsApplication, QgsProcessingContext

    from deepunmix.algorithms.ddica import REFINE_PURIFY
    from deepunmix.engine.ddica.unmixing import DDICA

    alg = QgsApplication.processingRegistry().algorithmById("deepunmix:ddica")
    ctx = QgsProcessingContext()
    dialog = {p.name(): p.defaultValue() for p in alg.parameterDefinitions()}  # what the dialog passes
    kwargs = alg.estimator_kwargs({**dialog, "VARIANT": 1}, ctx)
    assert DDICA(3, **kwargs).resolved_settings() == DDICA.variant_settings("paper")
    kwargs = alg.estimator_kwargs({**dialog, "VARIANT": 1, "HIDDEN_WIDTH": 16, "RESTARTS": 2, "WHITENING": True}, ctx)
    cfg = DDICA(3, **kwargs).resolved_settings()
    assert (
        cfg["hidden_units"] == (16,) * 6 and cfg["n_restarts"] == 2 and cfg["whitening"] and cfg["kernel_width"] == 0.1
    )
    assert alg.estimator_kwargs({**dialog, "REFINE": True, "PURIFY": 0.0}, ctx)["purify"] == REFINE_PURIFY
    kwargs = alg.estimator_kwargs({**dialog, "VARIANT": 2}, ctx)
    assert DDICA(3, **kwargs).resolved_settings() == DDICA.variant_settings("authors_code")
    default = DDICA(3, **alg.estimator_kwargs(dialog, ctx)).resolved_settings()
    assert {k: v for k, v in default.items() if k != "preprocess"} == {
        k: v for k, v in DDICA.variant_settings("default").items() if k != "preprocess"
    }

    d = scene["dir"]
    for variant, name in ((1, "paper_variant"), (2, "authors_code")):  # both output min-max network maps
        out = run_alg(
            "deepunmix:ddica",
            {
                "INPUT": scene["cube"],
                "N_ENDMEMBERS": 3,
                "SEED": 0,
                "VARIANT": variant,
                "HIDDEN_WIDTH": 8,
                "RESTARTS": 2,
                "BATCH_SIZE": 64,
                "OUTPUT_ABUNDANCES": str(d / f"{name}.tif"),
                "OUTPUT_ENDMEMBERS": str(d / f"{name}.csv"),
            },
        )
        maps = read(out["OUTPUT_ABUNDANCES"])[0]
        assert maps.shape == (3, 12, 12) and np.isfinite(maps).all()
        np.testing.assert_allclose(maps.reshape(3, -1).max(1), 1.0, atol=1e-5)
        np.testing.assert_allclose(maps.reshape(3, -1).min(1), 0.0, atol=1e-5)
