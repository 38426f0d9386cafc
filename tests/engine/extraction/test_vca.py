"""VCA specifics: SNR estimate and both projection branches."""

import numpy as np

from deepunmix.engine.extraction.vca import estimate_snr, vca


def _data(snr_db, seed=0, p=4, L=50, N=4000):
    rng = np.random.default_rng(seed)
    E = rng.random((L, p)) + 0.1
    A = rng.dirichlet(np.ones(p), N).T
    A[:, :p] = np.eye(p)
    X = E @ A
    sigma = np.sqrt(np.mean(X**2) / 10 ** (snr_db / 10))
    return X + rng.normal(0, sigma, X.shape), E


def test_snr_estimate_tracks_true_snr():
    for snr in (10.0, 30.0):
        Y, _ = _data(snr)
        mean = Y.mean(axis=1)
        C = np.cov(Y, bias=True)
        U = np.linalg.eigh(C)[1][:, ::-1][:, :4]
        est = estimate_snr(Y, mean, U.T @ (Y - mean[:, None]))
        assert abs(est - snr) < 3.0


def test_low_snr_branch_and_forced_snr_give_valid_pixels():
    Y, _ = _data(5.0, seed=2)
    for snr in (None, 0.0, 100.0):  # estimated (low), forced low, forced high
        E, idx = vca(Y, 4, random_state=1, snr=snr)
        assert len(set(idx.tolist())) == 4
        np.testing.assert_array_equal(E, Y[:, idx])


def test_different_seeds_same_vertices_on_clean_data():
    Y, _ = _data(200.0, seed=4)
    a = set(vca(Y, 4, random_state=0)[1].tolist())
    b = set(vca(Y, 4, random_state=123)[1].tolist())
    assert a == b == {0, 1, 2, 3}
