"""Guidance refinement: purification and expansion of extracted endmembers."""

import numpy as np
from synthetic import procedural_library

from deepunmix.engine.dip.guidance import refine_guidance
from deepunmix.engine.extraction.refinement import expand_endmembers, fcls_abundances, purify_endmembers
from deepunmix.engine.reporting.metrics import sad


def _no_pure_pixels(n=3000, p=3, seed=0, noise=0.0):
    """Mixtures whose largest abundance is at most 0.8: the true simplex lies outside the data."""
    rng = np.random.default_rng(seed)
    lib, _, _ = procedural_library(n_bands=30, n_spectra=6, random_state=0)
    E = lib[:, :p]
    A = 0.7 * rng.dirichlet(np.ones(p), size=n).T + 0.3 / p  # shrunk towards the centre
    Y = E @ A + rng.normal(scale=noise, size=(E.shape[0], n))
    return Y, E, A


def test_expand_moves_inner_endmembers_towards_the_true_ones():
    Y, E, A = _no_pure_pixels()
    purest = np.argmax(A, axis=1)  # the most extreme data pixels: mixtures, inside the true simplex
    E0 = Y[:, purest]
    E1 = expand_endmembers(Y, E0, fcls_abundances(Y, E0))
    assert np.all(E1 >= 0)
    err0 = np.linalg.norm(E0 - E, axis=0)
    err1 = np.linalg.norm(E1 - E, axis=0)
    assert np.all(err1 < err0)
    assert sad(E, E1).mean() < sad(E, E0).mean()


def test_expand_keeps_a_simplex_that_already_encloses_noise_free_data():
    rng = np.random.default_rng(1)
    lib, _, _ = procedural_library(n_bands=30, n_spectra=6, random_state=0)
    E = lib[:, :3]
    A = rng.dirichlet(np.ones(3), size=2000).T
    A[:, :3] = np.eye(3)  # pure pixels present
    Y = E @ A
    E1 = expand_endmembers(Y, E, fcls_abundances(Y, E))
    np.testing.assert_allclose(E1, E, atol=1e-6)


def test_refine_guidance_zero_is_identity_and_purify_averages():
    Y, E, _ = _no_pure_pixels(noise=0.01)
    E0 = Y[:, :3]
    E_same, A_same = refine_guidance(Y, E0, purify=0, expand=0)
    np.testing.assert_array_equal(E_same, E0)
    np.testing.assert_allclose(A_same, fcls_abundances(Y, E0))
    E_p, A_p = refine_guidance(Y, E0, purify=0.01, expand=0)
    np.testing.assert_allclose(E_p, purify_endmembers(Y, fcls_abundances(Y, E0), 30))  # 1 % of 3000
    assert not np.allclose(E_p, E0)
    np.testing.assert_allclose(A_p.sum(axis=0), 1.0, atol=1e-8)
