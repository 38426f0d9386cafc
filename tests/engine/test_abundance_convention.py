"""Batched NNLS and the peak-normalised abundance convention."""

import numpy as np
import pytest
from scipy.optimize import nnls

from deepunmix.engine.abundances.convention import (
    nnls_pixels,
    peak_normalise,
    peak_normalised_abundances,
)


@pytest.mark.parametrize("p", [1, 3, 6])
def test_nnls_pixels_matches_scipy(p):
    rng = np.random.default_rng(p)
    E = rng.random((25, p))
    Y = E @ rng.random((p, 800)) + rng.normal(0, 0.5, (25, 800))  # many pixels with active constraints
    C = nnls_pixels(Y, E, block_size=300)
    ref = np.stack([nnls(E, Y[:, j])[0] for j in range(Y.shape[1])], 1)
    np.testing.assert_allclose(C, ref, atol=1e-9)
    assert (C == 0).any()  # the test exercised the constraints


def test_nnls_pixels_duplicate_endmembers_falls_back():
    rng = np.random.default_rng(0)
    e = rng.random(10)
    E = np.stack([e, e, rng.random(10)], 1)
    Y = E @ rng.random((3, 50))
    C = nnls_pixels(Y, E)
    assert np.all(C >= 0)
    np.testing.assert_allclose(E @ C, Y, atol=1e-8)


def test_peak_normalised_shares_recover_signal_shares():
    rng = np.random.default_rng(1)
    E = rng.random((30, 3)) * np.array([1.0, 0.5, 0.05])  # a dark third material
    shares = rng.dirichlet(np.ones(3), 400).T
    brightness = rng.uniform(0.2, 2.0, 400)
    Y = peak_normalise(E) @ (shares * brightness)
    A, scale = peak_normalised_abundances(Y, E)
    np.testing.assert_allclose(A, shares, atol=1e-8)
    np.testing.assert_allclose(scale, brightness, atol=1e-8)
    np.testing.assert_allclose(peak_normalise(E).max(0), 1.0)


def test_all_zero_pixel_gets_equal_shares():
    E = np.eye(4)[:, :3] + 0.1
    A, scale = peak_normalised_abundances(np.zeros((4, 2)), E)
    np.testing.assert_allclose(A, 1 / 3) and np.testing.assert_allclose(scale, 0)
