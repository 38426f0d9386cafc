"""DeepICA: nonlinear (post-nonlinear) blind source separation by minimising Rényi total correlation."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from scipy.special import ndtri
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..core.base import NOT_FITTED, cube_to_pixels, pixels_to_maps
from ..core.errors import ParameterError
from ..core.params import SEED, Choices, Integral, Interval, Real, non_negative, positive, validate_params
from ..core.progress import report
from . import network
from .entropy import ROUTES, resolve_width, total_correlation

_LEVELS = np.linspace(0.0005, 0.9995, 1001)
_NORMAL_Q = ndtri(_LEVELS)


#: Every setting a variant fixes; an explicit keyword argument (not None) overrides it.
VARIANTS = {
    # The project's default: a post-nonlinear model, not the paper's network.
    "pnl": dict(
        alpha=1.01,
        kernel_width="silverman",
        batch_size=128,
        n_restarts=4,
        n_steps=400,
        learning_rate=1e-3,
        hidden_units=(64, 64, 64),
        architecture="pnl",
        conditioning_weight=0.1,
        input_transform="gaussianize",
        init="fastica",
        whitening="cholesky",
        holdout_fraction=0.2,
    ),
    # Li et al. (ICASSP 2022) Sec. 4.1. The paper gives no width, optimiser, learning rate or step count:
    # widths 64, Adam 1e-4 (the authors' released HU code) and 100 steps are this project's choices.
    "paper": dict(
        alpha=0.75,
        kernel_width=0.1584,
        batch_size=2000,
        n_restarts=1,
        n_steps=100,
        learning_rate=1e-4,
        hidden_units=(64, 64, 64),
        architecture="mlp",
        conditioning_weight=0.0,
        input_transform="standardize",
        init="random",
        whitening="power",
        holdout_fraction=0.0,
    ),
}
WHITENINGS = ("cholesky", "power")


class DeepICA(BaseEstimator):
    """Deep deterministic ICA: minimise the Rényi total correlation of whitened network outputs.

    Two variants fix every setting left as ``None``:

    ``variant='pnl'`` (default) is a **Gaussianise + FastICA-initialised post-nonlinear (PNL)
    model refined by total correlation**, not the paper's network: each input channel goes
    through its empirical CDF and the normal quantile function (Ziehe et al.'s Gaussianisation
    for PNL mixtures), then through a learned monotone map x + Σ softplus·tanh, then one linear
    layer that starts from scikit-learn's FastICA unmixing of the Gaussianised inputs
    (``init='fastica'``). Training refines it by the total correlation of its Cholesky-whitened
    outputs (α 1.01, σ by Silverman's rule for the batch and output dimension, batch 128, 400
    Adam steps at 1e-3, 4 restarts) plus ``conditioning_weight`` · (−log det) of the outputs'
    correlation matrix, which keeps the outputs from becoming nearly collinear (the whitening
    would otherwise amplify a tiny residual that does not whiten on new samples). On the PNL
    benchmark most of its score is already reached before training (``n_steps=0``).

    ``variant='paper'`` is the deep ICA of Li et al. (2022, Sec. 4.1): z-scored inputs, a
    randomly initialised ReLU network whose last layer is linear (``hidden_units`` ReLU layers
    then a linear layer to ``n_components``), a differentiable power-iteration whitening layer
    (the authors' ``alt_power_whitening``, centred), α = 0.75, σ = 0.1584, batch 2000, one run
    (the paper averages scores over repeated runs rather than choosing one). Not given by the
    paper: widths (64), optimiser and learning rate (Adam 1e-4, as in the authors' HU code) and
    the step count (100).

    Restart choice (``n_restarts`` > 1): ``holdout_fraction`` of the samples (chosen at random)
    are set aside before anything is fitted (input statistics, FastICA start, training batches,
    final whitening); the restart with the lowest mean TC on disjoint batches of these held-out
    samples is kept. With ``holdout_fraction=0`` the choice uses fresh batches of the training
    samples (``restart_choice_`` says which). No labels are used.

    ``kernel_width`` is a number or ``'silverman'`` (N^(-1/(4+k)) for batch N and k outputs).

    ``transform`` applies the chosen net and a symmetric whitening estimated on the training
    samples; it is a numpy function of each sample.

    DeepICA is an ICA of samples, as scikit-learn's FastICA: ``fit(X)`` and ``transform(X)`` take X
    of shape (n_samples, n_features), samples first. Only :meth:`fit_cube` takes an unmixing
    cube (L, H, W), bands first, whose valid pixels become the samples and bands the features.

    Parameters
    ----------
    n_components : int, default=2
        Number of sources k.
    variant : {'pnl', 'paper'}, default='pnl'
        Which entry of :data:`VARIANTS` fills every parameter below left at None.
    alpha : float or None, default=None
        Rényi entropy order α. None: the variant's.
    kernel_width : float, 'silverman' or None, default=None
        Gaussian kernel width σ, or Silverman's rule. None: the variant's.
    batch_size : int or None, default=None
        Samples per training batch (at most the training samples). None: the variant's.
    n_restarts : int or None, default=None
        Networks trained together from different starts; one is kept. None: the variant's.
    n_steps : int or None, default=None
        Adam steps. None: the variant's.
    learning_rate : float or None, default=None
        Adam learning rate. None: the variant's.
    hidden_units : sequence of int or None, default=None
        Hidden layer widths of the 'mlp' architecture. None: the variant's.
    architecture : {'pnl', 'mlp'} or None, default=None
        The post-nonlinear model or a ReLU network. None: the variant's.
    pnl_hidden : int, default=16
        Terms of each channel's monotone map in the 'pnl' architecture.
    conditioning_weight : float or None, default=None
        Weight of the −log det correlation term. None: the variant's.
    input_transform : {'gaussianize', 'standardize'} or None, default=None
        Per-channel input transform. None: the variant's.
    init : {'fastica', 'random'} or None, default=None
        Start of the linear layer ('fastica' needs architecture='pnl'). None: the variant's,
        or 'random' with architecture='mlp'.
    whitening : {'cholesky', 'power'} or None, default=None
        Differentiable whitening of the outputs before the TC. None: the variant's.
    holdout_fraction : float in [0, 1) or None, default=None
        Share of the samples held out to choose the restart. None: the variant's.
    eig_route, device
        As :class:`~deepunmix.engine.ddica.unmixing.DDICA`.
    random_state : int or None, default=None
        Seed of the sample, the hold-out split, the initialisation and the batches.
    max_fit_samples : int, default=50000
        Fit on a random sample of at most this many samples.
    progress : callable or None, default=None
        ``progress(fraction, message)``, called during training; it may raise
        :class:`~deepunmix.engine.core.progress.Cancelled` to stop.

    Attributes
    ----------
    config_ : dict
        The resolved settings (:meth:`resolved_params`).
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
    restart_tc_ : ndarray of shape (n_restarts,)
        Mean TC of each restart where it was measured (``restart_choice_``).
    restart_choice_ : str
        What the restart choice was measured on.
    best_restart_ : int
        The restart kept.
    weights_ : list of ndarray
        The kept network's weights (numpy).
    loss_curve_ : ndarray of shape (n_steps,)
        TC per step of the kept restart.
    restart_loss_curves_ : ndarray of shape (n_steps, n_restarts)
        TC per step of every restart.
    n_iter_ : int
        Steps run.
    out_mean_ : ndarray of shape (k,)
        Mean network output on the training samples.
    whitening_ : ndarray of shape (k, k)
        Symmetric whitening of the outputs, from the training samples.
    component_maps_ : ndarray of shape (k, H, W)
        Set by :meth:`fit_cube`: sources as maps, NaN at invalid pixels.
    """

    _parameter_constraints: dict = {
        "random_state": [SEED, None],
        "n_components": [positive(Integral)],
        "variant": [Choices(tuple(VARIANTS))],
        "alpha": [positive(), None],
        "kernel_width": [positive(), Choices(("silverman",)), None],
        "batch_size": [Interval(Integral, 2, None, closed="left"), None],
        "n_restarts": [positive(Integral), None],
        "n_steps": [non_negative(Integral), None],
        "learning_rate": [positive(), None],
        "architecture": [Choices(("pnl", "mlp")), None],
        "pnl_hidden": [positive(Integral)],
        "conditioning_weight": [non_negative(), None],
        "input_transform": [Choices(("gaussianize", "standardize")), None],
        "init": [Choices(("fastica", "random")), None],
        "whitening": [Choices(WHITENINGS), None],
        "holdout_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "eig_route": [Choices(ROUTES)],
        "max_fit_samples": [positive(Integral)],
    }

    def __init__(
        self,
        n_components: int = 2,
        *,
        variant: str = "pnl",
        alpha: Optional[float] = None,
        kernel_width: Optional[float] = None,
        batch_size: Optional[int] = None,
        n_restarts: Optional[int] = None,
        n_steps: Optional[int] = None,
        learning_rate: Optional[float] = None,
        hidden_units: Optional[Sequence[int]] = None,
        architecture: Optional[str] = None,
        pnl_hidden: int = 16,
        conditioning_weight: Optional[float] = None,
        input_transform: Optional[str] = None,
        init: Optional[str] = None,
        whitening: Optional[str] = None,
        holdout_fraction: Optional[float] = None,
        eig_route: str = "auto",
        device: str = "cpu",
        random_state: Optional[int] = None,
        max_fit_samples: int = 50000,
        progress=None,
    ):
        self.n_components = n_components
        self.variant = variant
        self.alpha = alpha
        self.kernel_width = kernel_width
        self.batch_size = batch_size
        self.n_restarts = n_restarts
        self.n_steps = n_steps
        self.learning_rate = learning_rate
        self.hidden_units = hidden_units
        self.architecture = architecture
        self.pnl_hidden = pnl_hidden
        self.conditioning_weight = conditioning_weight
        self.input_transform = input_transform
        self.init = init
        self.whitening = whitening
        self.holdout_fraction = holdout_fraction
        self.eig_route = eig_route
        self.device = device
        self.random_state = random_state
        self.max_fit_samples = max_fit_samples
        self.progress = progress

    def resolved_params(self) -> dict:
        """The variant's settings with every explicitly given (non-None) keyword applied on top."""
        validate_params(self)
        cfg = dict(VARIANTS[self.variant])
        cfg.update({key: getattr(self, key) for key in cfg if getattr(self, key) is not None})
        if cfg["kernel_width"] == "silverman":
            cfg["kernel_width"] = None
        if cfg["architecture"] == "mlp" and self.init is None:
            cfg["init"] = "random"  # the FastICA start exists for the PNL model's linear layer only
        return cfg

    def fit(self, X: np.ndarray, y=None) -> "DeepICA":
        """Learn the unmixing function from samples X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples first (for a cube use :meth:`fit_cube`); finite values only.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        from ..core.torch_support import import_torch, resolve_device, seeded_generator  # noqa: PLC0415

        # every parameter is checked before the first fitted attribute is set (and before torch is needed)
        cfg = self.resolved_params()
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
        fit_idx = (
            np.sort(rng.choice(n, self.max_fit_samples, replace=False)) if n > self.max_fit_samples else np.arange(n)
        )
        train_idx, holdout_idx = split_holdout(fit_idx, float(cfg["holdout_fraction"]), rng)
        resolve_width(cfg["kernel_width"], int(min(cfg["batch_size"], len(train_idx))), k)
        self.config_ = cfg
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
        n_train = len(self.train_idx_)
        batch = int(min(cfg["batch_size"], n_train))
        sigma = resolve_width(cfg["kernel_width"], batch, k)
        self.kernel_width_ = sigma
        alpha = float(cfg["alpha"])
        T = int(cfg["n_restarts"])
        n_steps = int(cfg["n_steps"])
        gen = seeded_generator(self.random_state, device)
        if cfg["architecture"] == "pnl":
            params = network.init_pnl_params(d, k, int(self.pnl_hidden), T, gen, device)
            flat, fwd = params, network.forward_pnl
            if cfg["init"] == "fastica":
                W0 = _fastica_unmixing(self._standardise(train), k, self.random_state)
                with torch.no_grad():
                    params[3].copy_(torch.as_tensor(W0, dtype=params[3].dtype, device=device).expand_as(params[3]))
        else:
            params = network.init_params([d, *map(int, cfg["hidden_units"]), k], T, gen, device, head_gain=1.0)
            flat, fwd = network.parameters(params), network.forward
        whiten = whiten_batch if cfg["whitening"] == "cholesky" else (lambda y: power_whiten(y, generator=gen))
        opt = torch.optim.Adam(flat, lr=float(cfg["learning_rate"]))
        every = max(1, n_steps // 50)
        curve = np.empty((n_steps, T))
        pool = torch.arange(n_train, device=device)
        report(self.progress, 0.0, f"DeepICA ({self.variant}): training")
        for step in range(n_steps):
            y = fwd(params, Xt[_draw_batch(gen, pool, T, batch)])
            tc = total_correlation(whiten(y), sigma, alpha, self.eig_route)
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
        report(self.progress, 0.9, "DeepICA: choosing the restart")
        self.restart_tc_, self.restart_choice_ = self._score_restarts(
            params, fwd, whiten, Xt, n_train, T, batch, sigma, alpha, gen, curve
        )
        best = int(np.nanargmin(self.restart_tc_)) if np.isfinite(self.restart_tc_).any() else 0
        self.best_restart_ = best
        if cfg["architecture"] == "pnl":
            self.weights_ = [np.ascontiguousarray(t.detach().cpu().numpy()[[best]], dtype=np.float32) for t in params]
        else:
            self.weights_ = network.to_numpy(params, keep=[best])
        self.loss_curve_ = curve[:, best]
        self.restart_loss_curves_ = curve
        self.n_iter_ = n_steps
        out = self._forward(train)
        self.out_mean_ = out.mean(0)
        cov = np.cov(out, rowvar=False).reshape(k, k) + 1e-9 * np.eye(k)
        w, V = np.linalg.eigh(cov)
        # symmetric (ZCA) whitening: leaves already-uncorrelated outputs unrotated (PCA whitening would mix them)
        self.whitening_ = (V / np.sqrt(np.clip(w, 1e-12, None))) @ V.T
        report(self.progress, 1.0, "DeepICA: done")
        return self

    def _score_restarts(self, params, fwd, whiten, Xt, n_train, T, batch, sigma, alpha, gen, curve):
        """(mean TC per restart, what it was measured on); held-out samples when there are any."""
        import torch  # noqa: PLC0415

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
            evals = [total_correlation(whiten(fwd(params, Xt[b])), sigma, alpha, self.eig_route) for b in batches]
        return torch.stack(evals).mean(0).cpu().numpy().astype(np.float64), where

    def _standardise(self, X: np.ndarray) -> np.ndarray:
        if self.quantiles_ is not None:
            return np.stack(
                [np.interp(X[:, j], self.quantiles_[:, j], _NORMAL_Q) for j in range(X.shape[1])], 1
            ).astype(np.float32)
        return ((X - self.mean_) / self.scale_).astype(np.float32)

    def _forward(self, X: np.ndarray) -> np.ndarray:
        fwd = network.forward_pnl_numpy if self.config_["architecture"] == "pnl" else network.forward_numpy
        return fwd(self.weights_, self._standardise(X))[0].astype(np.float64)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Estimated sources (n_samples, n_components), whitened with the fit-sample statistics."""
        check_is_fitted(self, ["weights_", "whitening_"], msg=NOT_FITTED)
        X = np.asarray(X, dtype=np.float64)
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
    import torch  # noqa: PLC0415

    return pool[torch.randint(len(pool), (n_restarts, batch), generator=generator, device=pool.device)]


def power_whiten(y, n_iterations: int = 250, generator=None):
    """Differentiable whitening of (..., N, k) by deflated power iteration (the DDICA authors' layer).

    As ``alt_power_whitening`` in the authors' code: for each of the k eigenpairs of the batch
    second-moment matrix C, ``n_iterations`` power steps from a random start give (v, λ); C is
    deflated by λvvᵀ and W += vvᵀ/√λ, so W ≈ C^(-1/2) (symmetric whitening) and gradients flow
    through every step. Unlike that code (whose centring line discards its result), the outputs
    are centred first, as whitening requires.
    """
    import torch  # noqa: PLC0415

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
    import torch  # noqa: PLC0415

    yc = y - y.mean(-2, keepdim=True)
    n, k = y.shape[-2], y.shape[-1]
    cov = yc.transpose(-1, -2) @ yc / (n - 1)
    cov = cov + eps * torch.eye(k, dtype=y.dtype, device=y.device)
    chol = torch.linalg.cholesky(cov)
    # z = yc L^{-T}  <=>  L z^T = yc^T
    return torch.linalg.solve_triangular(chol, yc.transpose(-1, -2), upper=False).transpose(-1, -2)


def _log_condition(y):
    """-log det of the correlation matrix of y (..., N, k) over the batch: 0 when uncorrelated."""
    import torch  # noqa: PLC0415

    yc = y - y.mean(-2, keepdim=True)
    cov = yc.transpose(-1, -2) @ yc
    d = torch.sqrt(torch.diagonal(cov, dim1=-2, dim2=-1) + 1e-12)
    corr = cov / (d.unsqueeze(-1) * d.unsqueeze(-2))
    eye = torch.eye(y.shape[-1], dtype=y.dtype, device=y.device)
    return -torch.logdet(corr + 1e-6 * eye)


def _fastica_unmixing(X: np.ndarray, k: int, random_state) -> np.ndarray:
    """(d, k) linear unmixing by scikit-learn FastICA (sources = X @ W), scaled to unit-variance outputs."""
    import warnings  # noqa: PLC0415

    from sklearn.decomposition import FastICA  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ica = FastICA(k, whiten="unit-variance", random_state=random_state, max_iter=500).fit(X)
    return ica.components_.T.astype(np.float32)
