"""BUDDIP and UnDIP variants (paper, authors' code, default/light) and SiVM's SVD denoising, on tiny odd-sized scenes."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from deepunmix.engine.abundances.fcls import fcls  # noqa: E402
from deepunmix.engine.dip.buddip import BUDDIP, PAPER_JASPER  # noqa: E402

SETTINGS = BUDDIP.VARIANTS
from deepunmix.engine.dip.networks import build_unet_adip, build_unet_edip  # noqa: E402
from deepunmix.engine.dip.undip import UnDIP  # noqa: E402
from deepunmix.engine.extraction.sivm import sivm, svd_denoise  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_one_thread")
SMALL = (8, 16, 32)  # narrow U-Net widths keep the tests fast; the architecture is the same


def _scene(size=(9, 11), p=3, L=16, snr=30.0, seed=0):
    rng = np.random.default_rng(seed)
    E = rng.uniform(0.1, 1.0, size=(L, p))
    A = rng.dirichlet(np.full(p, 0.5), size=size).transpose(2, 0, 1)
    Y = np.einsum("lp,phw->lhw", E, A)
    Y += rng.normal(scale=np.sqrt(np.mean(Y**2) / 10 ** (snr / 10)), size=Y.shape)
    return Y.astype(np.float32), E, A


@pytest.mark.parametrize("variant", ["paper", "authors_code", "default"])
def test_each_variant_runs_its_configuration_on_an_odd_image(variant):
    cube, _, _ = _scene()
    m = BUDDIP(3, variant=variant, n_iter=4, random_state=0, settings=dict(unet_widths=SMALL)).fit(cube)
    expected = {**SETTINGS[variant], "n_iter": 4, "unet_widths": SMALL}
    assert m.settings_ == expected
    assert m.n_iter_ == 4 and m.abundances_.shape == (3, 9, 11) and m.endmembers_.shape == (16, 3)
    assert np.all(m.abundances_ >= 0) and np.all(m.endmembers_ >= 0)
    np.testing.assert_allclose(m.abundances_.sum(axis=0), 1.0, atol=1e-5)
    if variant in ("paper", "authors_code"):  # the network's own abundances, and the unrefined SiVM guidance
        np.testing.assert_array_equal(m.abundances_, m.adip_abundances_)
        Y = cube.reshape(16, -1).astype(np.float64)
        E_sivm, _ = sivm(Y, 3, denoise=True)
        np.testing.assert_allclose(m.init_endmembers_, E_sivm)


def test_paper_settings_are_the_papers():
    s = SETTINGS["paper"]
    assert (s["alpha1"], s["alpha2"], s["alpha3"], s["learning_rate"], s["n_iter"]) == (0.1, 0.01, 1.0, 1e-4, 4500)
    assert s["network_input"] == "noise" and s["final_abundances"] == "adip" and s["denoise"]
    assert PAPER_JASPER == {"alpha1": 1.0, "alpha2": 1.0, "alpha3": 1.0, "n_iter": 24000}
    a = SETTINGS["authors_code"]
    assert (a["alpha1"], a["learning_rate"], a["network_input"]) == (1.0, 1e-3, "guidance")


def test_explicit_parameters_override_the_variant():
    cube, _, _ = _scene()
    m = BUDDIP(
        3,
        variant="paper",
        n_iter=2,
        alpha1=0.5,
        learning_rate=1e-3,
        final_abundances="fcls",
        settings=dict(unet_widths=SMALL),
        random_state=0,
    ).fit(cube)
    assert m.settings_["alpha1"] == 0.5 and m.settings_["learning_rate"] == 1e-3
    Y = cube.reshape(16, -1).astype(np.float64)
    np.testing.assert_allclose(m.abundances_.reshape(3, -1), fcls(Y, m.endmembers_), atol=1e-5)
    with pytest.raises(ValueError, match="variant"):
        BUDDIP(3, variant="journal").fit(cube)
    with pytest.raises(ValueError, match="network_input"):
        BUDDIP(3, n_iter=1, settings=dict(network_input="noise")).fit(cube)  # residual nets need the guidance


def test_paper_noise_input_depends_on_the_seed_and_is_reproducible():
    cube, _, _ = _scene()
    kw = dict(variant="paper", n_iter=3, settings=dict(unet_widths=SMALL))
    a = BUDDIP(3, random_state=1, **kw).fit(cube)
    b = BUDDIP(3, random_state=1, **kw).fit(cube)
    c = BUDDIP(3, random_state=2, **kw).fit(cube)
    np.testing.assert_array_equal(a.abundances_, b.abundances_)
    assert not np.allclose(a.abundances_, c.abundances_, atol=1e-4)


def test_paper_training_lowers_the_loss():
    cube, _, _ = _scene(size=(10, 13))
    m = BUDDIP(3, variant="paper", n_iter=60, learning_rate=3e-3, settings=dict(unet_widths=SMALL), random_state=0).fit(
        cube
    )
    assert np.mean(m.loss_curve_[-5:]) < 0.8 * np.mean(m.loss_curve_[:5])


@pytest.mark.parametrize("shape", [(3, 7, 9), (4, 8, 10), (5, 5, 6)])
def test_unet_priors_keep_odd_and_even_sizes(shape):
    p, H, W = shape
    adip = build_unet_adip(p, widths=SMALL)
    out = adip(torch.rand(p, H, W))
    assert out.shape == (p, H, W)
    np.testing.assert_allclose(out.sum(0).detach().numpy(), 1.0, atol=1e-5)
    edip = build_unet_edip(13, widths=SMALL)
    e = edip(torch.rand(13, p))
    e = e.detach()
    assert e.shape == (13, p) and float(e.min()) > 0 and float(e.max()) < 1


def test_svd_denoising_is_rank_p_and_picks_the_vertices():
    rng = np.random.default_rng(0)
    E = rng.uniform(0.1, 1.0, size=(30, 3))
    A = rng.dirichlet(np.full(3, 1.0), size=400).T
    A[:, :3] = np.eye(3)  # pure pixels
    Y = E @ A + 0.003 * rng.normal(size=(30, 400))
    D = svd_denoise(Y, 3)
    assert np.linalg.svd(D, compute_uv=False)[3] < 1e-8 * np.abs(D).max()  # rank 3 (no clipping needed here)
    assert D.min() >= 0 and D.max() <= Y.max()
    Ed, idx = sivm(Y, 3, denoise=True)
    assert sorted(idx) == [0, 1, 2]
    np.testing.assert_allclose(Ed, D[:, idx])
    truth = E[:, idx]  # pixel k is pure in endmember k
    assert np.linalg.norm(Ed - truth) < np.linalg.norm(Y[:, idx] - truth)  # less noise than the raw pixels


def test_undip_paper_variant_settings():
    cube, E, _ = _scene()
    m = UnDIP(3, variant="paper", n_iter=3, settings=dict(channels=8), random_state=0).fit(cube)
    s = m.settings_
    assert (s["depth"], s["skip_channels"], s["input_depth"], s["denoise"], s["n_iter"]) == (1, 4, 3, True, 3)
    assert UnDIP(3, variant="paper").resolved_settings()["n_iter"] == 3000
    assert UnDIP(3, variant="paper").resolved_settings()["channels"] == 256
    light = UnDIP(endmembers=E, n_iter=2, random_state=0).fit(cube)
    assert light.settings_["depth"] == 3 and light.settings_["channels"] == 16 and not light.settings_["denoise"]
    np.testing.assert_allclose(m.abundances_.sum(0), 1.0, atol=1e-5)


def test_moving_average_does_not_start_at_the_guidance():
    cube, _, _ = _scene()
    kw = dict(n_iter=4, learning_rate=3e-2, random_state=0, purify=0, expand=0, final_abundances="adip")
    avg = BUDDIP(3, settings=dict(ema=0.99), **kw).fit(cube)
    last = BUDDIP(3, settings=dict(ema=0.0), **kw).fit(cube)
    moved_avg = np.abs(avg.endmembers_ - avg.init_endmembers_).max()
    moved_last = np.abs(last.endmembers_ - last.init_endmembers_).max()
    assert moved_last > 0
    assert moved_avg > 0.3 * moved_last  # an average seeded with the guidance would keep ~99 % of it
    one = BUDDIP(3, settings=dict(ema=0.99), **{**kw, "n_iter": 1}).fit(cube)
    assert np.abs(one.endmembers_ - one.init_endmembers_).max() > 0  # one update: its output, not the guidance


def _log_volume(E):
    return np.linalg.slogdet(E.T @ E)[1]


def test_minimum_volume_term_is_off_in_every_variant_and_shrinks_the_endmembers_when_on():
    assert all(s["min_volume"] == 0.0 for s in SETTINGS.values())
    cube, _, _ = _scene(size=(12, 12))
    kw = dict(n_iter=30, learning_rate=1e-2, random_state=0, settings=dict(ema=0.0))
    plain = BUDDIP(3, **kw).fit(cube)
    shrunk = BUDDIP(3, min_volume=100.0, **kw).fit(cube)
    assert plain.settings_["min_volume"] == 0.0 and shrunk.settings_["min_volume"] == 100.0
    assert _log_volume(shrunk.endmembers_) < _log_volume(plain.endmembers_) - 0.05
    assert _log_volume(shrunk.endmembers_) < _log_volume(shrunk.init_endmembers_)


def test_minimum_volume_weight_is_validated_before_any_work():
    from deepunmix.engine.core.errors import ParameterError

    with pytest.raises((ParameterError, ValueError), match="min_volume"):
        BUDDIP(3, min_volume=-1.0).fit(np.zeros((4, 2, 2), np.float32))
