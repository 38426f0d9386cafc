"""HySime and HFC/NWHFC endmember-count estimation on clean synthetic scenes."""

import numpy as np
import pytest

from deepunmix.engine.count.estimate import EndmemberCountEstimator, estimate_noise, hfc_vd, hysime


def _scene(p=4, L=80, N=3000, snr_db=40.0, seed=0):
    rng = np.random.default_rng(seed)
    E = np.cumsum(rng.normal(size=(L, p)), axis=0)
    E = (E - E.min(axis=0) + 0.2) / (E - E.min(axis=0) + 0.2).max()
    X = E @ rng.dirichlet(np.ones(p), N).T
    sigma = np.sqrt(np.mean(X**2) / 10 ** (snr_db / 10))
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


@pytest.mark.parametrize("method", ["hysime", "hfc", "nwhfc", "reconstruction"])
def test_robust_to_one_outlier_and_to_huge_values(method):
    Y, _ = _scene(N=40 * 40, seed=2)
    cube = Y.reshape(80, 40, 40).astype(np.float32)
    clean = EndmemberCountEstimator(method=method).fit(cube).n_endmembers_
    assert clean == 4
    outlier = cube.copy()
    outlier[:, 5, 5] = 1e6
    assert EndmemberCountEstimator(method=method).fit(outlier).n_endmembers_ == clean
    assert EndmemberCountEstimator(method=method).fit(cube * np.float32(1e30)).n_endmembers_ == clean


@pytest.mark.parametrize("method", ["hysime", "hfc", "nwhfc", "reconstruction"])
def test_one_band_on_another_scale_is_a_clear_error(method):
    from deepunmix.engine.core.errors import InputError

    Y, _ = _scene(N=30 * 30, seed=2)
    cube = Y.reshape(80, 30, 30).astype(np.float32)
    cube[5] *= np.float32(1e30)
    with pytest.raises(InputError, match="band\\(s\\) 6 "):
        EndmemberCountEstimator(method=method).fit(cube)


def test_reconstruction_count_finds_p_and_caps():
    from deepunmix.engine.count.reconstruction import elbow, reconstruction_count

    for p in (3, 5):
        Y, sigma = _scene(p=p, N=2000, snr_db=35, seed=p)
        k, details = reconstruction_count(Y, sigma, max_endmembers=10)
        assert k == p
        errors = details["errors"]
        assert np.all(np.diff(errors[2:]) <= 1e-12)  # nested SiVM sets: the error never rises
    cube = _scene(p=5, N=40 * 50, snr_db=35, seed=5)[0].reshape(80, 40, 50)
    est = EndmemberCountEstimator(max_endmembers=3).fit(cube)
    assert est.method == "reconstruction" and est.n_endmembers_ == 3 and est.capped_
    assert elbow(np.array([np.nan, np.nan, 1.0, 0.5, 0.49]), 0.0, 0.1, relative_to="previous") == 3
    with pytest.raises(ValueError):
        EndmemberCountEstimator(max_endmembers=1).fit(cube)
