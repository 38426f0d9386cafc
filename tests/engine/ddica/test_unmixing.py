"""DDICA estimator on a tiny synthetic scene (CPU, one torch thread)."""
import pickle

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from deepunmix.engine.ddica import DDICA
from deepunmix.engine.progress import Cancelled

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

FAST = dict(n_restarts=4, n_steps=60, batch_size=64, hidden_units=(32, 32), keep_fraction=0.5)


def _scene(seed=0, size=16, bands=20, p=3, dark=1.0):
    rng = np.random.default_rng(seed)
    wl = np.linspace(0, 1, bands)
    E = np.stack([0.2 + 0.6 * np.exp(-((wl - c) ** 2) / 0.05) for c in (0.1, 0.5, 0.9)[:p]], 1)
    E[:, -1] *= dark  # a darker last material (water-like) when dark < 1
    A = rng.dirichlet(np.full(p, 0.3), size * size).T  # mostly near-pure pixels
    Y = E @ A + rng.normal(0, 0.005, (bands, size * size))
    return Y.reshape(bands, size, size).astype(np.float32), A.reshape(p, size, size), E


def _rmse(A_ref, A_est):
    C = np.sqrt(((A_ref.reshape(len(A_ref), 1, -1) - A_est.reshape(1, len(A_est), -1)) ** 2).mean(-1))
    r, c = linear_sum_assignment(C)
    return C[r, c].mean()


@pytest.fixture(scope="module")
def fitted():
    cube, A, E = _scene()
    return DDICA(3, random_state=0, **FAST).fit(cube), cube, A


def test_constraints_shapes_and_not_degenerate(fitted):
    model, cube, A = fitted
    ab = model.abundances_
    assert ab.shape == (3, 16, 16) and ab.dtype == np.float32
    assert np.all(ab >= 0)
    np.testing.assert_allclose(ab.sum(0), 1.0, atol=1e-5)
    assert model.endmembers_.shape == (20, 3) and np.all(model.endmembers_ >= 0)
    assert np.all(ab.reshape(3, -1).std(1) > 0.1)  # no constant or dead map
    assert np.all(model.network_abundances_.reshape(3, -1).std(1) > 0.1)  # nor in the network's own maps
    assert len(model.loss_curve_) == FAST["n_steps"] and np.isfinite(model.loss_curve_).all()
    assert model.reconstruction_error_.shape == (16, 16)


def test_recovery_clearly_better_than_chance(fitted):
    model, cube, A = fitted
    chance = _rmse(A, np.random.default_rng(1).dirichlet(np.full(3, 0.3), 256).T)
    assert _rmse(A, model.abundances_) < 0.6 * chance


def test_reproducible_with_seed(fitted):
    model, cube, _ = fitted
    again = DDICA(3, random_state=0, **FAST).fit(cube)
    np.testing.assert_array_equal(model.abundances_, again.abundances_)


def test_transform_pickle_and_mask(fitted):
    model, cube, _ = fitted
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(clone.transform(cube), model.abundances_, atol=1e-6)
    block = clone.predict_abundances(cube[:, :4].reshape(20, -1).astype(np.float64))
    np.testing.assert_allclose(block, model.abundances_[:, :4].reshape(3, -1), atol=1e-6)
    mask = np.ones((16, 16), bool)
    mask[0, :5] = False
    out = clone.transform(cube, mask)
    assert np.isnan(out[:, 0, :5]).all() and np.isfinite(out[:, mask]).all()
    assert set(model.export_numpy()) >= {"weights", "mean", "scale", "unit_labels"}


def test_fit_with_mask_and_overclassification():
    cube, _, _ = _scene(seed=2, size=12)
    cube[:, 0, 0] = np.nan
    model = DDICA(3, n_units=5, random_state=1, **{**FAST, "n_steps": 20}).fit(cube)
    assert np.isnan(model.abundances_[:, 0, 0]).all()
    np.testing.assert_allclose(np.nansum(model.abundances_, 0)[1:], 1.0, atol=1e-5)


def test_progress_and_cancel():
    cube, _, _ = _scene(size=8)
    seen = []

    def cb(fraction, message):
        seen.append(fraction)
        if fraction > 0.3:
            raise Cancelled()

    with pytest.raises(Cancelled):
        DDICA(3, random_state=0, progress=cb, **FAST).fit(cube)
    assert 0.3 < seen[-1] < 0.9 and seen == sorted(seen)


