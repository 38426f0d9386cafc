import numpy as np
import pytest

from deepunmix.engine.reporting.metrics import (
    abundance_rmse,
    armse,
    match_endmembers,
    matched_abs_corr,
    per_pixel_rmse,
    pooled_rmse,
    reconstruction_rmse,
    sad,
    sad_matrix,
    score_unmixing,
)


def test_sad_orthogonal_and_identical():
    E = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(sad(E, E), [0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(sad(E, E[:, ::-1]), [90.0, 90.0])
    # 45 degrees, and scale invariance
    np.testing.assert_allclose(sad(np.array([1.0, 0.0]), 3 * np.array([1.0, 1.0])), [45.0])
    assert sad_matrix(E, E).shape == (2, 2)


def test_match_permuted_copies():
    rng = np.random.default_rng(0)
    E = rng.random((20, 4))
    perm_true = np.array([2, 0, 3, 1])
    E_est = np.empty_like(E)
    E_est[:, perm_true] = E * 2.5  # est column perm_true[k] is ref k
    perm = match_endmembers(E, E_est)
    np.testing.assert_array_equal(perm, perm_true)
    np.testing.assert_allclose(sad(E, E_est[:, perm]), 0.0, atol=1e-5)


def test_match_on_abundance_when_no_endmembers():
    A = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]])
    perm = match_endmembers(None, None, A, A[::-1])
    np.testing.assert_array_equal(perm, [1, 0])


def test_rmse_by_hand():
    A_ref = np.array([[1.0, 0.0], [0.0, 1.0]])
    A_est = np.array([[0.5, 0.0], [0.5, 1.0]])
    # endmember 0: errors (0.5, 0) -> sqrt(0.125); same for endmember 1
    np.testing.assert_allclose(abundance_rmse(A_ref, A_est), [np.sqrt(0.125)] * 2)
    # pixel 0 RMSE 0.5, pixel 1 RMSE 0 -> mean 0.25
    assert armse(A_ref, A_est) == pytest.approx(0.25)


def test_nan_pixels_ignored_and_maps_accepted():
    A_ref = np.array([[[1.0, np.nan]], [[0.0, np.nan]]])  # (2, 1, 2)
    A_est = np.array([[[0.0, 0.3]], [[1.0, 0.7]]])
    np.testing.assert_allclose(abundance_rmse(A_ref, A_est), [1.0, 1.0])


def test_reconstruction_rmse():
    E = np.eye(3)[:, :2]
    A = np.array([[1.0, 0.0], [0.0, 1.0]])
    Y = E @ A + np.array([[0.0, 0.0], [0.0, 0.0], [0.3, 0.3]])
    assert reconstruction_rmse(Y, E, A) == pytest.approx(np.sqrt(0.18 / 6))
    np.testing.assert_allclose(per_pixel_rmse(Y, E, A), [np.sqrt(0.09 / 3)] * 2)


def test_pooled_rmse_of_per_pixel_rmses_is_the_reconstruction_rmse():
    rng = np.random.default_rng(0)
    E, A = rng.random((8, 3)), rng.dirichlet(np.ones(3), size=40).T
    Y = E @ A + 0.01 * rng.standard_normal((8, 40))
    per_pixel = per_pixel_rmse(Y, E, A)
    assert pooled_rmse(per_pixel) == pytest.approx(reconstruction_rmse(Y, E, A), rel=1e-12)
    assert pooled_rmse(np.append(per_pixel, np.nan)) == pytest.approx(pooled_rmse(per_pixel))  # nodata pixels


def test_score_unmixing_keys_and_perm():
    rng = np.random.default_rng(1)
    E = rng.random((10, 3))
    A = rng.dirichlet(np.ones(3), size=50).T
    Y = E @ A
    s = score_unmixing(E, A, E[:, [1, 2, 0]], A[[1, 2, 0]], Y=Y)
    assert set(s) >= {"perm", "sad", "asad", "rmse", "mean_rmse", "armse", "recon_rmse"}
    np.testing.assert_array_equal(s["perm"], [2, 0, 1])
    assert s["asad"] == pytest.approx(0.0, abs=1e-5)
    assert s["mean_rmse"] == pytest.approx(0.0, abs=1e-12)
    assert s["recon_rmse"] == pytest.approx(0.0, abs=1e-12)
    s2 = score_unmixing(None, A, None, A[[1, 0, 2]] * 0 + 1 / 3)
    assert s2["sad"] is None and s2["mean_rmse"] > 0


def test_matched_abs_corr_pairs_sources_up_to_order_sign_and_scale():
    rng = np.random.default_rng(0)
    S = rng.normal(size=(500, 3))
    estimates = np.c_[-2.0 * S[:, 2], S[:, 0] + 0.5 * rng.normal(size=500), 3.0 * S[:, 1], rng.normal(size=500)]
    score = matched_abs_corr(S, estimates)
    assert score.shape == (3,)
    np.testing.assert_allclose(score[[1, 2]], 1.0)  # S1 and S2 found exactly (scaled, one sign-flipped)
    assert 0.8 < score[0] < 0.95  # S0 matched to its noisy copy, not to the unrelated fourth estimate


def test_abundance_sets_without_a_common_finite_pixel_are_an_input_error():
    from deepunmix.engine.core.errors import InputError

    ref = np.array([[0.5, np.nan], [0.5, np.nan]])
    est = np.array([[np.nan, 0.3], [np.nan, 0.7]])
    with pytest.raises(InputError, match="no pixel is finite in both"):
        abundance_rmse(ref, est)
