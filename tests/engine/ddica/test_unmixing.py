"""DDICA estimator on a tiny synthetic scene (CPU, one torch thread)."""

import pickle

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from deepunmix.engine.core.progress import Cancelled
from deepunmix.engine.ddica import DDICA

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

FAST = dict(n_restarts=4, n_steps=60, batch_size=64, hidden_units=(32, 32), settings=dict(keep_fraction=0.5))


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


def test_default_abundances_are_fcls_of_purest_pixel_endmembers_of_the_maps():
    from deepunmix.engine.abundances.fcls import fcls
    from deepunmix.engine.ddica.clustering import nnls_endmembers
    from deepunmix.engine.ddica.unmixing import DDICA, EXPANSION_FLOOR
    from deepunmix.engine.extraction.refinement import endmembers_from_maps

    cube, A, _ = _scene(seed=4)
    model = DDICA(3, random_state=0, **FAST).fit(cube)
    Y = cube.reshape(20, -1).astype(np.float64)
    maps = model.network_abundances_.reshape(3, -1).astype(np.float64)
    d = DDICA.VARIANTS["default"]
    E, _ = endmembers_from_maps(Y, maps, d["purify"], d["expand"], floor=EXPANSION_FLOOR)
    np.testing.assert_allclose(model.endmembers_, E, atol=1e-4)
    np.testing.assert_allclose(model.abundances_.reshape(3, -1), fcls(Y, model.endmembers_), atol=1e-5)
    np.testing.assert_allclose(model.predict_abundances(Y), model.abundances_.reshape(3, -1), atol=1e-5)
    assert np.all(model.abundances_ >= 0)
    np.testing.assert_allclose(model.abundances_.sum(0), 1.0, atol=1e-5)
    network = DDICA(3, random_state=0, final_abundances="network", **FAST).fit(cube)
    np.testing.assert_array_equal(network.network_abundances_, model.network_abundances_)  # same training
    np.testing.assert_allclose(network.abundances_, network.network_abundances_)
    assert np.mean(model.reconstruction_error_) < np.mean(network.reconstruction_error_)
    nnls = DDICA(3, random_state=0, purify=0.0, **FAST).fit(cube)  # the default of issue 22 (2026-11-26 to 12-06)
    np.testing.assert_allclose(nnls.endmembers_, nnls_endmembers(Y, maps), atol=1e-4)
    np.testing.assert_allclose(nnls.abundances_.reshape(3, -1), fcls(Y, nnls.endmembers_), atol=1e-5)


def test_peak_normalised_convention():
    from deepunmix.engine.abundances.convention import peak_normalised_abundances

    cube, _, _ = _scene(seed=5, dark=0.2)
    model = DDICA(3, random_state=0, abundance_convention="peak_normalised", **FAST).fit(cube)
    fractions = DDICA(3, random_state=0, **FAST).fit(cube)
    Y = cube.reshape(20, -1).astype(np.float64)
    np.testing.assert_allclose(model.endmembers_.max(0), 1.0)
    np.testing.assert_allclose(model.endmembers_, fractions.endmembers_ / fractions.endmembers_.max(0), atol=1e-6)
    np.testing.assert_allclose(
        model.abundances_.reshape(3, -1), peak_normalised_abundances(Y, model.endmembers_)[0], atol=1e-5
    )
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


TINY_PAPER = dict(variant="paper", hidden_units=(16,) * 6, n_restarts=3, batch_size=100)


def test_paper_variant_resolves_every_published_setting():
    cfg = DDICA(3, variant="paper").resolved_settings()
    assert cfg["hidden_units"] == (4096,) * 6 and cfg["batch_norm"] and cfg["kernel_width"] == 0.1
    assert cfg["learning_rate"] == 1e-4 and cfg["batch_size"] == 1000 and cfg["n_restarts"] == 1000
    assert cfg["sampling"] == "epochs" and cfg["consensus"] == "kmeans" and cfg["final_abundances"] == "network"
    assert not cfg["standardise_outputs"] and cfg["variance_weight"] == 0 and cfg["keep_fraction"] == 1.0
    assert not cfg["renormalise"] and cfg["preprocess"] == "raw" and not cfg["whitening"]
    assert DDICA(3, variant="paper", hidden_units=(8,) * 6).resolved_settings()["hidden_units"] == (8,) * 6
    assert DDICA(3).resolved_settings()["hidden_units"] == (128, 128)
    with pytest.raises(ValueError, match="variant"):
        DDICA(3, variant="authors").resolved_settings()


