"""MINE-based ICA (Hlynsson & Wiskott 2019, 'Learning gradient-based ICA by neurally estimating MI'), torch."""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from deepunmix.engine.core.base import NOT_FITTED, keep_params
from deepunmix.engine.core.progress import ProgressCallback, report
from deepunmix.engine.core.torch_support import import_torch, resolve_device, seeded_generator

from ._ica_base import CubeICAMixin, check_samples, n_components_for, pca_whitener
from ._torch_nets import batch_whiten, batched_mlp, batched_mlp_params, flat


class MINEICA(CubeICAMixin, TransformerMixin, BaseEstimator):
    """Adversarial ICA: an encoder minimises MINE lower bounds of I(y_i; y_-i) that estimator nets maximise.

    Data are PCA-whitened to ``n_components`` first (the hyperspectral, undercomplete case). The
    encoder is ``'linear'`` (y = z W) or ``'mlp'`` (y = z W + MLP(z), for post-nonlinear mixtures);
    its outputs are whitened over the batch (ZCA) so that no output can collapse. For every output
    i an estimator network T_i(y) gives the Donsker-Varadhan bound
    I_i = E_joint[T_i(y)] - log E_marg[exp T_i(y~)], where y~ has y_i shuffled across the batch
    (samples of p(y_i) p(y_-i)). Each encoder step follows ``estimator_steps`` estimator steps;
    both use Adam.

    ``transform(X)`` returns outputs (n_samples, k) whitened with
    the full-data statistics of the trained encoder.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of sources k (2 <= k <= n_features); None: n_features.
    random_state, device, progress
        As :class:`CubeICAMixin`.
    encoder : {'linear', 'mlp'}, default='mlp'
        Encoder: y = z W, or y = z W + MLP(z).
    hidden : int, default=32
        Width of the encoder MLP's two hidden layers.
    estimator_hidden : int, default=64
        Width of each estimator network's two hidden layers.
    learning_rate : float, default=1e-3
        Adam learning rate of the encoder.
    estimator_learning_rate : float, default=1e-3
        Adam learning rate of the estimator networks.
    estimator_steps : int, default=2
        Estimator steps per encoder step.
    max_iter : int, default=2000
        Encoder steps.
    batch_size : int, default=512
        Samples per batch (at most n_samples).

    Attributes
    ----------
    loss_curve_ : ndarray of shape (n_iter_,)
        sum_i I_i seen by the encoder per step.
    n_iter_ : int
        Encoder steps run.
    mean_ : ndarray of shape (n_features,)
        Mean of X.
    whitener_ : ndarray of shape (k, n_features)
        PCA whitening matrix.
    unmixing_ : ndarray of shape (k, n_features) or None
        Linear unmixing (sources = (X - mean_) @ unmixing_.T + const) for the linear encoder;
        None for the MLP encoder.
    """

    def __init__(
        self,
        n_components: Optional[int] = None,
        *,
        encoder: str = "mlp",
        hidden: int = 32,
        estimator_hidden: int = 64,
        learning_rate: float = 1e-3,
        estimator_learning_rate: float = 1e-3,
        estimator_steps: int = 2,
        max_iter: int = 2000,
        batch_size: int = 512,
        random_state: Optional[int] = None,
        device: str = "cpu",
        progress: ProgressCallback = None,
    ):
        keep_params(self, locals())

    def fit(self, X: np.ndarray, y=None) -> "MINEICA":
        """Train the encoder adversarially against the MINE estimators on X (n_samples, n_features)."""
        torch = import_torch()
        if self.encoder not in ("linear", "mlp"):
            raise ValueError(f"encoder must be 'linear' or 'mlp', got {self.encoder!r}")
        X = check_samples(X, min_samples=4)
        n = X.shape[0]
        k = n_components_for(self.n_components, X.shape[1])
        if k < 2:
            raise ValueError("MINE-ICA needs at least 2 components")
        dev = resolve_device(self.device)
        self.n_features_in_ = X.shape[1]
        self.mean_, self.whitener_ = pca_whitener(X, k)
        gen = seeded_generator(self.random_state, dev)
        Z = torch.as_tensor((X - self.mean_) @ self.whitener_.T, dtype=torch.float32, device=dev)
        q, _ = torch.linalg.qr(torch.randn((k, k), generator=gen, device=dev))
        enc = {"W": q.clone().requires_grad_(True)}
        mlp = batched_mlp_params(torch, 1, [k, self.hidden, self.hidden, k], gen, dev) if self.encoder == "mlp" else []
        if mlp:
            with torch.no_grad():
                mlp[-1][0].mul_(0.1)  # start close to the linear solution
        est = batched_mlp_params(torch, k, [k, self.estimator_hidden, self.estimator_hidden, 1], gen, dev)
        enc_params = [enc["W"], *flat(mlp)]
        opt_enc = torch.optim.Adam(enc_params, lr=self.learning_rate)
        opt_est = torch.optim.Adam(flat(est), lr=self.estimator_learning_rate)
        batch = min(int(self.batch_size), n)
        log_b = math.log(batch)
        eye = torch.eye(k, dtype=torch.bool, device=dev)

        def bound(y):
            """Per-output DV bounds (k,) on a whitened batch y (B, k)."""
            joint = y.unsqueeze(0).expand(k, -1, -1)  # (k, B, k): net i sees y
            perm = torch.argsort(torch.rand((k, y.shape[0]), generator=gen, device=dev), dim=1)
            shuffled = y.T.gather(1, perm)  # (k, B): y_i with its rows shuffled
            marg = torch.where(eye.unsqueeze(1), shuffled.unsqueeze(2), joint)
            t_joint = batched_mlp(torch, est, joint).squeeze(2)
            t_marg = batched_mlp(torch, est, marg).squeeze(2)
            return t_joint.mean(dim=1) - (torch.logsumexp(t_marg, dim=1) - log_b)

        def encode(zb):
            out = zb @ enc["W"]
            if mlp:
                out = out + batched_mlp(torch, mlp, zb.unsqueeze(0)).squeeze(0)
            return out

        curve = []
        for step in range(int(self.max_iter)):
            for _ in range(int(self.estimator_steps)):
                zb = Z[torch.randperm(n, generator=gen, device=dev)[:batch]]
                with torch.no_grad():
                    yb = batch_whiten(torch, encode(zb))[0]
                opt_est.zero_grad()
                (-bound(yb).sum()).backward()
                opt_est.step()
            zb = Z[torch.randperm(n, generator=gen, device=dev)[:batch]]
            mi = bound(batch_whiten(torch, encode(zb))[0]).sum()
            opt_enc.zero_grad()
            mi.backward()
            opt_enc.step()
            curve.append(float(mi.detach()))
            if step % 20 == 0 or step == self.max_iter - 1:
                report(self.progress, (step + 1) / self.max_iter, f"MINE-ICA step {step + 1}")
        self._enc = {"W": enc["W"].detach(), "mlp": [(W.detach(), b.detach()) for W, b in mlp]}
        self._dev = dev
        with torch.no_grad():
            raw = self._encode(torch, Z)
            _, mean, W = batch_whiten(torch, raw)
        self._out_mean, self._out_whitener = mean, W
        # linear encoder: sources = (X - mean_) @ unmixing_.T + const; None for the MLP encoder
        self.unmixing_ = None if mlp else (self.whitener_.T @ (self._enc["W"] @ W).cpu().numpy().astype(np.float64)).T
        self.loss_curve_ = np.asarray(curve)
        self.n_iter_ = len(curve)
        return self

    def _encode(self, torch, Z):
        out = Z @ self._enc["W"]
        if self._enc["mlp"]:
            out = out + batched_mlp(torch, self._enc["mlp"], Z.unsqueeze(0)).squeeze(0)
        return out

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Separated outputs (n_samples, k)."""
        check_is_fitted(self, ["whitener_", "loss_curve_"], msg=NOT_FITTED)
        torch = import_torch()
        X = check_samples(X, min_samples=1)
        Z = torch.as_tensor((X - self.mean_) @ self.whitener_.T, dtype=torch.float32, device=self._dev)
        with torch.no_grad():
            out = (self._encode(torch, Z) - self._out_mean) @ self._out_whitener
        return out.cpu().numpy().astype(np.float64)
