"""UnDIP: constraints, fixed endmembers, seeds, loss, cancel, size limit."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from synthetic import procedural_library  # noqa: E402

from deepunmix.engine.core.progress import Cancelled  # noqa: E402
from deepunmix.engine.dip.undip import UnDIP  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _scene(size=(13, 19), p=3, seed=0):
    rng = np.random.default_rng(seed)
    lib, _, _ = procedural_library(n_bands=20, n_spectra=6, random_state=0)
    E = lib[:, :p]
    A = rng.dirichlet(np.full(p, 0.5), size=size).transpose(2, 0, 1)
    Y = np.einsum("lp,phw->lhw", E, A) + rng.normal(scale=0.005, size=(20,) + size)
    return Y.astype(np.float32), E, A


def test_constraints_and_given_endmembers():
    cube, E, _ = _scene()
    m = UnDIP(endmembers=E, n_iter=20, random_state=0).fit(cube)
    np.testing.assert_array_equal(m.endmembers_, E)
    assert m.abundances_.shape == (3, 13, 19)
    assert np.all(m.abundances_ >= 0)
    np.testing.assert_allclose(m.abundances_.sum(axis=0), 1.0, atol=1e-5)


def test_extractor_path_reproducible_and_loss_decreases():
    cube, _, _ = _scene()
    a = UnDIP(3, n_iter=40, learning_rate=1e-2, random_state=1).fit(cube)
    b = UnDIP(3, n_iter=40, learning_rate=1e-2, random_state=1).fit(cube)
    np.testing.assert_array_equal(a.abundances_, b.abundances_)
    assert a.loss_curve_[-1] < a.loss_curve_[0]
    assert a.extractor_indices_.shape == (3, 2)


def test_fits_abundances_with_true_endmembers():
    cube, E, A = _scene()
    m = UnDIP(endmembers=E, n_iter=150, learning_rate=1e-2, random_state=0).fit(cube)
    rmse = np.sqrt(np.mean((m.abundances_ - A) ** 2))
    assert rmse < 0.12  # uniform 1/3 maps would give about 0.3


def test_cancel_size_limit_and_arguments():
    cube, E, _ = _scene()

    def progress(f, msg):
        if f > 0.1:
            raise Cancelled()

    with pytest.raises(Cancelled):
        UnDIP(endmembers=E, n_iter=100, progress=progress).fit(cube)
    with pytest.raises(ValueError, match="max_pixels"):
        UnDIP(endmembers=E, settings=dict(max_pixels=50, tiles=False)).fit(cube)
    with pytest.raises(ValueError, match="n_endmembers"):
        UnDIP().fit(cube)


def test_cuda_request_without_cuda_fails_fast():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    cube, E, _ = _scene()
    with pytest.raises(RuntimeError, match="CUDA"):
        UnDIP(endmembers=E, n_iter=1, device="cuda").fit(cube)
