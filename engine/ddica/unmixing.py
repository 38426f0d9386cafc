"""DDICA: blind unmixing by minimising the matrix-based Rényi total correlation of softmax outputs."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from sklearn.base import BaseEstimator

from ..abundance_convention import check_convention, peak_normalise, peak_normalised_abundances
from ..base import check_cube, check_n_endmembers, cube_to_pixels, pixels_to_maps, valid_mask
from ..endmember_refinement import endmembers_from_maps
from ..fcls import fcls
from ..progress import report, sub_progress
from . import network
from .clustering import cluster_units, combine_units, matched_clusters, nnls_endmembers, reconstruction_rmse, select_restarts
from .entropy import resolve_width, total_correlation
from ..errors import ParameterError

PREPROCESS = ("standardise", "pixel_norm")
FINAL_ABUNDANCES = ("fcls", "network")


class DDICA(BaseEstimator):
    """Deep deterministic ICA for hyperspectral unmixing (Li et al., ICASSP 2022), made label-free.

    ``n_restarts`` per-pixel ReLU MLPs with a softmax head (``n_units`` outputs, default
    ``n_endmembers``) are trained together as one batched model on mini-batches of pixels to
    minimise the Rényi α total correlation (TC) of their outputs.

    The trivial solutions are designed out in two ways: each output is standardised over the
    batch before the TC (a constant output has TC 0), and ``variance_weight * Σ -log(std)`` is
    added, because with sum-to-one outputs the TC is otherwise lowered by letting one unit die
    (its standardised tiny variations then become free noise).

    After training, the restarts with the lowest reconstruction error (data vs. abundances x
    NNLS endmembers; no ground truth) are kept (``keep_fraction``). With ``n_units ==
    n_endmembers`` the kept restarts' units are matched to k-means consensus centres (one unit
    per restart and cluster, so means keep sum-to-one); with more units (over-classification)
    plain k-means groups them. A pixel's network abundance is the mean of its cluster's units,
    min-max rescaled over the fit pixels when ``rescale`` (as in the authors' code) and
    renormalised to sum to one.

    Endmembers and final abundances (not in the paper, label-free): each network map ranks the
    pixels by purity; the endmember is the mean spectrum of its ``purify`` fraction of purest
    pixels, then ``expand`` expansion steps (as BUDDIP's first guess, see
    :mod:`engine.endmember_refinement`); the abundances are FCLS with these endmembers
    (``final_abundances='fcls'``). ``purify=0`` gives the paper's NNLS endmembers and
    ``final_abundances='network'`` the network's own maps. ``abundance_convention=
    'peak_normalised'`` reports shares of peak-normalised endmembers instead of fractions (the
    convention of Zhu's Samson/Jasper/Urban references; see :mod:`engine.abundance_convention`);
    ``endmembers_`` are then peak-normalised too.

    Options: ``preprocess='pixel_norm'`` divides every spectrum by its norm before the per-band
    standardisation, so the network sees spectral shape without brightness (illumination
    invariant). ``variance_weight`` also sets how crisp the network maps are. The choices are
    measured in ``benchmarks/results/ddica_samson_ablation.md``.

    Inference (:meth:`predict_abundances`, :meth:`transform`) is a numpy function of each pixel
    alone, so it runs blockwise on rasters of any size; the fitted estimator pickles without torch.
    """

    def __init__(
        self,
        n_endmembers: int = 3,
        alpha: float = 1.01,
        kernel_width: Optional[float] = None,
        batch_size: int = 128,
        n_restarts: int = 32,
        n_units: Optional[int] = None,
        n_steps: int = 100,
        learning_rate: float = 1e-3,
        hidden_units: Sequence[int] = (128, 128),
        variance_weight: float = 0.3,
        keep_fraction: float = 0.25,
        rescale: bool = True,
        eig_route: str = "auto",
        device: str = "cpu",
        random_state: Optional[int] = None,
        max_fit_pixels: int = 20000,
        block_size: int = 16384,
        preprocess: str = "standardise",
        purify: float = 0.05,
        expand: int = 3,
        final_abundances: str = "fcls",
        abundance_convention: str = "fractions",
        progress=None,
    ):
        self.n_endmembers = n_endmembers
        self.alpha = alpha
        self.kernel_width = kernel_width
        self.batch_size = batch_size
        self.n_restarts = n_restarts
        self.n_units = n_units
        self.n_steps = n_steps
        self.learning_rate = learning_rate
        self.hidden_units = hidden_units
        self.variance_weight = variance_weight
        self.keep_fraction = keep_fraction
        self.rescale = rescale
        self.eig_route = eig_route
        self.device = device
        self.random_state = random_state
        self.max_fit_pixels = max_fit_pixels
        self.block_size = block_size
        self.preprocess = preprocess
        self.purify = purify
        self.expand = expand
        self.final_abundances = final_abundances
        self.abundance_convention = abundance_convention
        self.progress = progress

    # ------------------------------------------------------------------ fit
    def fit(self, cube: np.ndarray, mask: Optional[np.ndarray] = None) -> "DDICA":
        """Train on (a sample of) the valid pixels of ``cube`` (L, H, W); fills abundances_ and endmembers_."""
        Y, valid = cube_to_pixels(cube, mask)
        L, n = Y.shape
        p = check_n_endmembers(self.n_endmembers, L, n)
        K = int(self.n_units) if self.n_units is not None else p
        if K < p:
            raise ParameterError(f"n_units ({K}) must be at least n_endmembers ({p})")
        rng = np.random.default_rng(self.random_state)
        fit_idx = np.sort(rng.choice(n, self.max_fit_pixels, replace=False)) if n > self.max_fit_pixels else np.arange(n)
        Y_fit = Y[:, fit_idx]
        self.n_features_in_ = L
        if self.preprocess not in PREPROCESS:
            raise ParameterError(f"preprocess must be one of {PREPROCESS}, got {self.preprocess!r}")
        if self.final_abundances not in FINAL_ABUNDANCES:
            raise ParameterError(f"final_abundances must be one of {FINAL_ABUNDANCES}, got {self.final_abundances!r}")
        check_convention(self.abundance_convention)
        if not 0 <= float(self.purify) <= 1:
            raise ParameterError(f"purify must be a fraction in [0, 1], got {self.purify}")
        Z = self._pixel_norm(Y_fit)
        self.mean_ = Z.mean(1)
        self.scale_ = Z.std(1) + 1e-6 * (Z.std() + 1e-12)

        weights = self._train(self._standardise(Y_fit), K)
        report(self.progress, 0.9, "DDICA: selecting restarts and clustering")
        T = len(weights[0][0])
        units = self._unit_maps(weights, Y_fit)  # (T, K, n_fit)
        errors = np.empty(T)
        for t in range(T):  # a minute on big scenes: say where it is
            errors[t] = reconstruction_rmse(Y_fit, units[t])
            report(self.progress, 0.9 + 0.04 * (t + 1) / T, f"DDICA: reconstruction error of restart {t + 1}/{T}")
        keep = select_restarts(errors, self.keep_fraction)
        self.restart_errors_ = errors
        self.kept_restarts_ = keep
        self.weights_ = [(W[keep], b[keep]) for W, b in weights]
        if K == p:
            self.unit_labels_ = matched_clusters(units[keep], self.random_state)
        else:
            labels, _ = cluster_units(units[keep].reshape(len(keep) * K, -1), p, self.random_state)
            self.unit_labels_ = labels.reshape(len(keep), K)
        self.map_min_ = np.zeros(p)
        self.map_max_ = np.ones(p)
        if self.rescale:
            raw = self._cluster_means(units[keep])
            self.map_min_, self.map_max_ = raw.min(1), raw.max(1)

        report(self.progress, 0.95, "DDICA: abundances and endmembers")
        A = self._network_abundances(Y)
        if self.purify > 0:
            E, _ = endmembers_from_maps(Y[:, fit_idx], A[:, fit_idx], self.purify, self.expand)
        else:
            E = nnls_endmembers(Y[:, fit_idx], A[:, fit_idx])
        self.network_abundances_ = pixels_to_maps(A, valid)
        if self.abundance_convention == "peak_normalised":
            self.endmembers_ = peak_normalise(E)
            A, scale = peak_normalised_abundances(Y, self.endmembers_)
            fitted = self.endmembers_ @ (A * scale)
        else:
            self.endmembers_ = E
            if self.final_abundances == "fcls":
                A = fcls(Y, E, progress=sub_progress(self.progress, 0.96, 1.0))
            fitted = E @ A
        self.abundances_ = pixels_to_maps(A, valid)
        resid = np.sqrt(np.mean((Y - fitted) ** 2, axis=0))
        self.reconstruction_error_ = pixels_to_maps(resid[None], valid)[0]
        report(self.progress, 1.0, "DDICA: done")
        return self

    def _train(self, X_np: np.ndarray, K: int):
        """Batched training of all restarts; returns numpy weights [(W (T, in, out), b (T, 1, out)), ...]."""
        from ..torch_support import import_torch, resolve_device, seeded_generator  # noqa: PLC0415

        torch = import_torch()
        device = resolve_device(self.device)
        T = int(self.n_restarts)
        if T < 1:
            raise ParameterError("n_restarts must be at least 1")
        n_fit = X_np.shape[0]
        batch = int(min(self.batch_size, n_fit))
        sigma = resolve_width(self.kernel_width, batch, K)
        self.kernel_width_ = sigma
        X = torch.as_tensor(X_np, device=device)
        gen = seeded_generator(self.random_state, device)
        params = network.init_params([X.shape[1], *map(int, self.hidden_units), K], T, gen, device)
        opt = torch.optim.Adam(network.parameters(params), lr=self.learning_rate)
        every = max(1, self.n_steps // 50)
        curve = np.empty((self.n_steps, T))
        report(self.progress, 0.0, "DDICA: training")
        for step in range(self.n_steps):
            idx = torch.randint(n_fit, (T, batch), generator=gen, device=device)
            s = torch.softmax(network.forward(params, X[idx]), dim=-1)
            tc = total_correlation(_standardise_over_batch(s), sigma, self.alpha, self.eig_route)
            loss = tc.sum()
            if self.variance_weight:
                loss = loss - self.variance_weight * torch.log(s.std(-2) + 1e-3).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            curve[step] = tc.detach().cpu().numpy()
            if (step + 1) % every == 0:
                report(self.progress, 0.9 * (step + 1) / self.n_steps,
                       f"DDICA step {step + 1}/{self.n_steps}, TC {curve[step].mean():.4f}")
        self.loss_curve_ = curve.mean(1)
        self.restart_loss_curves_ = curve
        self.n_iter_ = self.n_steps
        return network.to_numpy(params)

    # ------------------------------------------------------------ inference
    def _pixel_norm(self, Y: np.ndarray) -> np.ndarray:
        """Each spectrum divided by its Euclidean norm when ``preprocess == 'pixel_norm'`` (brightness removed)."""
        if getattr(self, "preprocess", "standardise") == "pixel_norm":
            return Y / np.maximum(np.linalg.norm(Y, axis=0, keepdims=True), 1e-12)
        return Y

    def _standardise(self, Y: np.ndarray) -> np.ndarray:
        """Network input: (optionally brightness-normalised) pixels, standardised per band, (n, L) float32."""
        return ((self._pixel_norm(Y).T - self.mean_) / self.scale_).astype(np.float32)

    def _unit_maps(self, weights, Y: np.ndarray) -> np.ndarray:
        """Softmax outputs of every restart: (T, K, n)."""
        out = [network.softmax_numpy(network.forward_numpy(weights, self._standardise(Y[:, s:s + self.block_size])))
               for s in range(0, Y.shape[1], self.block_size)]
        return np.concatenate(out, axis=1).transpose(0, 2, 1)

    def _cluster_means(self, units: np.ndarray) -> np.ndarray:
        flat = units.reshape(-1, units.shape[-1])
        labels = self.unit_labels_.ravel()
        return np.stack([flat[labels == c].mean(0) for c in range(int(self.n_endmembers))])

    def predict_abundances(self, Y: np.ndarray) -> np.ndarray:
        """Abundances (p, n) for pixels Y (L, n), by the same route as ``fit`` (FCLS, network or peak-normalised shares)."""
        if not hasattr(self, "weights_"):
            raise RuntimeError("DDICA is not fitted yet")
        Y = np.asarray(Y, dtype=np.float64)
        if Y.shape[0] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} bands, got {Y.shape[0]}")
        if self.abundance_convention == "peak_normalised":
            return peak_normalised_abundances(Y, self.endmembers_)[0]
        if self.final_abundances == "fcls":
            return fcls(Y, self.endmembers_)
        return self._network_abundances(Y)

    def _network_abundances(self, Y: np.ndarray) -> np.ndarray:
        """Kept restarts -> unit maps -> cluster means -> rescale, sum to one: (p, n)."""
        Y = np.asarray(Y, dtype=np.float64)
        A = self._cluster_means(self._unit_maps(self.weights_, Y))
        span = np.where(self.map_max_ > self.map_min_, self.map_max_ - self.map_min_, 1.0)
        A = (A - self.map_min_[:, None]) / span[:, None]
        return combine_units(A, np.arange(len(A)), len(A))

    def transform(self, cube: np.ndarray, mask: Optional[np.ndarray] = None) -> np.ndarray:
        """Abundance maps (p, rows, cols) float32 for a cube, NaN at invalid pixels."""
        cube = check_cube(cube)
        valid = valid_mask(cube, mask)
        out = np.full((int(self.n_endmembers),) + valid.shape, np.nan, dtype=np.float32)
        if valid.any():
            out[:, valid] = self.predict_abundances(cube[:, valid].astype(np.float64))
        return out

    def export_numpy(self) -> dict:
        """Everything inference needs, as numpy arrays (for a numpy-only or Dask forward)."""
        return {
            "mean": self.mean_.copy(), "scale": self.scale_.copy(),
            "weights": [(W.copy(), b.copy()) for W, b in self.weights_],
            "unit_labels": self.unit_labels_.copy(), "map_min": self.map_min_.copy(),
            "map_max": self.map_max_.copy(), "endmembers": self.endmembers_.copy(),
            "pixel_norm": self.preprocess == "pixel_norm", "final_abundances": self.final_abundances,
            "abundance_convention": self.abundance_convention,
        }


def _standardise_over_batch(s, eps: float = 1e-6):
    """Zero-mean, unit-variance outputs over the batch axis (-2): removes the constant-output optimum."""
    mu = s.mean(-2, keepdim=True)
    sd = s.std(-2, keepdim=True)
    return (s - mu) / (sd + eps)
