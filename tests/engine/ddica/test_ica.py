"""DeepICA on a tiny linear mixture and a cube."""
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from deepunmix.engine.ddica import DeepICA
from deepunmix.engine.progress import Cancelled

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


def _mean_abs_rho(S, E):
    k = S.shape[1]
    C = np.abs(np.corrcoef(S.T, E.T)[:k, k:])
    r, c = linear_sum_assignment(-C)
    return C[r, c].mean()


def test_separates_linear_mixture_better_than_chance():
    rng = np.random.default_rng(0)
    S = np.stack([rng.uniform(-1, 1, 3000), np.sign(rng.normal(size=3000)) * rng.exponential(size=3000)], 1)
    S = (S - S.mean(0)) / S.std(0)
    c = np.cos(np.pi / 4)
    X = S @ np.array([[c, -c], [c, c]]).T  # already white: PCA cannot separate it (chance ~0.71)
    cold = dict(n_steps=150, batch_size=128, n_restarts=2, input_transform="standardize", init="random")
    model = DeepICA(2, random_state=0, **cold)  # TC training alone, no FastICA warm start
    est = model.fit_transform(X)
    assert est.shape == (3000, 2)
    assert _mean_abs_rho(S, est) > 0.8 > _mean_abs_rho(S, X) + 0.08
    np.testing.assert_allclose(np.cov(est.T), np.eye(2), atol=0.05)  # whitened outputs
    again = DeepICA(2, random_state=0, **cold).fit_transform(X)
    np.testing.assert_array_equal(est, again)
    default = DeepICA(2, n_steps=50, n_restarts=2, random_state=0).fit_transform(X)
    assert _mean_abs_rho(S, default) > 0.8


def test_fit_cube_mlp_and_cancel():
    rng = np.random.default_rng(1)
    cube = rng.normal(size=(4, 10, 10)).astype(np.float32)
    cube[:, 0, 0] = np.nan
    maps = DeepICA(2, n_steps=10, batch_size=32, n_restarts=2, architecture="mlp", hidden_units=(8,), random_state=0).fit_cube(cube)
    assert maps.shape == (2, 10, 10) and np.isnan(maps[:, 0, 0]).all() and np.isfinite(maps[:, 1:]).all()

    def cb(fraction, message):
        if fraction > 0.2:
            raise Cancelled()

    with pytest.raises(Cancelled):
        DeepICA(2, n_steps=50, batch_size=32, n_restarts=1, progress=cb).fit(cube.reshape(4, -1)[:, 1:].T)
