"""Minimum-volume NMF: recovery without pure pixels, constraints, reproducibility, progress."""

import numpy as np
import pytest

from deepunmix.engine.core.progress import Cancelled
from deepunmix.engine.extraction.minvol_nmf import MinVolNMF
from deepunmix.engine.extraction.simplex import project_simplex_columns, simplex_lsq
from deepunmix.engine.extraction.vca import vca
from deepunmix.engine.reporting.metrics import match_endmembers, sad


def _scene(L=40, p=4, size=30, max_abundance=0.8, seed=0):
    """Noise-free linear mixtures of smooth spectra with NO pure pixel (every abundance < max_abundance)."""
    rng = np.random.default_rng(seed)
    wl = np.linspace(0, 1, L)
    E = np.stack([0.3 + 0.25 * np.sin(2 * np.pi * (rng.uniform(0.5, 2.5) * wl + rng.uniform())) for _ in range(p)], 1)
    E = np.abs(E) + 0.05
    A = rng.dirichlet(np.ones(p), size=size * size * 4).T
    A = A[:, A.max(axis=0) < max_abundance][:, : size * size]
    cube = (E @ A).reshape(L, size, size).astype(np.float32)
    return cube, E, A


def test_project_simplex_columns_matches_definition():
    rng = np.random.default_rng(0)
    V = rng.normal(size=(4, 200)) * 2
    P = project_simplex_columns(V)
    assert np.all(P >= 0) and np.allclose(P.sum(axis=0), 1.0)
    # optimality: no random simplex point is closer to v than its projection
    Q = rng.dirichlet(np.ones(4), size=(50,)).T
    d_proj = ((V - P) ** 2).sum(axis=0)
    d_rand = ((V[:, :, None] - Q[:, None, :]) ** 2).sum(axis=0).min(axis=1)
    assert np.all(d_proj <= d_rand + 1e-12)


def test_simplex_lsq_recovers_exact_abundances():
    cube, E, A = _scene(size=10)
    A_hat = simplex_lsq(cube.reshape(cube.shape[0], -1).astype(np.float64), E, n_iter=500)
    assert np.abs(A_hat - A).max() < 1e-3


def test_recovers_endmembers_better_than_vca_without_pure_pixels():
    cube, E, _ = _scene()
    Y = cube.reshape(cube.shape[0], -1).astype(np.float64)
    E_vca, _ = vca(Y, 4, random_state=0)
    sad_vca = sad(E, E_vca[:, match_endmembers(E, E_vca)]).mean()
    model = MinVolNMF(4, init="vca", random_state=0).fit(cube)
    sad_mv = sad(E, model.endmembers_[:, match_endmembers(E, model.endmembers_)]).mean()
    assert sad_mv < 0.5 * sad_vca
    assert sad_mv < 2.0


def test_constraints_mask_and_attributes():
    cube, _, _ = _scene(size=20, seed=1)
    cube[:, 0, 0] = np.nan
    mask = np.ones(cube.shape[1:], bool)
    mask[3, 4] = False
    model = MinVolNMF(4, init="random", max_iter=60, random_state=0).fit(cube, mask)
    A, E = model.abundances_, model.endmembers_
    assert A.shape == (4, 20, 20) and A.dtype == np.float32 and E.shape == (40, 4)
    assert np.isnan(A[:, 0, 0]).all() and np.isnan(A[:, 3, 4]).all()
    ok = np.isfinite(A[0])
    assert ok.sum() == 398
    assert np.all(A[:, ok] >= 0) and np.allclose(A[:, ok].sum(axis=0), 1.0, atol=1e-5)  # ANC, ASC
    assert np.all(E >= 0)  # ENC
    assert model.lam_ > 0 and model.n_iter_ == len(model.loss_curve_) <= 60
    assert model.reconstruction_error_.shape == (20, 20)
    assert np.nanmax(model.reconstruction_error_) < 0.05 * np.nanmax(cube)


def test_scale_invariant_and_reproducible():
    cube, _, _ = _scene(size=15, seed=2)
    a = MinVolNMF(4, init="random", max_iter=40, random_state=3).fit(cube)
    b = MinVolNMF(4, init="random", max_iter=40, random_state=3).fit(cube)
    np.testing.assert_array_equal(a.endmembers_, b.endmembers_)
    np.testing.assert_array_equal(a.abundances_, b.abundances_)
    c = MinVolNMF(4, init="random", max_iter=40, random_state=3).fit(cube * 1000)
    np.testing.assert_allclose(c.endmembers_, a.endmembers_ * 1000, rtol=1e-3, atol=1e-2)


def test_progress_and_cancel():
    cube, _, _ = _scene(size=10)
    seen = []
    MinVolNMF(4, init="random", max_iter=10, tol=0, random_state=0, progress=lambda f, m: seen.append(f)).fit(cube)
    assert seen[-1] == 1.0 and len(seen) >= 10 and seen == sorted(seen)

    def cancel(f, m):
        if f > 0.3:
            raise Cancelled()

    with pytest.raises(Cancelled):
        MinVolNMF(4, init="random", max_iter=10, tol=0, random_state=0, progress=cancel).fit(cube)


def test_bad_arguments():
    cube, _, _ = _scene(size=10)
    with pytest.raises(ValueError):
        MinVolNMF(4, init="nope").fit(cube)
    with pytest.raises(ValueError):
        MinVolNMF(1).fit(cube)


def test_fit_on_pixel_sample_still_unmixes_every_pixel():
    cube, E, A = _scene(size=20, seed=3)
    model = MinVolNMF(4, max_fit_pixels=150, random_state=0).fit(cube)
    assert model.n_fit_pixels_ == 150
    assert np.isfinite(model.abundances_).all()
    assert np.allclose(model.abundances_.sum(axis=0), 1.0, atol=1e-5)
    full = MinVolNMF(4, max_fit_pixels=None, random_state=0).fit(cube)
    assert full.n_fit_pixels_ == 400
    # the sample is enough to place the simplex close to the full-data fit
    assert (
        sad(full.endmembers_, model.endmembers_[:, match_endmembers(full.endmembers_, model.endmembers_)]).max() < 3.0
    )


def test_project_simplex_matches_sort_rule():
    rng = np.random.default_rng(1)
    V = rng.normal(size=(6, 500)) * rng.uniform(0.01, 5, size=500)
    U = -np.sort(-V, axis=0)
    css = np.cumsum(U, axis=0) - 1
    k = np.arange(1, 7)[:, None]
    rho = (U - css / k > 0).sum(axis=0)  # number of positive entries of the projection
    theta = css[rho - 1, np.arange(500)] / rho
    np.testing.assert_allclose(project_simplex_columns(V), np.maximum(V - theta, 0), atol=1e-12)
