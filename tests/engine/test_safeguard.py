"""The degenerate-solution safeguard: each check fires on a case built to fail, and not on a good fit."""

import numpy as np
import pytest
from synthetic import make_mixed_scene

from deepunmix.engine.abundances.fcls import fcls
from deepunmix.engine.abundances.safeguard import (
    CLOSE_DEG,
    MIN_AGREEMENT,
    ZERO_RUN_BANDS,
    check_solution,
    restart_agreement,
    zero_runs,
)


@pytest.fixture(scope="module")
def scene():
    sc = make_mixed_scene(size=30, n_endmembers=3, snr_db=40, random_state=0)
    Y = sc.cube.reshape(sc.cube.shape[0], -1).astype(np.float64)
    return Y, sc.endmembers, sc.abundances.reshape(3, -1)


def test_good_solution_is_not_flagged(scene):
    Y, E, A = scene
    assert check_solution(Y, E, A) == []


def test_duplicate_endmembers_flagged(scene):
    Y, E, _ = scene
    E2 = E.copy()
    E2[:, 2] = E2[:, 1] * 1.01  # the same spectrum, scaled: 0 degrees apart
    found = check_solution(Y, E2, fcls(Y, E2), compare_vca=False)
    assert any("endmembers 2 and 3" in w and "degrees apart" in w for w in found)
    assert CLOSE_DEG > 0


def test_empty_and_constant_maps_flagged(scene):
    Y, E, A = scene
    empty = A.copy()
    empty[0] = 0.01
    assert any("map 1 is empty" in w for w in check_solution(Y, E, empty, compare_vca=False))
    flat = A.copy()
    flat[1] = 0.3
    assert any("map 2 is nearly constant" in w for w in check_solution(Y, E, flat, compare_vca=False))


def test_zero_run_flagged_only_where_data_are_not_zero(scene):
    Y, E, A = scene
    E2 = E.copy()
    E2[40 : 40 + ZERO_RUN_BANDS + 3, 1] = 0.0
    assert zero_runs(Y, E2).tolist() == [0, ZERO_RUN_BANDS + 3, 0]
    assert any("endmember 2 is zero over" in w for w in check_solution(Y, E2, A, compare_vca=False))
    Y0 = Y.copy()
    Y0[40 : 40 + ZERO_RUN_BANDS + 3] = 0.0  # water-absorption bands zeroed in the data too: not a readout fault
    assert zero_runs(Y0, E2).max() == 0


def test_reconstruction_far_above_vca_flagged(scene):
    Y, E, _ = scene
    rng = np.random.default_rng(1)
    wrong = np.abs(rng.normal(0.5, 0.2, E.shape))  # spectra that are not the scene's
    found = check_solution(Y, wrong, fcls(Y, wrong))
    assert any("times that of VCA + FCLS" in w for w in found)


def test_restarts_that_disagree_flagged(scene):
    Y, E, A = scene
    rng = np.random.default_rng(0)
    agree = np.stack([A + rng.normal(0, 0.01, A.shape) for _ in range(6)])  # (T, p, n)
    labels = np.tile(np.arange(3), (6, 1))
    assert restart_agreement(agree, labels).min() > 0.9
    noise = rng.random((20, 3, A.shape[1]))  # every restart a different random map
    low = restart_agreement(noise, np.tile(np.arange(3), (20, 1)))
    assert low.max() < MIN_AGREEMENT
    assert any("restarts disagree on map" in w for w in check_solution(Y, E, A, agreement=low, compare_vca=False))
