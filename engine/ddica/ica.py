"""DeepICA: nonlinear (post-nonlinear) blind source separation by minimising Rényi total correlation."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from scipy.special import ndtri
from sklearn.base import BaseEstimator

from ..base import cube_to_pixels, pixels_to_maps
from ..progress import report
from . import network
from .entropy import resolve_width, total_correlation
from ..errors import ParameterError


_LEVELS = np.linspace(0.0005, 0.9995, 1001)
_NORMAL_Q = ndtri(_LEVELS)


class DeepICA(BaseEstimator):
    """Deep deterministic ICA with a linear output and a differentiable whitening layer.

    ``conditioning_weight`` adds ``-log det`` of the outputs' correlation matrix: without it the
    net can make its outputs nearly collinear and let the whitening amplify a tiny residual,
    which whitens in a batch but not stably on new samples.

    ``input_transform='gaussianize'`` maps each input channel through its empirical CDF and the
    normal quantile function first (Ziehe et al.'s Gaussianization for post-nonlinear mixtures:
    a linear mixture of several independent sources is close to Gaussian, so this roughly undoes
    each channel's nonlinearity); 'standardize' only centres and scales. With ``init='fastica'``
    (PNL architecture) the linear layer of every restart starts from scikit-learn's FastICA
    unmixing of the transformed inputs and the TC training refines it; 'random' starts cold.

    ``n_restarts`` ReLU MLPs (trained together as one batched model) map each sample to
    ``n_components`` outputs; the outputs are whitened over the mini-batch (Cholesky of their
    covariance, so constant or duplicated outputs are impossible) and the matrix-based Rényi
    α total correlation of the whitened outputs is minimised. The restart with the lowest TC
    on held-out batches (no labels) is kept. ``transform`` applies its net and the whitening
    estimated on the fit samples; it is a numpy function of each sample.
    """

    def __init__(
        self,
        n_components: int = 2,
        alpha: float = 1.01,
        kernel_width: Optional[float] = None,
        batch_size: int = 128,
        n_restarts: int = 4,
        n_steps: int = 400,
        learning_rate: float = 1e-3,
        hidden_units: Sequence[int] = (64, 64, 64),
        architecture: str = "pnl",
        pnl_hidden: int = 16,
        conditioning_weight: float = 0.1,
        input_transform: str = "gaussianize",
        init: str = "fastica",
        eig_route: str = "auto",
        device: str = "cpu",
        random_state: Optional[int] = None,
        max_fit_samples: int = 50000,
        progress=None,
    ):
        self.n_components = n_components
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
        self.eig_route = eig_route
        self.device = device
        self.random_state = random_state
        self.max_fit_samples = max_fit_samples
        self.progress = progress

    def fit(self, X: np.ndarray, y=None) -> "DeepICA":
        """Learn the unmixing function from samples X (n_samples, n_features)."""
        from ..torch_support import import_torch, resolve_device, seeded_generator  # noqa: PLC0415

        torch = import_torch()
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or not np.isfinite(X).all():
            raise ValueError("X must be a finite (n_samples, n_features) array")
        n, d = X.shape
        k = int(self.n_components)
        if not 1 <= k <= n:
            raise ParameterError(f"n_components must be in [1, {n}], got {k}")
        rng = np.random.default_rng(self.random_state)
        fit_idx = np.sort(rng.choice(n, self.max_fit_samples, replace=False)) if n > self.max_fit_samples else np.arange(n)
        self.n_features_in_ = d
        if self.input_transform not in ("gaussianize", "standardize"):
            raise ValueError(f"input_transform must be 'gaussianize' or 'standardize', got {self.input_transform!r}")
        self.mean_ = X[fit_idx].mean(0)
        self.scale_ = X[fit_idx].std(0) + 1e-12
        self.quantiles_ = None
        if self.input_transform == "gaussianize":
            q = np.quantile(X[fit_idx], _LEVELS, axis=0)  # (n_levels, d)
            self.quantiles_ = q + 1e-9 * np.abs(q).max(0) * np.arange(len(q))[:, None] / len(q)  # strictly increasing
        device = resolve_device(self.device)
        Xt = torch.as_tensor(self._standardise(X[fit_idx]), device=device)
        n_fit = len(fit_idx)
        batch = int(min(self.batch_size, n_fit))
        sigma = resolve_width(self.kernel_width, batch, k)
        self.kernel_width_ = sigma
        T = int(self.n_restarts)
        gen = seeded_generator(self.random_state, device)
        if self.architecture == "pnl":
            params = network.init_pnl_params(d, k, int(self.pnl_hidden), T, gen, device)
            flat, fwd = params, network.forward_pnl
            if self.init == "fastica":
                W0 = _fastica_unmixing(self._standardise(X[fit_idx]), k, self.random_state)
                with torch.no_grad():
                    params[3].copy_(torch.as_tensor(W0, dtype=params[3].dtype, device=device).expand_as(params[3]))
            elif self.init != "random":
                raise ValueError(f"init must be 'fastica' or 'random', got {self.init!r}")
        elif self.architecture == "mlp":
            params = network.init_params([d, *map(int, self.hidden_units), k], T, gen, device, head_gain=1.0)
            flat, fwd = network.parameters(params), network.forward
        else:
            raise ValueError(f"architecture must be 'pnl' or 'mlp', got {self.architecture!r}")
        opt = torch.optim.Adam(flat, lr=self.learning_rate)
        every = max(1, self.n_steps // 50)
        curve = np.empty((self.n_steps, T))
        report(self.progress, 0.0, "DeepICA: training")
        for step in range(self.n_steps):
            idx = torch.randint(n_fit, (T, batch), generator=gen, device=device)
            y = fwd(params, Xt[idx])
            tc = total_correlation(whiten_batch(y), sigma, self.alpha, self.eig_route)
            loss = tc.sum()
            if self.conditioning_weight:
                loss = loss + self.conditioning_weight * _log_condition(y).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            curve[step] = tc.detach().cpu().numpy()
            if (step + 1) % every == 0:
                report(self.progress, 0.9 * (step + 1) / self.n_steps,
                       f"DeepICA step {step + 1}/{self.n_steps}, TC {curve[step].mean():.4f}")
        report(self.progress, 0.9, "DeepICA: choosing the restart")
        with torch.no_grad():  # label-free restart choice: mean TC on fresh batches
            evals = []
            for _ in range(8):
                idx = torch.randint(n_fit, (T, batch), generator=gen, device=device)
                evals.append(total_correlation(whiten_batch(fwd(params, Xt[idx])), sigma, self.alpha, self.eig_route))
            final_tc = torch.stack(evals).mean(0).cpu().numpy()
        best = int(np.argmin(final_tc))
        self.restart_tc_ = final_tc
        self.best_restart_ = best
        if self.architecture == "pnl":
            self.weights_ = [np.ascontiguousarray(t.detach().cpu().numpy()[[best]], dtype=np.float32) for t in params]
        else:
            self.weights_ = network.to_numpy(params, keep=[best])
        self.loss_curve_ = curve[:, best]
        self.restart_loss_curves_ = curve
        self.n_iter_ = self.n_steps
        out = self._forward(X[fit_idx])
        self.out_mean_ = out.mean(0)
        cov = np.cov(out, rowvar=False).reshape(k, k) + 1e-9 * np.eye(k)
        w, V = np.linalg.eigh(cov)
        # symmetric (ZCA) whitening: leaves already-uncorrelated outputs unrotated (PCA whitening would mix them)
        self.whitening_ = (V / np.sqrt(np.clip(w, 1e-12, None))) @ V.T
        report(self.progress, 1.0, "DeepICA: done")
        return self

    def _standardise(self, X: np.ndarray) -> np.ndarray:
        if self.quantiles_ is not None:
            return np.stack([np.interp(X[:, j], self.quantiles_[:, j], _NORMAL_Q) for j in range(X.shape[1])], 1).astype(np.float32)
        return ((X - self.mean_) / self.scale_).astype(np.float32)

    def _forward(self, X: np.ndarray) -> np.ndarray:
        fwd = network.forward_pnl_numpy if self.architecture == "pnl" else network.forward_numpy
        return fwd(self.weights_, self._standardise(X))[0].astype(np.float64)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Estimated sources (n_samples, n_components), whitened with the fit-sample statistics."""
        if not hasattr(self, "weights_"):
            raise RuntimeError("DeepICA is not fitted yet")
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
