"""Extended Infomax ICA (Bell & Sejnowski 1995; Lee, Girolami & Sejnowski 1999), numpy, mini-batched."""

from __future__ import annotations

from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from deepunmix.engine.core.base import NOT_FITTED, keep_params
from deepunmix.engine.core.progress import ProgressCallback, report

from ._ica_base import CubeICAMixin, check_samples, n_components_for, pca_whitener


def _switching_signs(u: np.ndarray) -> np.ndarray:
    """Lee et al.'s switch: k_i = sign(E[sech^2 u_i] E[u_i^2] - E[tanh(u_i) u_i]); +1 super-, -1 sub-Gaussian."""
    t = np.tanh(u)
    crit = (1.0 - t**2).mean(axis=0) * (u**2).mean(axis=0) - (t * u).mean(axis=0)
    return np.where(crit >= 0, 1.0, -1.0)


class InfomaxICA(CubeICAMixin, TransformerMixin, BaseEstimator):
    """Natural-gradient extended Infomax on PCA-whitened data.

    Update per mini-batch u = W z: ``W += lr (I - K tanh(u) u^T - u u^T) W`` (expectations
    over the batch), with K = diag(k_i) re-estimated each epoch by the sub/super-Gaussian
    switching rule. The learning rate is annealed by ``anneal`` whenever successive updates
    turn by more than 60 degrees, and the run restarts with a smaller rate if it diverges.
    ``extended=False`` gives the original (super-Gaussian only) Infomax.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of sources k (1 <= k <= n_features); None: n_features.
    random_state, progress
        As :class:`CubeICAMixin`.
    extended : bool, default=True
        Re-estimate the sub/super-Gaussian signs each epoch; False: original Infomax.
    learning_rate : float, default=0.05
        Initial learning rate (annealed, and halved on a restart after divergence).
    batch_size : int or None, default=None
        Mini-batch size; None: sqrt(n_samples / 3) clipped to [16, 4096].
    max_iter : int, default=200
        Most epochs.
    tol : float, default=1e-7
        Stop when the squared weight change of an epoch is below this.
    anneal : float, default=0.9
        Factor applied to the learning rate when successive updates turn by more than 60 degrees.

    Attributes
    ----------
    components_, unmixing_ : ndarray of shape (k, n_features)
        Unmixing matrix from X (one array under two names).
    mixing_ : ndarray of shape (n_features, k)
        Pseudo-inverse of ``components_``.
    mean_ : ndarray of shape (n_features,)
        Mean of X.
    whitener_ : ndarray of shape (k, n_features)
        PCA whitening matrix.
    weights_ : ndarray of shape (k, k)
        Unmixing matrix of the whitened data.
    signs_ : ndarray of shape (k,)
        +1 super-, -1 sub-Gaussian per source.
    n_iter_ : int
        Epochs run.
    loss_curve_ : list of float
        Squared weight change per epoch.
    """

    def __init__(
        self,
        n_components: Optional[int] = None,
        *,
        extended: bool = True,
        learning_rate: float = 0.05,
        batch_size: Optional[int] = None,
        max_iter: int = 200,
        tol: float = 1e-7,
        anneal: float = 0.9,
        random_state: Optional[int] = None,
        progress: ProgressCallback = None,
    ):
        keep_params(self, locals())

    def fit(self, X: np.ndarray, y=None) -> "InfomaxICA":
        """Estimate the unmixing matrix from X (n_samples, n_features)."""
        X = check_samples(X, min_samples=3)
        n, _ = X.shape
        k = n_components_for(self.n_components, X.shape[1])
        self.n_features_in_ = X.shape[1]
        self.mean_, whitener = pca_whitener(X, k)
        Z = (X - self.mean_) @ whitener.T
        rng = np.random.default_rng(self.random_state)
        batch = int(self.batch_size) if self.batch_size else int(np.clip(np.sqrt(n / 3.0), 16, 4096))
        batch = max(1, min(batch, n))
        sign_sample = Z if n <= 20000 else Z[rng.choice(n, 20000, replace=False)]
        lr = float(self.learning_rate)
        for _attempt in range(10):
            with np.errstate(over="ignore", invalid="ignore"):
                W, signs, curve, ok = self._run(Z, sign_sample, k, batch, lr, rng)
            if ok:
                break
            lr *= 0.5  # diverged: restart more gently
        else:
            raise RuntimeError("Infomax diverged; lower learning_rate or standardise the data")
        self.whitener_ = whitener
        self.weights_ = W
        self.components_ = W @ whitener
        self.unmixing_ = self.components_
        self.mixing_ = np.linalg.pinv(self.components_)
        self.signs_ = signs
        self.loss_curve_ = curve
        self.n_iter_ = len(curve)
        return self

    def _run(self, Z, sign_sample, k, batch, lr, rng):
        n = Z.shape[0]
        W = np.eye(k)
        signs = np.ones(k)
        eye = np.eye(k)
        prev_delta, curve = None, []
        for epoch in range(int(self.max_iter)):
            if self.extended:
                signs = _switching_signs(sign_sample @ W.T)
            W_old = W.copy()
            order = rng.permutation(n)
            n_blocks = max(1, n // batch)
            for b in range(n_blocks):
                zb = Z[order[b * batch : (b + 1) * batch]]
                u = zb @ W.T
                grad = eye - (signs[:, None] * (np.tanh(u).T @ u) + u.T @ u) / len(zb)
                W = W + lr * grad @ W
            if not np.all(np.isfinite(W)) or np.abs(W).max() > 1e6:
                return W, signs, curve, False
            delta = W - W_old
            change = float((delta**2).sum())
            curve.append(change)
            if prev_delta is not None:
                cos = (delta * prev_delta).sum() / (np.linalg.norm(delta) * np.linalg.norm(prev_delta) + 1e-300)
                if cos < 0.5:  # turned by more than 60 degrees
                    lr *= self.anneal
            prev_delta = delta
            report(self.progress, (epoch + 1) / self.max_iter, f"Infomax epoch {epoch + 1}")
            if change < self.tol:
                break
        return W, signs, curve, True

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Sources (n_samples, k) of X."""
        check_is_fitted(self, "components_", msg=NOT_FITTED)
        X = check_samples(X, min_samples=1)
        return (X - self.mean_) @ self.components_.T
