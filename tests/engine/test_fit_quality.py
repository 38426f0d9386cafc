"""The poor-fit warning compares the reconstruction RMSE with the data's own noise."""

import numpy as np

from deepunmix.engine.fit_quality import POOR_FIT_FACTOR, noise_level, poor_fit_warning


def test_noise_level_and_warning():
    rng = np.random.default_rng(0)
    E = np.abs(rng.normal(size=(30, 3))) + 0.1
    X = E @ rng.dirichlet(np.ones(3), 4000).T
    Y = X + rng.normal(0, 0.01, X.shape)
    noise = noise_level(Y)
    assert 0.008 < noise < 0.012
    assert poor_fit_warning(0.02, noise) is None
    text = poor_fit_warning(POOR_FIT_FACTOR * 2 * noise, noise)
    assert text.startswith("poor fit") and "times the estimated noise" in text
    assert noise_level(X) >= 1e-5 * np.sqrt(np.mean(X**2))  # noise-free data: floored, never 0
    assert noise_level(Y[:, :40]) is None  # too few pixels to estimate it
