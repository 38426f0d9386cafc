"""FCLS: constraints, exactness against an independent reference, blocks, masks, degenerate E.

Reference solver: exhaustive enumeration of supports (``benchmarks/_harness.exact_fcls``): the exact optimum of
the convex QP, practical only for small p and few pixels, which is all a test needs.
"""

import numpy as np
import pytest
from _harness import exact_fcls  # benchmarks/_harness.py: the one exhaustive oracle (fcls.py --case speed uses it)

from deepunmix.engine.abundances.fcls import FCLS, _SimplexLS, fcls, project_simplex
from deepunmix.engine.core.progress import Cancelled


def _problem(p, n=120, L=25, seed=0):
    rng = np.random.default_rng(seed)
    E = rng.random((L, p))
    A = rng.dirichlet(np.full(p, 0.5), n).T
    Y = E @ A + rng.normal(0, 0.3, (L, n))  # strong noise: many active bounds
    Y[:, : n // 4] = 2 * rng.random((L, n // 4))  # far outside the simplex
    return Y, E


@pytest.mark.parametrize("p", [2, 3, 4, 5, 6])
def test_matches_exhaustive_reference(p):
    Y, E = _problem(p, seed=p)
    A = fcls(Y, E, block_size=37)
    R = exact_fcls(Y, E)
    assert np.abs(A - R).max() < 1e-8
    assert (A == 0).any()  # the problem does exercise active constraints


@pytest.mark.parametrize("max_guesses", [0, 1, 100])
def test_guessing_and_primal_fallback_are_both_exact(max_guesses):
    """0: every open pixel runs the primal active set; 1: most finish by the first guess."""
    Y, E = _problem(5, n=200, seed=11)
    solver = _SimplexLS(E)
    solver.max_guesses = max_guesses
    A = solver.solve_gram(E.T @ Y)
    R = exact_fcls(Y, E)
    assert np.abs(A - R).max() < 1e-8
    assert solver.n_iter_ >= max(1, min(max_guesses, 1))


def test_anc_asc_and_dtype():
    Y, E = _problem(5, n=500, seed=11)
    A = fcls(Y.astype(np.float32), E)
    assert A.shape == (5, 500) and A.dtype == np.float64
    assert A.min() >= 0
    np.testing.assert_allclose(A.sum(axis=0), 1.0, atol=1e-12)


def test_noise_free_recovery():
    rng = np.random.default_rng(3)
    E = rng.random((50, 4))
    A_true = rng.dirichlet(np.full(4, 0.3), 1000).T
    A_true[:, :4] = np.eye(4)
    A = fcls(E @ A_true, E)
    assert np.abs(A - A_true).max() < 1e-9


def test_blocks_give_same_result():
    Y, E = _problem(4, n=300, seed=5)
    np.testing.assert_allclose(fcls(Y, E, block_size=7), fcls(Y, E, block_size=10_000), atol=1e-12, rtol=0)


def test_single_pixel_and_bad_shapes():
    Y, E = _problem(3, n=4, seed=2)
    np.testing.assert_allclose(fcls(Y[:, 1], E), fcls(Y, E)[:, 1], atol=1e-14)
    with pytest.raises(ValueError):
        fcls(Y[:-1], E)


def test_duplicate_endmembers_are_handled():
    Y, E = _problem(3, n=200, seed=8)
    E_dup = np.column_stack([E, E[:, 0]])
    A_dup = fcls(Y, E_dup)
    A = fcls(Y, E)
    assert A_dup.min() >= 0
    np.testing.assert_allclose(A_dup.sum(axis=0), 1.0, atol=1e-10)
    merged = np.vstack([A_dup[0] + A_dup[3], A_dup[1], A_dup[2]])
    np.testing.assert_allclose(merged, A, atol=1e-7)


def test_project_simplex():
    rng = np.random.default_rng(0)
    V = rng.normal(size=(5, 100)) * 3
    P = project_simplex(V)
    assert P.min() >= 0
    np.testing.assert_allclose(P.sum(axis=0), 1.0, atol=1e-12)
    inside = rng.dirichlet(np.ones(5), 10).T
    np.testing.assert_allclose(project_simplex(inside), inside, atol=1e-12)


def test_estimator_mask_nan_and_error_map():
    rng = np.random.default_rng(1)
    E = rng.random((20, 3))
    A_true = rng.dirichlet(np.ones(3), 12 * 10).T
    cube = (E @ A_true).reshape(20, 12, 10).astype(np.float32)
    cube[:, 0, 0] = np.nan
    mask = np.ones((12, 10), bool)
    mask[5, 5] = False
    calls = []
    est = FCLS(E, block_size=16, progress=lambda f, m: calls.append(f)).fit(cube, mask)
    assert est.abundances_.shape == (3, 12, 10) and est.abundances_.dtype == np.float32
    assert np.isnan(est.abundances_[:, 0, 0]).all() and np.isnan(est.abundances_[:, 5, 5]).all()
    assert np.isnan(est.reconstruction_error_[0, 0]) and np.isnan(est.reconstruction_error_[5, 5])
    good = np.isfinite(est.reconstruction_error_)
    assert good.sum() == 118 and est.reconstruction_error_[good].max() < 1e-5
    np.testing.assert_allclose(est.abundances_[:, 3, 4], A_true.reshape(3, 12, 10)[:, 3, 4], atol=1e-5)
    assert calls[-1] == 1.0 and len(calls) > 5


def test_cancel_propagates():
    Y, E = _problem(3, n=100)

    def stop(fraction, message):
        if fraction > 0.2:
            raise Cancelled()

    with pytest.raises(Cancelled):
        FCLS(E, block_size=10, progress=stop).fit(Y.reshape(25, 10, 10).astype(np.float32))


@pytest.mark.parametrize("p", [8, 12])
def test_kkt_certificate_for_larger_p(p):
    """Beyond enumeration: the optimality conditions hold for every pixel."""
    Y, E = _problem(p, n=400, L=40, seed=20 + p)
    A = fcls(Y, E, block_size=128)
    G, B = E.T @ E, E.T @ Y
    g = G @ A - B  # gradient; at the optimum g_i = -lambda on the support, >= -lambda off it
    support = A > 1e-12
    lam = -(g * support).sum(axis=0) / support.sum(axis=0)
    spread = np.where(support, np.abs(g + lam), 0).max()
    nu = np.where(support, np.inf, g + lam).min()
    scale = np.abs(G).max()
    assert spread < 1e-9 * scale and nu > -1e-9 * scale
    assert A.min() >= 0 and np.abs(A.sum(axis=0) - 1).max() < 1e-12


def test_estimator_params_roundtrip():
    from sklearn.base import clone

    E = np.eye(4)[:, :3]
    est = clone(FCLS(E, block_size=5))
    assert est.get_params()["block_size"] == 5 and np.array_equal(est.endmembers, E)
