"""The fit check compares the reconstruction RMSE with the data's own noise, and its brightness with 1."""

import numpy as np

from deepunmix.engine.reporting.fit_quality import (
    SCALE_MISMATCH,
    VARIABILITY_FACTOR,
    brightness,
    noise_level,
    poor_fit_warning,
)


def test_noise_level_and_warning():
    rng = np.random.default_rng(0)
    E = np.abs(rng.normal(size=(30, 3))) + 0.1
    X = E @ rng.dirichlet(np.ones(3), 4000).T
    Y = X + rng.normal(0, 0.01, X.shape)
    noise = noise_level(Y)
    assert 0.008 < noise < 0.012
    assert poor_fit_warning(0.02, noise) is None
    assert poor_fit_warning(0.5 * VARIABILITY_FACTOR * noise, noise) is None  # ordinary spectral variability
    text = poor_fit_warning(VARIABILITY_FACTOR * 2 * noise, noise)
    assert text.startswith("poor fit") and "times the estimated noise" in text and "bands" in text
    assert noise_level(X) >= 1e-5 * np.sqrt(np.mean(X**2))  # noise-free data: floored, never 0
    assert noise_level(Y[:, :40]) is None  # too few pixels to estimate it


def test_scale_mismatch_is_named_whatever_the_rmse():
    rng = np.random.default_rng(1)
    E = rng.uniform(0.1, 0.6, (20, 3))
    Yhat = E @ rng.dirichlet(np.ones(3), 500).T
    assert abs(brightness(Yhat, Yhat) - 1) < 1e-12
    assert poor_fit_warning(1.0, 0.01, brightness(5000 * Yhat, Yhat)).startswith("scale mismatch")
    assert poor_fit_warning(1.0, 0.01, brightness(Yhat / 5000, Yhat)).startswith("scale mismatch")
    assert poor_fit_warning(0.01, 0.01, 1.1) is None  # an ordinary brightness, an ordinary RMSE


def test_the_factors_are_the_real_scene_benchmarks_choice():
    """benchmarks/fcls.py --case fit_warning chose them on Samson and Jasper Ridge; its committed results say the same."""
    import json
    from pathlib import Path

    results = json.loads((Path(__file__).resolve().parents[2] / "benchmarks/results/fit_warning.json").read_text())
    assert results["chosen"]["variability_factor"] == VARIABILITY_FACTOR
    assert results["chosen"]["scale_factor"] == SCALE_MISMATCH
    ordinary = [r["ratio"] for r in results["rows"] if r["kind"] == "ordinary"]
    assert max(ordinary) <= VARIABILITY_FACTOR  # no ordinary real-scene fit is flagged
    assert all(
        not 1 / SCALE_MISMATCH <= r["brightness"] <= SCALE_MISMATCH for r in results["rows"] if r["kind"] == "scale"
    )
