"""FastICA: a thin wrapper of scikit-learn's, with the comparators' API."""

from __future__ import annotations

from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from deepunmix.engine.core.base import NOT_FITTED, keep_params

from ._ica_base import CubeICAMixin, check_samples, n_components_for


class FastICA(CubeICAMixin, TransformerMixin, BaseEstimator):
    """FastICA (Hyvärinen 1999) via :class:`sklearn.decomposition.FastICA`.

    ``fit(X)`` with X (n_samples, n_features) sets ``components_`` = ``unmixing_``
    (k, n_features), ``mixing_`` (n_features, k), ``mean_`` and ``n_iter_``;
    ``transform(X)`` returns sources (n_samples, k) = (X - mean_) @ components_.T.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of sources k (1 <= k <= n_features); None: n_features.
    random_state
        As :class:`CubeICAMixin`.
    fun : {'logcosh', 'exp', 'cube'}, default='logcosh'
        Contrast function, passed to scikit-learn.
    max_iter : int, default=400
        Most iterations.
    tol : float, default=1e-4
        Convergence tolerance (non-convergence is not warned about).

    Attributes
    ----------
    components_, unmixing_ : ndarray of shape (k, n_features)
        Unmixing matrix (one array under two names).
    mixing_ : ndarray of shape (n_features, k)
        Mixing matrix.
    mean_ : ndarray of shape (n_features,)
        Mean of X.
    n_iter_ : int
        Iterations run.
    """

    def __init__(
        self,
        n_components: Optional[int] = None,
        *,
        fun: str = "logcosh",
        max_iter: int = 400,
        tol: float = 1e-4,
        random_state: Optional[int] = None,
    ):
        keep_params(self, locals())

    def fit(self, X: np.ndarray, y=None) -> "FastICA":
        """Estimate the unmixing matrix from X (n_samples, n_features)."""
        import warnings

        from sklearn.decomposition import FastICA as _SkFastICA
        from sklearn.exceptions import ConvergenceWarning

        X = check_samples(X)
        k = n_components_for(self.n_components, X.shape[1])
        model = _SkFastICA(
            n_components=k,
            fun=self.fun,
            max_iter=self.max_iter,
            tol=self.tol,
            whiten="unit-variance",
            random_state=self.random_state,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X)
        self.n_features_in_ = X.shape[1]
        self.components_ = model.components_.copy()
        self.unmixing_ = self.components_
        self.mixing_ = model.mixing_.copy()
        self.mean_ = model.mean_.copy()
        self.n_iter_ = int(model.n_iter_)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Sources (n_samples, k) of X."""
        check_is_fitted(self, "components_", msg=NOT_FITTED)
        X = check_samples(X, min_samples=1)
        return (X - self.mean_) @ self.components_.T
