import numpy as np
import pytest
from synthetic import make_mixed_scene, make_patch_scene, procedural_library, usgs_library

from deepunmix.engine.io.matfile import default_data_dir
from deepunmix.engine.reporting.metrics import sad_matrix

DATA = default_data_dir()


def test_procedural_library_range_and_distinct():
    lib, wl, names = procedural_library(n_bands=224, n_spectra=12)
    assert lib.shape == (224, 12) and wl.shape == (224,) and len(names) == 12
    assert wl[0] == 400 and wl[-1] == 2500
    assert lib.min() > 0.05 - 1e-9 and lib.max() < 0.95 + 1e-9
    S = sad_matrix(lib, lib) + np.eye(12) * 180
    assert S.min() > 10.0
    # smooth: small band-to-band steps
    assert np.abs(np.diff(lib, axis=0)).max() < 0.1


def test_patch_scene_shapes_asc_and_snr():
    s = make_patch_scene(size=40, n_endmembers=5, snr_db=25, random_state=3)
    assert s.cube.shape == (224, 40, 40) and s.cube.dtype == np.float32
    assert s.abundances.shape == (5, 40, 40) and s.endmembers.shape == (224, 5)
    np.testing.assert_allclose(s.abundances.sum(0), 1.0, atol=1e-12)
    assert s.abundances.min() >= 0 and s.abundances.max() <= 0.8 + 1e-12
    clean = s.endmembers @ s.abundances.reshape(5, -1)
    noise = s.cube.reshape(224, -1) - clean
    snr = 10 * np.log10(np.mean(clean**2) / np.mean(noise**2))
    assert abs(snr - 25) < 0.2
    assert len(s.names) == 5


def test_patch_scene_noise_free_and_odd_size():
    s = make_patch_scene(size=23, n_endmembers=3, snr_db=None, n_patches=16, random_state=0)
    clean = s.endmembers @ s.abundances.reshape(3, -1)
    np.testing.assert_allclose(s.cube.reshape(224, -1), clean, atol=1e-6)


def test_patch_scene_deterministic():
    a = make_patch_scene(size=20, n_endmembers=4, random_state=7)
    b = make_patch_scene(size=20, n_endmembers=4, random_state=7)
    c = make_patch_scene(size=20, n_endmembers=4, random_state=8)
    np.testing.assert_array_equal(a.cube, b.cube)
    assert not np.array_equal(a.cube, c.cube)


def test_patch_scene_without_blur_has_exact_fractions():
    s = make_patch_scene(size=20, n_endmembers=4, snr_db=None, filter_size=1, random_state=2)
    vals = np.unique(np.round(s.abundances, 12))
    assert set(vals) <= {0.0, 0.2, 0.8}


def test_mixed_scene_pure_pixels():
    s = make_mixed_scene(size=(6, 9), n_endmembers=4, random_state=0)
    A = s.abundances.reshape(4, -1)
    np.testing.assert_array_equal(A[:, :4], np.eye(4))
    np.testing.assert_allclose(A.sum(0), 1.0)
    np.testing.assert_allclose(s.cube.reshape(224, -1)[:, :4], s.endmembers, atol=1e-6)


def test_custom_library():
    lib = np.abs(np.random.default_rng(0).normal(size=(10, 5))) + 0.1
    s = make_mixed_scene(size=5, n_endmembers=3, library=lib, names=list("abcde"), random_state=1)
    assert s.cube.shape == (10, 5, 5)
    assert set(s.names) <= set("abcde")
    np.testing.assert_array_equal(s.endmembers, lib[:, s.library_indices])


def test_usgs_library():
    f = DATA / "usgs" / "USGS_1995_Library.mat"
    if not f.exists():
        pytest.skip("data absent")
    lib, wl, names = usgs_library(DATA / "usgs")
    assert lib.shape == (224, 498) and len(names) == 498
    assert np.all(np.diff(wl) > 0) and 0.38 < wl[0] < 0.39
    assert lib.min() > 0 and lib.max() < 1.1
    assert names[0] == "Acmite NMNH133746"
    lib10, wl10, _ = usgs_library(DATA / "usgs" / "USGS_pruned_10_deg.mat")
    assert lib10.shape == (224, 62) and wl10 is not None


def test_patch_scene_pure_patches_give_near_pure_pixels():
    # the paper's recipe has no pixel purer than 0.8; real scenes (and pure-pixel extractors) do
    plain = make_patch_scene(size=60, n_endmembers=4, n_patches=36, snr_db=None, random_state=0)
    assert plain.abundances.max() <= 0.8 + 1e-9
    sc = make_patch_scene(size=60, n_endmembers=4, n_patches=36, snr_db=None, pure_patches=0.25, random_state=0)
    A = sc.abundances.reshape(4, -1)
    assert (A.max(1) > 0.95).all()  # every endmember has near-pure pixels
    assert 0.01 < (A.max(0) > 0.95).mean() < 0.25  # a few, not most
    np.testing.assert_allclose(A.sum(0), 1.0)
    np.testing.assert_array_equal(plain.endmembers, sc.endmembers)  # same draws otherwise