def test_cuda_request_without_gpu_raises():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    cube, _, _ = _scene(size=6)
    with pytest.raises(RuntimeError, match="CUDA"):
        DDICA(3, device="cuda", **FAST).fit(cube)


def test_pixel_norm_is_brightness_invariant():
    cube, A, _ = _scene(seed=3)
    model = DDICA(3, random_state=0, preprocess="pixel_norm", final_abundances="network", **FAST).fit(cube)
    Y = cube.reshape(20, -1).astype(np.float64)
    gain = np.random.default_rng(0).uniform(0.3, 3.0, Y.shape[1])
    np.testing.assert_allclose(model.predict_abundances(Y * gain), model.predict_abundances(Y), atol=1e-5)
    plain = DDICA(3, random_state=0, final_abundances="network", **FAST).fit(cube)
    assert not np.allclose(plain.predict_abundances(Y * gain), plain.predict_abundances(Y), atol=1e-3)
    assert np.all(model.abundances_.reshape(3, -1).std(1) > 0.1)
    assert model.export_numpy()["pixel_norm"] is True


def test_default_abundances_are_fcls_of_purest_pixel_endmembers():
    from deepunmix.engine.endmember_refinement import endmembers_from_maps
    from deepunmix.engine.fcls import fcls

    cube, A, _ = _scene(seed=4)
    model = DDICA(3, random_state=0, **FAST).fit(cube)
    Y = cube.reshape(20, -1).astype(np.float64)
    E, _ = endmembers_from_maps(Y, model.network_abundances_.reshape(3, -1).astype(np.float64), 0.05, 3)
    np.testing.assert_allclose(model.endmembers_, E, atol=1e-4)
    np.testing.assert_allclose(model.abundances_.reshape(3, -1), fcls(Y, model.endmembers_), atol=1e-5)
    np.testing.assert_allclose(model.predict_abundances(Y), model.abundances_.reshape(3, -1), atol=1e-5)
    assert np.all(model.abundances_ >= 0)
    np.testing.assert_allclose(model.abundances_.sum(0), 1.0, atol=1e-5)
    paper = DDICA(3, random_state=0, purify=0, final_abundances="network", **FAST).fit(cube)
    np.testing.assert_array_equal(paper.network_abundances_, model.network_abundances_)  # same training
    np.testing.assert_allclose(paper.abundances_, paper.network_abundances_)
    assert np.mean(model.reconstruction_error_) < np.mean(paper.reconstruction_error_)
    assert _rmse(A, model.abundances_) < _rmse(A, paper.abundances_)


def test_peak_normalised_convention():
    from deepunmix.engine.abundance_convention import peak_normalised_abundances

    cube, _, _ = _scene(seed=5, dark=0.2)
    model = DDICA(3, random_state=0, abundance_convention="peak_normalised", **FAST).fit(cube)
    fractions = DDICA(3, random_state=0, **FAST).fit(cube)
    Y = cube.reshape(20, -1).astype(np.float64)
    np.testing.assert_allclose(model.endmembers_.max(0), 1.0)
    np.testing.assert_allclose(model.endmembers_, fractions.endmembers_ / fractions.endmembers_.max(0), atol=1e-6)
    np.testing.assert_allclose(model.abundances_.reshape(3, -1), peak_normalised_abundances(Y, model.endmembers_)[0],
                               atol=1e-5)
    np.testing.assert_allclose(model.predict_abundances(Y), model.abundances_.reshape(3, -1), atol=1e-5)
    np.testing.assert_allclose(model.abundances_.sum(0), 1.0, atol=1e-5)
    assert np.abs(model.abundances_ - fractions.abundances_).max() > 0.1  # the dark material's share differs
    with pytest.raises(ValueError, match="convention"):
        DDICA(3, abundance_convention="percent", **FAST).fit(cube)
    with pytest.raises(ValueError, match="final_abundances"):
        DDICA(3, final_abundances="adip", **FAST).fit(cube)


def test_unknown_preprocess_rejected():
    cube, _, _ = _scene(size=8)
    with pytest.raises(ValueError, match="preprocess"):
        DDICA(3, preprocess="pca", **FAST).fit(cube)
