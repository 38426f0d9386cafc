"""FastICA and extended Infomax separate linear mixtures; the cube helpers and ica_to_abundances."""

import numpy as np
import pytest
from baselines.fastica import FastICA
from baselines.ica_to_abundance import ica_to_abundances
from baselines.infomax import InfomaxICA

from deepunmix.engine.reporting.metrics import matched_abs_corr


def _sources(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    # super-Gaussian, sub-Gaussian and a sub-Gaussian deterministic source
    return np.c_[rng.laplace(size=n), rng.uniform(-1, 1, size=n), np.sin(np.linspace(0, 50, n))]


@pytest.mark.parametrize("cls", [FastICA, InfomaxICA])
def test_separates_linear_mixture(cls):
    S = _sources()
    A = np.random.default_rng(1).normal(size=(5, 3))  # 5 sensors, 3 sources: undercomplete
    X = S @ A.T
    model = cls(n_components=3, random_state=0).fit(X)
    S_hat = model.transform(X)
    assert S_hat.shape == (len(X), 3)
    assert model.components_.shape == (3, 5)
    assert np.all(matched_abs_corr(S, S_hat) > 0.95)


def test_infomax_extended_is_needed_for_sub_gaussian_sources():
    S = _sources()
    X = S @ np.random.default_rng(2).normal(size=(3, 3)).T
    ext = InfomaxICA(3, random_state=0).fit(X)
    plain = InfomaxICA(3, extended=False, random_state=0).fit(X)
    assert np.all(matched_abs_corr(S, ext.transform(X)) > 0.95)
    assert matched_abs_corr(S, plain.transform(X)).min() < 0.9
    assert (ext.signs_ == -1).sum() == 2  # the uniform and the sine are sub-Gaussian


def test_infomax_reproducible():
    X = _sources(1500) @ np.random.default_rng(3).normal(size=(4, 3)).T
    a = InfomaxICA(3, random_state=5).fit(X).components_
    b = InfomaxICA(3, random_state=5).fit(X).components_
    np.testing.assert_array_equal(a, b)


def test_ica_to_abundances_simplex_and_sign():
    rng = np.random.default_rng(0)
    s = np.c_[rng.exponential(size=500), -rng.exponential(size=500), np.zeros(500)]
    A = ica_to_abundances(s)
    assert A.shape == (3, 500)
    assert np.all(A >= 0) and np.allclose(A.sum(axis=0), 1.0)
    # the negatively skewed component was flipped: its abundance grows with -s
    assert np.corrcoef(A[1], -s[:, 1])[0, 1] > 0.5
    assert np.corrcoef(A[0], s[:, 0])[0, 1] > 0.5
    with pytest.raises(ValueError):
        ica_to_abundances(np.array([[np.nan, 1.0]]))


def test_fit_cube_and_unmix_cube_respect_mask():
    rng = np.random.default_rng(0)
    ab = rng.dirichlet(np.ones(3) * 0.5, size=400).T  # (3, 400)
    E = rng.uniform(0.1, 1.0, size=(8, 3))
    cube = (E @ ab).reshape(8, 20, 20).astype(np.float32)
    cube[:, 0, 0] = np.nan
    mask = np.ones((20, 20), bool)
    mask[5, 5] = False
    model = FastICA(3, random_state=0)
    maps = model.fit_cube(cube, mask)
    assert maps.shape == (3, 20, 20) and np.isnan(maps[:, 0, 0]).all() and np.isnan(maps[:, 5, 5]).all()
    A = model.unmix_cube(cube, mask)
    ok = np.isfinite(A[0])
    assert ok.sum() == 398
    assert np.allclose(A[:, ok].sum(axis=0), 1.0) and np.all(A[:, ok] >= 0)
