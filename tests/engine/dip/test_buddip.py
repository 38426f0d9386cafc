"""BUDDIP: constraints, odd sizes, seeds, loss, quality vs SiVM + FCLS, cancel, size limit, mask."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from synthetic import make_patch_scene, procedural_library  # noqa: E402

from deepunmix.engine.abundances.fcls import fcls  # noqa: E402
from deepunmix.engine.core.progress import Cancelled  # noqa: E402
from deepunmix.engine.dip.buddip import BUDDIP  # noqa: E402
from deepunmix.engine.extraction.sivm import sivm  # noqa: E402
from deepunmix.engine.reporting.metrics import score_unmixing  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _scene(size=(15, 17), p=3, snr=30.0, seed=0):
    rng = np.random.default_rng(seed)
    lib, _, _ = procedural_library(n_bands=24, n_spectra=8, random_state=0)
    E = lib[:, :p]
    A = rng.dirichlet(np.full(p, 0.5), size=size).transpose(2, 0, 1)  # (p, H, W)
    Y = np.einsum("lp,phw->lhw", E, A)
    Y += rng.normal(scale=np.sqrt(np.mean(Y**2) / 10 ** (snr / 10)), size=Y.shape)
    return Y.astype(np.float32), E, A


def test_constraints_odd_size_and_p3():
    cube, _, _ = _scene()
    m = BUDDIP(3, n_iter=15, random_state=0).fit(cube)
    assert m.abundances_.shape == (3, 15, 17) and m.endmembers_.shape == (24, 3)
    assert np.all(m.endmembers_ >= 0)
    assert np.all(m.abundances_ >= 0)
    np.testing.assert_allclose(m.abundances_.sum(axis=0), 1.0, atol=1e-5)
    assert m.init_endmembers_.shape == (24, 3) and m.init_abundances_.shape == (3, 15, 17)
    assert m.reconstruction_error_.shape == (15, 17) and len(m.loss_curve_) == m.n_iter_ == 15


def test_reproducible_with_seed():
    cube, _, _ = _scene()
    a = BUDDIP(3, n_iter=10, random_state=3, extractor="vca").fit(cube)
    b = BUDDIP(3, n_iter=10, random_state=3, extractor="vca").fit(cube)
    np.testing.assert_array_equal(a.abundances_, b.abundances_)
    np.testing.assert_array_equal(a.endmembers_, b.endmembers_)
    assert a.loss_curve_ == b.loss_curve_


def test_loss_decreases():
    cube, _, _ = _scene(snr=25)
    # the paper's guidance (raw SiVM): the refined default guidance can start at the loss minimum already
    m = BUDDIP(3, n_iter=60, learning_rate=1e-2, random_state=0, purify=0, expand=0).fit(cube)
    assert m.loss_curve_[-1] < 0.95 * m.loss_curve_[0]


def test_starts_at_guidance_with_zero_iterations():
    cube, _, _ = _scene()
    m = BUDDIP(3, n_iter=0, random_state=0, purify=0, expand=0).fit(cube)
    Y = cube.reshape(cube.shape[0], -1).astype(np.float64)
    E, _ = sivm(Y, 3)
    np.testing.assert_allclose(m.init_endmembers_, E)
    np.testing.assert_allclose(m.abundances_.reshape(3, -1), fcls(Y, E), atol=1e-5)


def test_beats_sivm_fcls_on_noisy_patch_scene():
    lib, _, _ = procedural_library(n_bands=40, n_spectra=10, random_state=0)
    scene = make_patch_scene(
        size=30, n_endmembers=4, snr_db=15, library=lib, n_patches=36, filter_size=5, random_state=1
    )
    Y = scene.cube.reshape(scene.cube.shape[0], -1).astype(np.float64)
    E0, _ = sivm(Y, 4)
    ref = score_unmixing(scene.endmembers, scene.abundances, E0, fcls(Y, E0))
    m = BUDDIP(4, n_iter=100, random_state=0).fit(scene.cube)
    got = score_unmixing(scene.endmembers, scene.abundances, m.endmembers_, m.abundances_)
    assert got["armse"] < ref["armse"]
    assert got["asad"] < ref["asad"]


def test_mask_and_nan_pixels_are_nan_and_excluded():
    cube, _, _ = _scene()
    cube[:, 0, 0] = np.nan
    mask = np.ones(cube.shape[1:], bool)
    mask[3, 4] = False
    cube[:, 3, 4] = 1e6  # garbage under the mask must not matter
    m = BUDDIP(3, n_iter=10, random_state=0).fit(cube, mask)
    assert np.isnan(m.abundances_[:, 0, 0]).all() and np.isnan(m.abundances_[:, 3, 4]).all()
    ok = np.isfinite(m.abundances_[0])
    assert ok.sum() == cube.shape[1] * cube.shape[2] - 2
    assert m.endmembers_.max() < 10  # the masked 1e6 pixel did not leak into the endmembers


def test_cancel_via_progress():
    cube, _, _ = _scene()
    seen = []

    def progress(f, msg):
        seen.append(f)
        if f > 0.2:
            raise Cancelled()

    with pytest.raises(Cancelled):
        BUDDIP(3, n_iter=200, random_state=0, progress=progress).fit(cube)
    assert seen and seen[-1] < 0.5


def test_size_limit_message():
    cube, _, _ = _scene()
    with pytest.raises(ValueError, match="limit of 100 pixels"):
        BUDDIP(3, settings=dict(max_pixels=100, tiles=False)).fit(cube)


def test_given_endmembers_and_bad_extractor():
    cube, E, _ = _scene()
    m = BUDDIP(3, n_iter=5, init_endmembers=E, random_state=0).fit(cube)
    np.testing.assert_allclose(m.init_endmembers_, E)
    assert m.extractor_indices_ is None
    with pytest.raises(ValueError, match="extractor"):
        BUDDIP(3, extractor="ppi").fit(cube)
    with pytest.raises(ValueError, match="rows"):
        BUDDIP(3, init_endmembers=E[:5]).fit(cube)


def test_final_abundances_fcls_or_adip():
    cube, _, _ = _scene()
    Y = cube.reshape(cube.shape[0], -1).astype(np.float64)
    f = BUDDIP(3, n_iter=10, random_state=0).fit(cube)  # default: FCLS with the learned endmembers
    np.testing.assert_allclose(f.abundances_.reshape(3, -1), fcls(Y, f.endmembers_), atol=1e-5)
    a = BUDDIP(3, n_iter=10, random_state=0, final_abundances="adip").fit(cube)
    np.testing.assert_array_equal(a.abundances_, a.adip_abundances_)
    np.testing.assert_array_equal(a.adip_abundances_, f.adip_abundances_)  # same training either way
    assert not np.allclose(a.abundances_, f.abundances_, atol=1e-4)
    with pytest.raises(ValueError, match="final_abundances"):
        BUDDIP(3, final_abundances="mean").fit(cube)
