"""Expansion steps: a step that overshoots to zero zeroes a run of bands unless ``floor`` holds it back."""

import numpy as np
from synthetic import procedural_library

from deepunmix.engine.abundances.safeguard import zero_runs
from deepunmix.engine.extraction.refinement import expand_endmembers, purify_endmembers


def test_clipped_expansion_zeroes_a_run_of_bands_and_the_floor_does_not():
    # a water-like endmember with no reflectance over 15 bands, in mixtures no purer than 0.8; given the true
    # abundances, one step lands on the true spectra exactly, so the dark bands land on 0 (or just below)
    rng = np.random.default_rng(0)
    lib, _, _ = procedural_library(n_bands=30, n_spectra=6, random_state=0)
    E = lib[:, :3].copy()
    E[10:25, 2] = 0.0
    A = 0.7 * rng.dirichlet(np.ones(3), size=3000).T + 0.1
    Y = E @ A
    E0 = purify_endmembers(Y, A, 150)  # the mean of the 5 % purest pixels: inside the true simplex, > 0
    assert zero_runs(Y, E0).max() == 0
    clipped = expand_endmembers(Y, E0, A)
    assert zero_runs(Y, clipped)[2] >= 10  # the symptom: zero over a run of bands where the data are not
    held = expand_endmembers(Y, E0, A, floor=0.5)
    assert zero_runs(Y, held).max() == 0
    assert np.all(held >= 0.5 * E0 - 1e-12)
    assert np.all(np.linalg.norm(held - E, axis=0) < np.linalg.norm(E0 - E, axis=0))  # still moves outwards
