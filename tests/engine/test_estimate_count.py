"""HySime and HFC/NWHFC endmember-count estimation on clean synthetic scenes."""
import numpy as np
import pytest

from deepunmix.engine.estimate_count import EndmemberCountEstimator, estimate_noise, hfc_vd, hysime


def _scene(p=4, L=80, N=3000, snr_db=40.0, seed=0):
    rng = np.random.default_rng(seed)
    E = np.cumsum(rng.normal(size=(L, p)), axis=0)
    E = (E - E.min(axis=0) + 0.2) / (E - E.min(axis=0) + 0.2).max()
    X = E @ rng.dirichlet(np.ones(p), N).T
    sigma = np.sqrt(np.mean(X ** 2) / 10 ** (snr_db / 10))
    return X + rng.normal(0, sigma, X.shape), sigma


@pytest.mark.parametrize("seed", [0, 1])
def test_true_count_p4_snr40(seed):
    Y, _ = _scene(seed=seed)
    k, details = hysime(Y)
    assert k == 4
    assert details["subspace"].shape == (80, 4)
    assert hfc_vd(Y, far=1e-3) == 4
    assert hfc_vd(Y, far=1e-3, noise_whitened=True) == 4


def test_hysime_other_counts():
    for p in (3, 6):
        assert hysime(_scene(p=p, seed=p)[0])[0] == p


def test_noise_estimate_matches_true_sigma():
    Y, sigma = _scene(snr_db=30, seed=3)
    _, var = estimate_noise(Y)
    assert np.median(np.sqrt(var)) == pytest.approx(sigma, rel=0.1)


def test_estimator_sampling_mask_and_errors():
    Y, _ = _scene(N=60 * 50, seed=1)
    cube = Y.reshape(80, 60, 50).astype(np.float32)
    cube[:, :3, :] = np.nan
    for method in ("hysime", "hfc", "nwhfc"):
        est = EndmemberCountEstimator(method=method, max_pixels=2000).fit(cube)
        assert est.n_endmembers_ == 4
    with pytest.raises(ValueError):
        EndmemberCountEstimator(method="elm").fit(cube)
    with pytest.raises(ValueError):
        hfc_vd(Y, far=0.7)
