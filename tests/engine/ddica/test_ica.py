"""DeepICA on a tiny linear mixture and a cube."""

import numpy as np
import pytest

from deepunmix.engine.core.progress import Cancelled
from deepunmix.engine.ddica import DeepICA
from deepunmix.engine.reporting.metrics import matched_abs_corr

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


def test_separates_linear_mixture_better_than_chance():
    rng = np.random.default_rng(0)
    S = np.stack([rng.uniform(-1, 1, 3000), np.sign(rng.normal(size=3000)) * rng.exponential(size=3000)], 1)
    S = (S - S.mean(0)) / S.std(0)
    c = np.cos(np.pi / 4)
    X = S @ np.array([[c, -c], [c, c]]).T  # already white: PCA cannot separate it (chance ~0.71)
    cold = dict(n_steps=150, n_restarts=2, settings=dict(batch_size=128, input_transform="standardize", init="random"))
    model = DeepICA(2, random_state=0, **cold)  # TC training alone, no FastICA warm start
    est = model.fit_transform(X)
    assert est.shape == (3000, 2)
    assert matched_abs_corr(S, est).mean() > 0.8 > matched_abs_corr(S, X).mean() + 0.08
    np.testing.assert_allclose(np.cov(est.T), np.eye(2), atol=0.05)  # whitened outputs
    again = DeepICA(2, random_state=0, **cold).fit_transform(X)
    np.testing.assert_array_equal(est, again)
    default = DeepICA(2, n_steps=50, n_restarts=2, random_state=0).fit_transform(X)
    assert matched_abs_corr(S, default).mean() > 0.8


def test_fit_cube_mlp_and_cancel():
    rng = np.random.default_rng(1)
    cube = rng.normal(size=(4, 10, 10)).astype(np.float32)
    cube[:, 0, 0] = np.nan
    mlp = dict(batch_size=32, architecture="mlp", hidden_units=(8,))
    maps = DeepICA(2, n_steps=10, n_restarts=2, random_state=0, settings=mlp).fit_cube(cube)
    assert maps.shape == (2, 10, 10) and np.isnan(maps[:, 0, 0]).all() and np.isfinite(maps[:, 1:]).all()

    def cb(fraction, message):
        if fraction > 0.2:
            raise Cancelled()

    with pytest.raises(Cancelled):
        DeepICA(2, n_steps=50, n_restarts=1, progress=cb, settings=dict(batch_size=32)).fit(
            cube.reshape(4, -1)[:, 1:].T
        )


@pytest.mark.slow
def test_paper_variant_runs_the_papers_configuration(monkeypatch):
    """variant='paper': z-scored input, random ReLU net with a linear last layer, power whitening, alpha 0.75, sigma 0.1584, batch 2000."""
    import deepunmix.engine.ddica.ica as ica

    calls = []
    real = ica.power_whiten
    monkeypatch.setattr(ica, "power_whiten", lambda y, **kw: calls.append(tuple(y.shape)) or real(y, **kw))
    rng = np.random.default_rng(0)
    X = rng.laplace(size=(2500, 3)) @ rng.normal(size=(3, 3))
    model = DeepICA(3, variant="paper", n_steps=1, random_state=0).fit(X)  # one step at batch 2000 costs seconds
    cfg = model.settings_
    assert (cfg["alpha"], cfg["kernel_width"], cfg["batch_size"], cfg["n_restarts"]) == (0.75, 0.1584, 2000, 1)
    assert (cfg["architecture"], cfg["input_transform"], cfg["init"], cfg["whitening"]) == (
        "mlp",
        "standardize",
        "random",
        "power",
    )
    assert cfg["conditioning_weight"] == 0 and cfg["holdout_fraction"] == 0
    assert model.kernel_width_ == 0.1584 and model.quantiles_ is None
    assert calls and all(
        shape == (1, 2000, 3) for shape in calls
    )  # one run, batches of 2000, whitened by power iteration
    # 3 hidden ReLU layers and a linear fourth layer to the 3 outputs
    assert [W.shape[1:] for W, _ in model.weights_] == [(3, 64), (64, 64), (64, 64), (64, 3)]
    assert (model._forward(X) < 0).any()  # the last layer is linear, not ReLU
    assert model.restart_choice_ == "single run (no choice)" and len(model.loss_curve_) == 1
    np.testing.assert_allclose(model.mean_, X.mean(0))
    np.testing.assert_allclose(np.cov(model.transform(X).T), np.eye(3), atol=0.01)
    untrained = DeepICA(3, variant="paper", n_steps=0, random_state=0).fit(X)
    assert untrained.n_iter_ == 0 and len(untrained.loss_curve_) == 0
    with pytest.raises(ValueError, match="variant"):
        DeepICA(3, variant="bogus").fit(X)


