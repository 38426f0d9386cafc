"""MISEP: post-nonlinear Infomax ICA (Almeida 2003), square case, torch."""

from __future__ import annotations

from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from deepunmix.engine.core.base import NOT_FITTED, keep_params
from deepunmix.engine.core.progress import ProgressCallback, report
from deepunmix.engine.core.torch_support import import_torch, resolve_device, seeded_generator

from ._ica_base import CubeICAMixin, check_samples, n_components_for
from ._torch_nets import uniform_


class MISEP(CubeICAMixin, TransformerMixin, BaseEstimator):
    """MISEP for post-nonlinear mixtures x = f(A s), f acting per channel; square case (k = n_features).

    Separating block F: a monotone per-channel nonlinearity g_j(x) = w_j x + sum_m a_jm tanh(b_jm x + c_jm)
    (w, a, b > 0) followed by a linear map y = W g(x) + c. Output block: per-output monotone
    bounded functions psi_i(y) = sum_m pi_im sigmoid(s_im y + t_im) (pi on the simplex, s > 0) that
    learn the cumulative distribution of each output. Training maximises the output entropy
    H(psi(F(x))) = H(x) + E[sum_i log psi_i'(y_i) + log|det W| + sum_j log g_j'(x_j)], whose
    Jacobian has this closed form here. Inputs are standardised per channel first.

    ``fit(X)`` sets ``loss_curve_`` (negative entropy term per step), ``n_iter_``;
    ``transform(X)`` returns y (n_samples, k), standardised.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of sources; must equal n_features (square case). None: n_features.
    random_state, device, progress
        As :class:`CubeICAMixin`.
    n_hidden : int, default=8
        Terms per channel in g and per output in psi.
    learning_rate : float, default=0.01
        Adam learning rate.
    max_iter : int, default=1500
        Training steps.
    batch_size : int, default=2000
        Samples per step (all of them when fewer).

    Attributes
    ----------
    loss_curve_ : ndarray of shape (n_iter_,)
        Negative entropy term per step.
    n_iter_ : int
        Steps run.
    unmixing_ : ndarray of shape (k, k)
        The linear map W (acting on g(x), not on X).
    x_mean_, x_std_ : ndarray of shape (n_features,)
        Input standardisation.
    y_mean_, y_std_ : ndarray of shape (k,)
        Output standardisation over the training data.
    """

    def __init__(
        self,
        n_components: Optional[int] = None,
        *,
        n_hidden: int = 8,
        learning_rate: float = 0.01,
        max_iter: int = 1500,
        batch_size: int = 2000,
        random_state: Optional[int] = None,
        device: str = "cpu",
        progress: ProgressCallback = None,
    ):
        keep_params(self, locals())

    def fit(self, X: np.ndarray, y=None) -> "MISEP":
        """Train the separating and output blocks on X (n_samples, n_features)."""
        torch = import_torch()
        X = check_samples(X, min_samples=3)
        n, d = X.shape
        k = n_components_for(self.n_components, d)
        if k != d:
            raise ValueError(f"MISEP handles the square case only: n_components ({k}) must equal n_features ({d})")
        dev = resolve_device(self.device)
        self.n_features_in_ = d
        self.x_mean_, self.x_std_ = X.mean(axis=0), X.std(axis=0) + 1e-12
        gen = seeded_generator(self.random_state, dev)
        Xt = torch.as_tensor((X - self.x_mean_) / self.x_std_, dtype=torch.float32, device=dev)
        m = int(self.n_hidden)
        # g: per-channel monotone nonlinearity (softplus keeps slopes positive)
        g = {
            "w": torch.full((d,), 0.5413, device=dev).requires_grad_(True),  # softplus(0.5413) = 1
            "a": uniform_(torch, (d, m), 1.0, gen, dev),
            "b": uniform_(torch, (d, m), 1.0, gen, dev),
            "c": uniform_(torch, (d, m), 2.0, gen, dev),
        }
        q, _ = torch.linalg.qr(torch.randn((k, k), generator=gen, device=dev))
        lin = {"W": q.clone().requires_grad_(True), "c": torch.zeros(k, device=dev, requires_grad=True)}
        psi = {
            "pi": torch.zeros((k, m), device=dev, requires_grad=True),
            "s": uniform_(torch, (k, m), 1.0, gen, dev),
            "t": uniform_(torch, (k, m), 2.0, gen, dev),
        }
        params = [*g.values(), *lin.values(), *psi.values()]
        opt = torch.optim.Adam(params, lr=self.learning_rate)
        batch = min(int(self.batch_size), n)
        curve = []
        for step in range(int(self.max_iter)):
            idx = torch.randperm(n, generator=gen, device=dev)[:batch] if batch < n else slice(None)
            xb = Xt[idx]
            v, log_gp = self._g(torch, g, xb)
            yb = v @ lin["W"].T + lin["c"]
            log_psip = self._log_psi_prime(torch, psi, yb)
            logdet = torch.linalg.slogdet(lin["W"])[1]
            loss = -(log_psip.sum(dim=1).mean() + logdet + log_gp.sum(dim=1).mean())
            opt.zero_grad()
            loss.backward()
            opt.step()
            curve.append(float(loss.detach()))
            if step % 20 == 0 or step == self.max_iter - 1:
                report(self.progress, (step + 1) / self.max_iter, f"MISEP step {step + 1}")
        self._g_params = {key: t.detach() for key, t in g.items()}
        self._lin = {key: t.detach() for key, t in lin.items()}
        self._dev = dev
        with torch.no_grad():
            out = self._forward(torch, Xt).cpu().numpy().astype(np.float64)
        self.y_mean_, self.y_std_ = out.mean(axis=0), out.std(axis=0) + 1e-12
        self.unmixing_ = self._lin["W"].cpu().numpy().astype(np.float64)
        self.loss_curve_ = np.asarray(curve)
        self.n_iter_ = len(curve)
        return self

    @staticmethod
    def _g(torch, g, x):
        F = torch.nn.functional
        w, a, b = F.softplus(g["w"]), F.softplus(g["a"]), F.softplus(g["b"])
        th = torch.tanh(x[:, :, None] * b + g["c"])  # (n, d, m)
        v = w * x + (a * th).sum(dim=2)
        slope = w + (a * b * (1.0 - th**2)).sum(dim=2)
        return v, torch.log(slope)

    @staticmethod
    def _log_psi_prime(torch, psi, y):
        F = torch.nn.functional
        log_pi = torch.log_softmax(psi["pi"], dim=1)
        s = F.softplus(psi["s"])
        z = y[:, :, None] * s + psi["t"]  # (n, k, m)
        # log of sum_m pi s sigmoid(z) sigmoid(-z), computed stably
        terms = log_pi + torch.log(s) + F.logsigmoid(z) + F.logsigmoid(-z)
        return torch.logsumexp(terms, dim=2)

    def _forward(self, torch, Xt):
        v, _ = self._g(torch, self._g_params, Xt)
        return v @ self._lin["W"].T + self._lin["c"]

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Separated outputs (n_samples, k), each standardised over the training data."""
        check_is_fitted(self, ["y_std_", "loss_curve_"], msg=NOT_FITTED)
        torch = import_torch()
        X = check_samples(X, min_samples=1)
        Xt = torch.as_tensor((X - self.x_mean_) / self.x_std_, dtype=torch.float32, device=self._dev)
        with torch.no_grad():
            out = self._forward(torch, Xt).cpu().numpy().astype(np.float64)
        return (out - self.y_mean_) / self.y_std_