def test_paper_variant_runs_that_configuration(monkeypatch):
    """Paper run: no output standardisation, σ = 0.1, BatchNorm, epochs of shuffled batches, k-means means, network maps."""
    from deepunmix.engine.ddica import unmixing

    seen = {}
    real_tc = unmixing.total_correlation

    def spy_tc(z, sigma, alpha, route):
        seen.setdefault("sigma", sigma)
        seen.setdefault("std", []).append(float(z.detach().std(-2).mean()))
        return real_tc(z, sigma, alpha, route)

    def no_standardise(*a, **k):
        raise AssertionError("the paper variant must not standardise its outputs")

    monkeypatch.setattr(unmixing, "total_correlation", spy_tc)
    monkeypatch.setattr(unmixing, "_standardise_over_batch", no_standardise)
    cube, A, _ = _scene(seed=6)
    model = DDICA(3, random_state=0, **TINY_PAPER).fit(cube)
    assert seen["sigma"] == 0.1 and model.kernel_width_ == 0.1
    assert max(seen["std"]) < 0.6  # raw softmax outputs (standardised ones have std 1)
    assert model.n_iter_ == 3 * 3  # 3 epochs of 256 pixels in batches of 100 (last batch of 56 kept)
    assert len(model.batch_norm_) == 6 and len(model.weights_) == 7
    assert len(model.kept_restarts_) == 3  # no keep-fraction
    np.testing.assert_array_equal(model.mean_, 0.0)  # raw input
    # plain k-means: each map is the mean of its cluster's units, min-max scaled, not renormalised
    Y = cube.reshape(20, -1).astype(np.float64)
    units = model._unit_maps(model.weights_, Y, model.batch_norm_).reshape(-1, 256)
    labels = model.unit_labels_.ravel()
    means = np.stack([units[labels == c].mean(0) for c in range(3)])
    scaled = (means - means.min(1, keepdims=True)) / (means.max(1, keepdims=True) - means.min(1, keepdims=True))
    np.testing.assert_allclose(model.abundances_.reshape(3, -1), scaled, atol=1e-5)
    np.testing.assert_allclose(model.abundances_.reshape(3, -1).max(1), 1.0, atol=1e-6)
    np.testing.assert_allclose(model.abundances_.reshape(3, -1).min(1), 0.0, atol=1e-6)
    np.testing.assert_allclose(model.predict_abundances(Y), model.abundances_.reshape(3, -1), atol=1e-5)
    np.testing.assert_allclose(model.abundances_, model.network_abundances_)


def test_unit_maps_on_the_device_equal_the_numpy_maps():
    """The CUDA fit computes its unit maps with torch (BatchNorm running statistics, softmax): same maps as numpy's."""
    cube, _, _ = _scene(seed=6)
    model = DDICA(3, random_state=0, **TINY_PAPER).fit(cube)
    Y = cube.reshape(20, -1).astype(np.float64)
    params = [(torch.as_tensor(W), torch.as_tensor(b)) for W, b in model.weights_]
    bn = [[torch.as_tensor(a) for a in state] for state in model.batch_norm_]
    on_device = model._unit_maps_on_device(params, bn, Y)
    numpy_maps = model._unit_maps(model.weights_, Y, model.batch_norm_)
    assert on_device.shape == numpy_maps.shape == (3, 3, 256)
    np.testing.assert_allclose(on_device, numpy_maps, atol=1e-5)


def test_paper_variant_options_from_the_authors_code():
    from deepunmix.engine.ddica.clustering import nearest_units

    cube, _, _ = _scene(seed=7, size=12)
    w = DDICA(3, random_state=0, whitening=True, **TINY_PAPER).fit(cube)
    plain = DDICA(3, random_state=0, **TINY_PAPER).fit(cube)
    assert np.isfinite(w.loss_curve_).all() and not np.allclose(w.loss_curve_, plain.loss_curve_)
    maps = np.random.default_rng(0).random((9, 5))
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    out = nearest_units(maps, labels, np.stack([maps[labels == c].mean(0) for c in range(3)]), n_nearest=2)
    assert (out == -1).sum() == 3 and all((out == c).sum() == 2 for c in range(3))


def test_power_whitening_whitens_the_uncentred_second_moment():
    from deepunmix.engine.ddica import network

    s = torch.softmax(torch.randn(2, 500, 3, generator=torch.Generator().manual_seed(0)) * 2, -1)
    z = network.power_whiten(s)
    second = z.transpose(-1, -2) @ z / 500
    torch.testing.assert_close(second, torch.eye(3).expand(2, 3, 3), atol=1e-3, rtol=0)


def test_untrained_and_tc_off_ablations_run():
    cube, _, _ = _scene(seed=8, size=10)
    untrained = DDICA(3, random_state=0, n_steps=0, **{k: v for k, v in FAST.items() if k != "n_steps"}).fit(cube)
    assert untrained.n_iter_ == 0 and len(untrained.loss_curve_) == 0
    tc_off = {**FAST, "settings": dict(FAST["settings"], tc_weight=0.0)}
    DDICA(3, random_state=0, **tc_off).fit(cube)
    with pytest.raises(ValueError, match="nothing to train"):
        DDICA(3, random_state=0, variance_weight=0.0, **tc_off).fit(cube)


