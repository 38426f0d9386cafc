"""N-FINDR specifics: the found simplex is maximal, init options."""

import itertools

import numpy as np
import pytest

from deepunmix.engine.extraction.nfindr import NFINDR, nfindr_full


def test_volume_is_global_max_on_small_problem():
    rng = np.random.default_rng(0)
    Y = rng.random((6, 40))
    _, idx, vol, n_iter = nfindr_full(Y, 3, random_state=0)
    # brute force over every triple in the same 2-D PCA space
    C = np.cov(Y, bias=True)
    U = np.linalg.eigh(C)[1][:, ::-1][:, :2]
    X = np.vstack([np.ones(40), U.T @ (Y - Y.mean(axis=1, keepdims=True))])
    best = max(abs(np.linalg.det(X[:, list(t)])) / 2 for t in itertools.combinations(range(40), 3))
    # sequential replacement is a local search; on this small set it reaches the optimum
    assert vol == pytest.approx(best, rel=1e-9)
    assert n_iter >= 1


def test_init_options_and_attributes():
    rng = np.random.default_rng(1)
    E = rng.random((30, 4))
    A = rng.dirichlet(np.ones(4), 900).T
    A[:, 10:14] = np.eye(4)
    cube = (E @ A).reshape(30, 30, 30)
    for init in ("random", "sivm"):
        est = NFINDR(4, random_state=2, init=init).fit(cube)
        assert sorted(np.ravel_multi_index(est.indices_.T, (30, 30)).tolist()) == [10, 11, 12, 13]
        assert est.volume_ > 0 and est.n_iter_ >= 1
    with pytest.raises(ValueError):
        NFINDR(4, init="bogus").fit(cube)
