"""VCA, SiVM and N-FINDR: shapes, exact recovery with pure pixels, reproducibility, masks."""

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from deepunmix.engine.extraction.nfindr import NFINDR, nfindr
from deepunmix.engine.extraction.sivm import SiVM, sivm
from deepunmix.engine.extraction.vca import VCA, vca

FUNCS = {
    "vca": lambda Y, p, seed: vca(Y, p, random_state=seed),
    "sivm": lambda Y, p, seed: sivm(Y, p),
    "nfindr": lambda Y, p, seed: nfindr(Y, p, random_state=seed),
}
CLASSES = {"vca": VCA, "sivm": SiVM, "nfindr": NFINDR}


def pure_scene(p, L=40, N=1500, seed=0, snr_db=None):
    """Smooth random spectra, Dirichlet abundances with one pure pixel per endmember."""
    rng = np.random.default_rng(seed)
    E = np.cumsum(rng.normal(size=(L, p)), axis=0)
    E = (E - E.min(axis=0) + 0.2) / (E - E.min(axis=0) + 0.2).max()
    A = rng.dirichlet(np.ones(p), N).T
    pure = rng.choice(N, p, replace=False)
    A[:, pure] = np.eye(p)
    Y = E @ A
    if snr_db is not None:
        Y = Y + rng.normal(0, np.sqrt(np.mean(Y**2) / 10 ** (snr_db / 10)), Y.shape)
    return Y, E, A, pure


def matched_sad_deg(E_ref, E_est):
    R = E_ref / np.linalg.norm(E_ref, axis=0)
    S = E_est / np.linalg.norm(E_est, axis=0)
    ang = np.degrees(np.arccos(np.clip(R.T @ S, -1, 1)))
    r, c = linear_sum_assignment(ang)
    return ang[r, c]


@pytest.mark.parametrize("name", list(FUNCS))
@pytest.mark.parametrize("p", [3, 5, 7])
def test_exact_recovery_noise_free(name, p):
    Y, E, _, pure = pure_scene(p, seed=p)
    E_est, idx = FUNCS[name](Y, p, 0)
    assert E_est.shape == (Y.shape[0], p) and idx.shape == (p,)
    np.testing.assert_array_equal(E_est, Y[:, idx])  # the chosen pixels, in data units
    assert matched_sad_deg(E, E_est).max() < 1e-3
    assert set(idx.tolist()) == set(pure.tolist())


@pytest.mark.parametrize("name", list(FUNCS))
def test_reproducible_and_close_under_noise(name):
    Y, E, _, _ = pure_scene(4, L=60, N=2000, seed=3, snr_db=35)
    E1, i1 = FUNCS[name](Y, 4, 7)
    E2, i2 = FUNCS[name](Y, 4, 7)
    np.testing.assert_array_equal(i1, i2)
    assert matched_sad_deg(E, E1).mean() < 3.0


@pytest.mark.parametrize("name", list(CLASSES))
def test_estimator_indices_mask_and_nan(name):
    p, H, W = 3, 20, 25
    Y, E, _, pure = pure_scene(p, N=H * W, seed=1)
    cube = Y.reshape(-1, H, W).astype(np.float32)
    mask = np.ones((H, W), bool)
    bad = np.unravel_index(np.setdiff1d(np.arange(H * W), pure)[:5], (H, W))
    mask[bad] = False
    cube[:, 0, 0] = np.nan if 0 not in pure else cube[:, 0, 0]
    est = CLASSES[name](n_endmembers=p, random_state=0).fit(cube, mask)
    assert est.endmembers_.shape == (cube.shape[0], p)
    assert est.indices_.shape == (p, 2)
    rows, cols = est.indices_.T
    assert mask[rows, cols].all() and np.isfinite(cube[:, rows, cols]).all()
    np.testing.assert_allclose(est.endmembers_, cube[:, rows, cols], rtol=0, atol=0)
    assert matched_sad_deg(E, est.endmembers_).max() < 1e-3


@pytest.mark.parametrize("name", list(FUNCS))
def test_invalid_endmember_count(name):
    Y, _, _, _ = pure_scene(3, L=10, N=50)
    with pytest.raises(ValueError):
        FUNCS[name](Y, 1, 0)
    with pytest.raises(ValueError):
        FUNCS[name](Y, 11, 0)
    with pytest.raises(ValueError):
        CLASSES[name](n_endmembers=60).fit(Y.reshape(10, 5, 10))


@pytest.mark.parametrize("name", list(CLASSES))
def test_progress_reported_and_cancel_propagates(name):
    from deepunmix.engine.core.progress import Cancelled

    Y, _, _, _ = pure_scene(4, N=400, seed=2)
    cube = Y.reshape(-1, 20, 20)
    seen = []
    CLASSES[name](n_endmembers=4, random_state=0, progress=lambda f, m: seen.append(f)).fit(cube)
    assert seen and seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen)

    def stop(fraction, message):
        raise Cancelled()

    with pytest.raises(Cancelled):
        CLASSES[name](n_endmembers=4, random_state=0, progress=stop).fit(cube)


@pytest.mark.parametrize("name", list(CLASSES))
def test_max_pixels_sample_maps_back_to_image(name):
    Y, _, _, _ = pure_scene(3, N=30 * 40, seed=4)
    cube = Y.reshape(-1, 30, 40).astype(np.float32)
    est = CLASSES[name](n_endmembers=3, random_state=1, max_pixels=200).fit(cube)
    rows, cols = est.indices_.T
    np.testing.assert_array_equal(est.endmembers_, cube[:, rows, cols])
    again = CLASSES[name](n_endmembers=3, random_state=1, max_pixels=200).fit(cube)
    np.testing.assert_array_equal(est.indices_, again.indices_)