def test_restarts_trained_in_groups_and_weights_too_large_to_keep(monkeypatch):
    from deepunmix.engine.ddica import memory, unmixing

    cube, _, _ = _scene(seed=9, size=10)
    monkeypatch.setattr(memory, "TRAIN_GROUP_BYTES", 1)  # one restart per group
    monkeypatch.setattr(unmixing, "_WEIGHT_BUDGET_BYTES", 1)  # nothing kept
    model = DDICA(3, random_state=0, **{**FAST, "n_steps": 5}).fit(cube)
    assert model.weights_ is None and model.restart_loss_curves_.shape == (5, FAST["n_restarts"])
    assert np.isfinite(model.abundances_).all()
    with pytest.raises(RuntimeError, match="too large"):
        DDICA(3, random_state=0, final_abundances="network", **{**FAST, "n_steps": 5}).fit(cube).predict_abundances(
            cube.reshape(20, -1).astype(np.float64)
        )


def test_safeguard_quiet_on_a_fair_scene_and_warns_on_one_material():
    model = DDICA(3, random_state=0, **dict(FAST, n_restarts=8)).fit(_scene()[0])
    assert model.restart_agreement_.shape == (3,)
    assert model.warnings_ == []
    # one spectrum at varying brightness: three endmembers can only be the same material found three times
    rng = np.random.default_rng(0)
    spectrum = 0.2 + 0.6 * np.exp(-((np.linspace(0, 1, 20) - 0.5) ** 2) / 0.05)
    cube = (np.outer(spectrum, rng.uniform(0.8, 1.2, 256)) + rng.normal(0, 0.002, (20, 256))).reshape(20, 16, 16)
    bad = DDICA(3, random_state=0, **FAST).fit(cube.astype(np.float32))
    assert any("degrees apart" in w for w in bad.warnings_)


def test_authors_code_variant_reads_out_as_their_repository():
    from deepunmix.engine.ddica import network
    from deepunmix.engine.ddica.unmixing import DDICA

    a, p = DDICA.VARIANTS["authors_code"], DDICA.VARIANTS["paper"]
    assert a["hidden_units"] == p["hidden_units"] + (128,) and a["whitening"] and a["whitened_maps"]
    assert (a["bn_inference"], a["unit_minmax"], a["drop_last"], a["max_fit_pixels"]) == ("batch", True, True, 0)
    cube, _, _ = _scene(size=16)  # 256 pixels
    small = dict(n_restarts=2, hidden_units=(16,) * 3, batch_size=100, random_state=0)
    model = DDICA(3, variant="authors_code", settings=dict(n_epochs=1), **small).fit(cube)
    assert model.n_iter_ == 2  # int(256 / 100) full batches; the paper variant also takes the 56-pixel rest
    assert DDICA(3, variant="paper", settings=dict(n_epochs=1), **small).fit(cube).n_iter_ == 3
    assert model.unit_min_.shape == (2, 3) and model.unit_labels_.shape == (2, 3)
    maps = model.network_abundances_.reshape(3, -1)
    assert np.isfinite(maps).all() and maps.min() >= 0 and maps.max() <= 1
    Y = cube.reshape(20, -1).astype(np.float64)
    # batch statistics and whitened outputs: the maps are not the running-statistics softmax maps
    readout = dict(n_epochs=1, bn_inference="running", whitened_maps=False)
    running = DDICA(3, variant="authors_code", settings=readout, **small).fit(cube)
    assert not np.allclose(running.network_abundances_, model.network_abundances_, atol=1e-3)
    np.testing.assert_allclose(model.predict_abundances(Y), maps, atol=1e-5)  # the same batches again
    # the numpy whitening gives outputs whose uncentred second moment is the identity
    s = network.softmax_numpy(np.random.default_rng(0).normal(size=(1, 500, 3)).astype(np.float32))
    w = network.whiten_numpy(s)[0]
    np.testing.assert_allclose(w.T @ w / 500, np.eye(3), atol=1e-3)


def test_settings_override_the_variant_table_and_are_checked():
    """One variant mechanism (engine.core.variants): __init__ parameters and ``settings`` over the table."""
    from deepunmix.engine.ddica.unmixing import VARIANTS

    s = DDICA(3, variant="paper", n_steps=7, settings=dict(consensus="matched", n_epochs=None)).resolved_settings()
    assert s == {**VARIANTS["paper"], "n_steps": 7, "consensus": "matched", "n_epochs": None}
    with pytest.raises(ValueError, match="no setting"):
        DDICA(3, settings=dict(consensuss="matched")).resolved_settings()
    with pytest.raises(ValueError, match="pass them as such"):
        DDICA(3, settings=dict(n_steps=3)).resolved_settings()
    with pytest.raises(ValueError, match="'keep_fraction' parameter of DDICA must be"):
        DDICA(3, settings=dict(keep_fraction=0.0)).resolved_settings()
    built = DDICA.build(3, n_steps=4, keep_fraction=0.5)
    assert built.n_steps == 4 and built.settings == {"keep_fraction": 0.5}
