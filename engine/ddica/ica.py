"""DeepICA: nonlinear (post-nonlinear) blind source separation by minimising Rényi total correlation."""

from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
from scipy.special import ndtri
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..core.base import NOT_FITTED, cube_to_pixels, keep_params, pixels_to_maps
from ..core.errors import ParameterError
from ..core.params import SEED, Choices, Integral, Interval, Real, non_negative, positive
from ..core.progress import report
from ..core.torch_support import import_torch, resolve_device, seeded_generator
from ..core.variants import VariantChoices, VariantMixin
from . import network
from .entropy import ROUTES, resolve_width, total_correlation

_LEVELS = np.linspace(0.0005, 0.9995, 1001)
_NORMAL_Q = ndtri(_LEVELS)


_DEFAULT = dict(
    alpha=1.01,
    kernel_width="silverman",  # a number, or Silverman's rule N^(-1/(4+k)) for batch N and k outputs
    batch_size=128,
    n_restarts=4,
    n_steps=400,
    learning_rate=1e-3,
    hidden_units=(64, 64, 64),  # widths of the 'mlp' architecture
    architecture="pnl",  # the post-nonlinear model, or "mlp" (a ReLU network, linear last layer)
    pnl_hidden=16,  # terms of each channel's monotone map in the 'pnl' architecture
    conditioning_weight=0.1,  # weight of -log det of the outputs' correlation matrix
    input_transform="gaussianize",  # per channel: empirical CDF then normal quantile, or "standardize"
    init="fastica",  # start of the linear layer: FastICA of the inputs ('pnl' only), or "random"
    whitening="cholesky",  # differentiable whitening of the outputs before the TC, or "power" (the authors')
    holdout_fraction=0.2,  # share of the samples held out to choose the restart
    eig_route="auto",  # as DDICA's
    max_fit_samples=50000,  # fit on a random sample of at most this many samples
)
VARIANTS = {
    "default": _DEFAULT,
    # Li et al. (ICASSP 2022) Sec. 4.1. The paper gives no width, optimiser, learning rate or step count:
    # widths 64, Adam 1e-4 (the authors' released HU code) and 100 steps are this project's choices.
    "paper": dict(
        _DEFAULT,
        alpha=0.75,
        kernel_width=0.1584,
        batch_size=2000,
        n_restarts=1,
        n_steps=100,
        learning_rate=1e-4,
        architecture="mlp",
        conditioning_weight=0.0,
        input_transform="standardize",
        init="random",
        whitening="power",
        holdout_fraction=0.0,
    ),
}
WHITENINGS = ("cholesky", "power")