def test_power_whiten_equals_symmetric_whitening():
    from deepunmix.engine.ddica.ica import power_whiten

    g = torch.Generator().manual_seed(0)
    y = torch.randn(2, 400, 3, generator=g, dtype=torch.float64) @ torch.randn(3, 3, generator=g, dtype=torch.float64)
    y.requires_grad_(True)
    z = power_whiten(y, generator=g)
    yc = (y - y.mean(-2, keepdim=True)).detach().numpy()
    for t in range(2):
        C = yc[t].T @ yc[t] / 400
        w, V = np.linalg.eigh(C)
        np.testing.assert_allclose(z[t].detach().numpy(), yc[t] @ (V / np.sqrt(w)) @ V.T, atol=1e-6)
    z.pow(3).sum().backward()
    assert torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0


def test_restart_choice_uses_held_out_samples_never_trained_on(monkeypatch):
    import deepunmix.engine.ddica.ica as ica

    drawn = []
    real = ica._draw_batch
    monkeypatch.setattr(ica, "_draw_batch", lambda *a: drawn.append(real(*a)) or drawn[-1])
    rng = np.random.default_rng(1)
    X = rng.laplace(size=(500, 2)) @ rng.normal(size=(2, 2))
    model = DeepICA(2, n_steps=5, n_restarts=2, random_state=0, settings=dict(batch_size=64)).fit(X)
    train, hold = model.train_idx_, model.holdout_idx_
    assert len(hold) == 100 and len(train) == 400 and not set(train) & set(hold)
    rows = torch.cat([b.reshape(-1) for b in drawn]).numpy()
    assert len(drawn) == 5 and rows.max() < len(train)  # rows [0, n_train) of the fit tensor are the training samples
    assert "held-out" in model.restart_choice_ and model.restart_tc_.shape == (2,)
    np.testing.assert_allclose(model.mean_, X[train].mean(0))  # input statistics from the training samples only
    no_hold = DeepICA(
        2, n_steps=2, n_restarts=2, random_state=0, settings=dict(batch_size=64, holdout_fraction=0.0)
    ).fit(X)
    assert len(no_hold.holdout_idx_) == 0 and "training samples" in no_hold.restart_choice_


def test_explicit_keywords_override_the_variant():
    from deepunmix.engine.ddica.ica import VARIANTS

    assert DeepICA().resolved_settings() == {**VARIANTS["default"], "kernel_width": None}  # None: Silverman's rule
    assert DeepICA(variant="pnl").resolved_settings() == DeepICA().resolved_settings()  # the old name
    cfg = DeepICA(
        variant="paper", alpha=1.01, n_restarts=3, settings=dict(kernel_width="silverman")
    ).resolved_settings()
    assert (cfg["alpha"], cfg["kernel_width"], cfg["n_restarts"], cfg["batch_size"]) == (1.01, None, 3, 2000)
    assert (
        DeepICA(settings=dict(architecture="mlp")).resolved_settings()["init"] == "random"
    )  # old mlp calls keep working
