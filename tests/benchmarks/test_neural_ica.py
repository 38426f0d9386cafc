"""MISEP and MINE-ICA: tiny runs that must beat chance; reproducibility; argument checks."""

import numpy as np
import pytest
from baselines.mine_ica import MINEICA
from baselines.misep import MISEP

from deepunmix.engine.core.progress import Cancelled
from deepunmix.engine.reporting.metrics import matched_abs_corr

torch = pytest.importorskip("torch")


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def pnl_mixture(n=1000, seed=0):
    """Three sources, a 3x3 linear mix, then tanh, (x + x^3)/2 and exp per channel (the DDICA paper's PNL)."""
    rng = np.random.default_rng(seed)
    S = np.c_[rng.laplace(size=n), rng.uniform(-1, 1, size=n), np.sin(np.linspace(0, 40, n))]
    S = (S - S.mean(0)) / S.std(0)
    A = rng.uniform(0.2, 1.0, size=(3, 3)) * rng.choice([-1, 1], size=(3, 3))
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    L = S @ A.T
    return S, np.c_[np.tanh(L[:, 0]), (L[:, 1] + L[:, 1] ** 3) / 2, np.exp(L[:, 2])]


def chance_level(S, n_draws=20, seed=0):
    """Matched |corr| of S with independent random outputs: what a method that learnt nothing reaches."""
    rng = np.random.default_rng(seed)
    return max(matched_abs_corr(S, rng.normal(size=S.shape)).mean() for _ in range(n_draws))


def test_misep_beats_chance_on_pnl_mixture():
    S, X = pnl_mixture()
    model = MISEP(random_state=0, max_iter=200, batch_size=1000, learning_rate=0.03).fit(X)
    out = model.transform(X)
    assert out.shape == (1000, 3) and np.all(np.isfinite(out))
    score = matched_abs_corr(S, out).mean()
    assert score > max(0.5, 5 * chance_level(S))
    assert model.loss_curve_[-20:].mean() < model.loss_curve_[:20].mean()  # entropy went up


def test_mine_ica_beats_chance_on_linear_mixture():
    rng = np.random.default_rng(0)
    n = 1000
    S = np.c_[rng.laplace(size=n), rng.uniform(-1, 1, size=n), np.sin(np.linspace(0, 40, n))]
    X = S @ rng.normal(size=(5, 3)).T
    model = MINEICA(3, encoder="linear", max_iter=150, batch_size=256, estimator_steps=1, random_state=0).fit(X)
    out = model.transform(X)
    assert out.shape == (n, 3)
    np.testing.assert_allclose(np.cov(out.T), np.eye(3), atol=1e-3)  # whitened outputs
    score = matched_abs_corr(S, out).mean()
    assert score > max(0.5, 5 * chance_level(S))


def test_mine_ica_mlp_reproducible_and_cancellable():
    S, X = pnl_mixture(400, seed=1)
    kw = dict(encoder="mlp", hidden=8, estimator_hidden=16, max_iter=15, batch_size=128, estimator_steps=1)
    a = MINEICA(3, random_state=3, **kw).fit(X).transform(X)
    b = MINEICA(3, random_state=3, **kw).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)

    def cancel(f, m):
        if f > 0.1:
            raise Cancelled()

    with pytest.raises(Cancelled):
        MINEICA(3, random_state=0, progress=cancel, **kw).fit(X)


def test_misep_reproducible_and_square_only():
    S, X = pnl_mixture(300, seed=2)
    a = MISEP(random_state=1, max_iter=20).fit(X).transform(X)
    b = MISEP(random_state=1, max_iter=20).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        MISEP(n_components=2).fit(X)
    with pytest.raises(ValueError):
        MINEICA(3, encoder="conv").fit(X)


def test_mine_ica_linear_exposes_unmixing_matrix():
    rng = np.random.default_rng(4)
    X = rng.laplace(size=(300, 4))
    model = MINEICA(2, encoder="linear", max_iter=5, batch_size=64, estimator_steps=1, random_state=0).fit(X)
    out = model.transform(X)
    lin = (X - model.mean_) @ model.unmixing_.T
    np.testing.assert_allclose(out - out.mean(0), lin - lin.mean(0), atol=1e-4)