class DeepICA(VariantMixin, BaseEstimator):
    """Deep deterministic ICA: minimise the Rényi total correlation (TC) of whitened network outputs.

    ``variant='default'`` is a post-nonlinear model: each channel Gaussianised, passed through a learned
    monotone map and one linear layer started from FastICA, trained on the TC of its Cholesky-whitened outputs
    plus ``conditioning_weight`` times -log det of their correlation. ``variant='paper'`` is the deep ICA of
    Li et al. (2022, Sec. 4.1). A parameter left at None takes the variant's value (:data:`VARIANTS`). Of
    several restarts, the one with the lowest TC on held-out samples (else fresh batches) is kept.
    ``fit(X)`` and ``transform(X)`` take samples first, as scikit-learn's FastICA; :meth:`fit_cube` a cube.

    Parameters
    ----------
    n_components : int, default=2
        Number of sources k.
    variant : {'default', 'paper'}, default='default'
        Which entry of :data:`VARIANTS` gives the settings (``'pnl'``: the old name of ``'default'``).
    alpha : float or None, default=None
        Rényi entropy order α.
    n_restarts : int or None, default=None
        Networks trained together from different starts; one is kept.
    n_steps : int or None, default=None
        Adam steps.
    random_state : int or None, default=None
        Seed of the sample, the hold-out split, the initialisation and the batches.
    device, progress, settings
        As :class:`~deepunmix.engine.ddica.unmixing.DDICA`'s.

    Attributes
    ----------
    settings_ : dict
        The resolved settings (:meth:`resolved_settings`).
    n_features_in_ : int
        Number of features seen by ``fit``.
    train_idx_, holdout_idx_ : ndarray of int
        Rows of X trained on and held out.
    mean_, scale_ : ndarray of shape (n_features,)
        Training mean and standard deviation ('standardize' input).
    quantiles_ : ndarray of shape (n_levels, n_features) or None
        Training quantiles ('gaussianize' input), else None.
    kernel_width_ : float
        The σ used.
    restart_tc_, restart_choice_, best_restart_ : ndarray of shape (n_restarts,), str, int
        Mean TC of each restart, what it was measured on, and the restart kept.
    weights_ : list of ndarray
        The kept network's weights (numpy).
    loss_curve_, restart_loss_curves_ : ndarray of shape (n_steps,), (n_steps, n_restarts)
        TC per step of the kept restart, and of every restart.
    n_iter_ : int
        Steps run.
    out_mean_ : ndarray of shape (k,)
        Mean network output on the training samples.
    whitening_ : ndarray of shape (k, k)
        Symmetric whitening of the outputs, from the training samples.
    component_maps_ : ndarray of shape (k, H, W)
        Set by :meth:`fit_cube`: sources as maps, NaN at invalid pixels.
    """

    VARIANTS = VARIANTS
    ALIASES = {"pnl": "default"}
    _parameter_constraints: dict = {
        "random_state": [SEED, None],
        "n_components": [positive(Integral)],
        "variant": [VariantChoices(VARIANTS, ALIASES)],
        "settings": [dict, None],
        "alpha": [positive(), None],
        "kernel_width": [positive(), Choices(("silverman",))],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "n_restarts": [positive(Integral), None],
        "n_steps": [non_negative(Integral), None],
        "learning_rate": [positive()],
        "hidden_units": ["array-like"],
        "architecture": [Choices(("pnl", "mlp"))],
        "pnl_hidden": [positive(Integral)],
        "conditioning_weight": [non_negative()],
        "input_transform": [Choices(("gaussianize", "standardize"))],
        "init": [Choices(("fastica", "random"))],
        "whitening": [Choices(WHITENINGS)],
        "holdout_fraction": [Interval(Real, 0, 1, closed="left")],
        "eig_route": [Choices(ROUTES)],
        "max_fit_samples": [positive(Integral)],
    }

    def __init__(
        self,
        n_components: int = 2,
        *,
        variant: str = "default",
        alpha: Optional[float] = None,
        n_restarts: Optional[int] = None,
        n_steps: Optional[int] = None,
        device: str = "cpu",
        random_state: Optional[int] = None,
        progress=None,
        settings: Optional[dict] = None,
    ):
        keep_params(self, locals())

    def _finish_settings(self, cfg: dict) -> dict:
        if cfg["kernel_width"] == "silverman":
            cfg["kernel_width"] = None
        if cfg["architecture"] == "mlp" and "init" not in (self.settings or {}):
            cfg["init"] = "random"  # the FastICA start exists for the PNL model's linear layer only
        return cfg

    def fit(self, X: np.ndarray, y=None) -> "DeepICA":
        """Learn the unmixing function from finite samples X (n_samples, n_features); ``y`` is ignored."""
        # every parameter is checked before the first fitted attribute is set (and before torch is needed)
        cfg = self.resolved_settings()
        torch = import_torch()
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or not np.isfinite(X).all():
            raise ValueError("X must be a finite (n_samples, n_features) array")
        n, d = X.shape
        k = int(self.n_components)
        if not 1 <= k <= n:
            raise ParameterError(f"n_components must be in [1, {n}], got {k}")
        if cfg["init"] == "fastica" and cfg["architecture"] != "pnl":
            raise ParameterError("init='fastica' needs architecture='pnl'")
        device = resolve_device(self.device)
        rng = np.random.default_rng(self.random_state)
        cap = int(cfg["max_fit_samples"])
        fit_idx = np.sort(rng.choice(n, cap, replace=False)) if n > cap else np.arange(n)
        train_idx, holdout_idx = split_holdout(fit_idx, float(cfg["holdout_fraction"]), rng)
        resolve_width(cfg["kernel_width"], int(min(cfg["batch_size"], len(train_idx))), k)
        self.settings_ = cfg
        self.n_features_in_ = d
        self.train_idx_, self.holdout_idx_ = train_idx, holdout_idx
        train = X[self.train_idx_]
        self.mean_ = train.mean(0)
        self.scale_ = train.std(0) + 1e-12
        self.quantiles_ = None
        if cfg["input_transform"] == "gaussianize":
            q = np.quantile(train, _LEVELS, axis=0)  # (n_levels, d)
            self.quantiles_ = q + 1e-9 * np.abs(q).max(0) * np.arange(len(q))[:, None] / len(q)  # strictly increasing
        # rows [0, n_train) are the training samples, the rest the held-out ones
        Xt = torch.as_tensor(self._standardise(np.concatenate([train, X[self.holdout_idx_]])), device=device)
        batch = int(min(cfg["batch_size"], len(train)))
        self.kernel_width_ = resolve_width(cfg["kernel_width"], batch, k)
        gen = seeded_generator(self.random_state, device)
        params, flat, fwd = self._init_network(train, d, k, cfg, gen, device)
        whiten = whiten_batch if cfg["whitening"] == "cholesky" else (lambda y: power_whiten(y, generator=gen))
        curve = self._train(params, flat, fwd, whiten, Xt, len(train), batch, cfg, gen)
        report(self.progress, 0.9, "DeepICA: choosing the restart")
        self.restart_tc_, self.restart_choice_ = self._score_restarts(
            params, fwd, whiten, Xt, len(train), int(cfg["n_restarts"]), batch, gen, curve
        )
        best = int(np.nanargmin(self.restart_tc_)) if np.isfinite(self.restart_tc_).any() else 0
        self.best_restart_ = best
        if cfg["architecture"] == "pnl":
            self.weights_ = [np.ascontiguousarray(t.detach().cpu().numpy()[[best]], dtype=np.float32) for t in params]
        else:
            self.weights_ = network.to_numpy(params, keep=[best])
        self.loss_curve_ = curve[:, best]
        self.restart_loss_curves_ = curve
        self.n_iter_ = len(curve)
        out = self._forward(train)
        self.out_mean_ = out.mean(0)
        cov = np.cov(out, rowvar=False).reshape(k, k) + 1e-9 * np.eye(k)
        w, V = np.linalg.eigh(cov)
        # symmetric (ZCA) whitening: leaves already-uncorrelated outputs unrotated (PCA whitening would mix them)
        self.whitening_ = (V / np.sqrt(np.clip(w, 1e-12, None))) @ V.T
        report(self.progress, 1.0, "DeepICA: done")
        return self

    def _init_network(self, train: np.ndarray, d: int, k: int, cfg: dict, gen, device) -> tuple:
        """(parameters, their flat list for the optimiser, forward function) of ``n_restarts`` networks."""
        torch = import_torch()
        T = int(cfg["n_restarts"])
        if cfg["architecture"] != "pnl":
            params = network.init_params([d, *map(int, cfg["hidden_units"]), k], T, gen, device, head_gain=1.0)
            return params, network.parameters(params), network.forward
        params = network.init_pnl_params(d, k, int(cfg["pnl_hidden"]), T, gen, device)
        if cfg["init"] == "fastica":
            W0 = _fastica_unmixing(self._standardise(train), k, self.random_state)
            with torch.no_grad():
                params[3].copy_(torch.as_tensor(W0, dtype=params[3].dtype, device=device).expand_as(params[3]))
        return params, params, network.forward_pnl

    def _train(self, params, flat, fwd, whiten, Xt, n_train: int, batch: int, cfg: dict, gen) -> np.ndarray:
        """Adam on the TC (+ conditioning term) of every restart; returns the TC curves (n_steps, n_restarts)."""
        torch = import_torch()
        T, n_steps = int(cfg["n_restarts"]), int(cfg["n_steps"])
        opt = torch.optim.Adam(flat, lr=float(cfg["learning_rate"]))
        every = max(1, n_steps // 50)
        curve = np.empty((n_steps, T))
        pool = torch.arange(n_train, device=Xt.device)
        report(self.progress, 0.0, f"DeepICA ({self.variant}): training")
        for step in range(n_steps):
            y = fwd(params, Xt[_draw_batch(gen, pool, T, batch)])
            tc = total_correlation(whiten(y), self.kernel_width_, float(cfg["alpha"]), cfg["eig_route"])
            loss = tc.sum()
            if cfg["conditioning_weight"]:
                loss = loss + float(cfg["conditioning_weight"]) * _log_condition(y).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            curve[step] = tc.detach().cpu().numpy()
            if (step + 1) % every == 0:
                report(
                    self.progress,
                    0.9 * (step + 1) / n_steps,
                    f"DeepICA step {step + 1}/{n_steps}, TC {curve[step].mean():.4f}",
                )
        return curve

    def _score_restarts(self, params, fwd, whiten, Xt, n_train, T, batch, gen, curve):
        """(mean TC per restart, what it was measured on); held-out samples when there are any."""
        torch = import_torch()
        sigma, alpha = self.kernel_width_, float(self.settings_["alpha"])

        if T == 1:
            last = curve[-1] if len(curve) else np.full(1, np.nan)
            return np.asarray(last, dtype=np.float64), "single run (no choice)"
        n_hold = Xt.shape[0] - n_train
        with torch.no_grad():
            if n_hold >= 2:
                hb = min(batch, n_hold)
                perm = torch.randperm(n_hold, generator=gen, device=Xt.device) + n_train
                batches = [perm[i * hb : (i + 1) * hb] for i in range(min(8, n_hold // hb))]
                where = f"{len(batches)} disjoint batches of {hb} held-out samples"
            else:
                pool = torch.arange(n_train, device=Xt.device)
                batches = [_draw_batch(gen, pool, 1, batch)[0] for _ in range(8)]
                where = f"8 fresh batches of {batch} training samples (holdout_fraction=0)"
            evals = [
                total_correlation(whiten(fwd(params, Xt[b])), sigma, alpha, self.settings_["eig_route"])
                for b in batches
            ]
        return torch.stack(evals).mean(0).cpu().numpy().astype(np.float64), where

    def _standardise(self, X: np.ndarray) -> np.ndarray:
        if self.quantiles_ is not None:
            return np.stack(
                [np.interp(X[:, j], self.quantiles_[:, j], _NORMAL_Q) for j in range(X.shape[1])], 1
            ).astype(np.float32)
        return ((X - self.mean_) / self.scale_).astype(np.float32)

    def _forward(self, X: np.ndarray) -> np.ndarray:
        fwd = network.forward_pnl_numpy if self.settings_["architecture"] == "pnl" else network.forward_numpy
        return fwd(self.weights_, self._standardise(X))[0].astype(np.float64)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Estimated sources (n_samples, n_components), whitened with the fit-sample statistics."""
        check_is_fitted(self, ["weights_", "whitening_"], msg=NOT_FITTED)
        out = self._forward(np.asarray(X, dtype=np.float64))
        return (out - self.out_mean_) @ self.whitening_

    def fit_transform(self, X: np.ndarray, y=None) -> np.ndarray:
        return self.fit(X).transform(X)

    def fit_cube(self, cube: np.ndarray, mask: Optional[np.ndarray] = None) -> np.ndarray:
        """Fit on the valid pixels of a (bands, rows, cols) raster; returns component maps (k, rows, cols), NaN outside."""
        Y, valid = cube_to_pixels(cube, mask)
        S = self.fit_transform(Y.T)
        self.component_maps_ = pixels_to_maps(S.T, valid)
        return self.component_maps_


def split_holdout(idx: np.ndarray, fraction: float, rng: np.random.Generator):
    """(training, held-out) sorted index arrays: a random ``fraction`` of ``idx`` held out."""
    n_hold = int(round(fraction * len(idx)))
    if n_hold == 0:
        return np.asarray(idx), np.zeros(0, dtype=np.asarray(idx).dtype)
    if len(idx) - n_hold < 2:
        raise ParameterError(f"holdout_fraction {fraction} leaves fewer than 2 training samples")
    perm = rng.permutation(len(idx))
    return np.sort(idx[perm[n_hold:]]), np.sort(idx[perm[:n_hold]])


def _draw_batch(generator, pool, n_restarts: int, batch: int):
    """(n_restarts, batch) rows drawn with replacement from ``pool`` (the training rows only)."""
    torch = import_torch()
    return pool[torch.randint(len(pool), (n_restarts, batch), generator=generator, device=pool.device)]


def power_whiten(y, n_iterations: int = 250, generator=None):
    """Differentiable whitening of (..., N, k) by deflated power iteration (the authors' ``alt_power_whitening``),
    W ≈ C^(-1/2) from a random start; unlike their code, the outputs are centred first."""
    torch = import_torch()
    yc = y - y.mean(-2, keepdim=True)
    k = y.shape[-1]
    C = yc.transpose(-1, -2) @ yc / y.shape[-2]
    R = torch.randn(*C.shape[:-2], k, k, generator=generator, device=y.device).to(y.dtype)
    W = torch.zeros_like(C)
    for i in range(k):
        v = R[..., :, i : i + 1]
        for _ in range(n_iterations):
            v = C @ v
            v = v / torch.linalg.vector_norm(v, dim=-2, keepdim=True).clamp_min(1e-30)
        lam = torch.linalg.vector_norm(C @ v, dim=-2, keepdim=True).clamp_min(1e-12)  # (..., 1, 1)
        vvT = v @ v.transpose(-1, -2)
        C = C - lam * vvT
        W = W + vvT / torch.sqrt(lam)
    return yc @ W.transpose(-1, -2)


def whiten_batch(y, eps: float = 1e-5):
    """Differentiable whitening of (..., N, k) over the batch axis via a Cholesky factor of the covariance."""
    torch = import_torch()
    yc = y - y.mean(-2, keepdim=True)
    n, k = y.shape[-2], y.shape[-1]
    cov = yc.transpose(-1, -2) @ yc / (n - 1)
    cov = cov + eps * torch.eye(k, dtype=y.dtype, device=y.device)
    chol = torch.linalg.cholesky(cov)
    # z = yc L^{-T}  <=>  L z^T = yc^T
    return torch.linalg.solve_triangular(chol, yc.transpose(-1, -2), upper=False).transpose(-1, -2)


def _log_condition(y):
    """-log det of the correlation matrix of y (..., N, k) over the batch: 0 when uncorrelated."""
    torch = import_torch()
    yc = y - y.mean(-2, keepdim=True)
    cov = yc.transpose(-1, -2) @ yc
    d = torch.sqrt(torch.diagonal(cov, dim1=-2, dim2=-1) + 1e-12)
    corr = cov / (d.unsqueeze(-1) * d.unsqueeze(-2))
    eye = torch.eye(y.shape[-1], dtype=y.dtype, device=y.device)
    return -torch.logdet(corr + 1e-6 * eye)


def _fastica_unmixing(X: np.ndarray, k: int, random_state) -> np.ndarray:
    """(d, k) linear unmixing by scikit-learn FastICA (sources = X @ W), scaled to unit-variance outputs."""
    from sklearn.decomposition import FastICA  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ica = FastICA(k, whiten="unit-variance", random_state=random_state, max_iter=500).fit(X)
    return ica.components_.T.astype(np.float32)
