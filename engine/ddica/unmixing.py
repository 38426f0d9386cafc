"""DDICA: blind unmixing by minimising the matrix-based Rényi total correlation of softmax outputs."""

from __future__ import annotations

from functools import partial
from typing import Optional, Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..abundances.convention import CONVENTIONS, peak_normalise, peak_normalised_abundances
from ..abundances.fcls import fcls
from ..abundances.safeguard import check_solution, restart_agreement
from ..core.base import (
    NOT_FITTED,
    check_cube,
    check_n_endmembers,
    cube_to_pixels,
    keep_params,
    pixels_to_maps,
    valid_mask,
)
from ..core.errors import ParameterError
from ..core.params import N_ENDMEMBERS, SEED, Choices, Integral, Interval, Real, non_negative, positive
from ..core.progress import report, sub_progress
from ..core.torch_support import import_torch, resolve_device, seeded_generator
from ..core.variants import VariantChoices, VariantMixin
from ..extraction.refinement import endmembers_from_maps
from ..reporting.metrics import per_pixel_rmse
from . import network
from .clustering import (
    cluster_units,
    combine_units,
    matched_clusters,
    nearest_units,
    nnls_endmembers,
    nnls_reconstruction_rmse,
    select_restarts,
)
from .entropy import ROUTES, resolve_width, total_correlation
from .memory import restart_bytes, restarts_per_group

PREPROCESS = ("standardise", "pixel_norm", "raw")
FINAL_ABUNDANCES = ("fcls", "network")
CONSENSUS = ("matched", "kmeans", "kmeans_nearest")
SAMPLING = ("replacement", "epochs")
BN_INFERENCE = ("running", "batch")
# an expansion step moves an endmember no further than keeps each band at half its value before the step: clipped
# at 0 instead, dark endmembers (water) came out zero over runs of bands (issue 23, Jasper Ridge)
EXPANSION_FLOOR = 0.5
_WEIGHT_BUDGET_BYTES = 1 << 30  # fitted weights larger than this are not kept (maps of the fitted pixels are)

_DEFAULT = dict(
    kernel_width=None,  # Gaussian kernel width σ; None: Silverman's rule for the batch and the outputs
    batch_size=128,
    n_restarts=32,
    n_steps=100,  # None: n_epochs epochs
    n_epochs=None,
    sampling="replacement",  # batches drawn with replacement, or shuffled "epochs"
    learning_rate=1e-3,
    hidden_units=(128, 128),
    batch_norm=False,  # BatchNorm after each hidden layer
    head_gain=0.1,  # scale of the softmax head's initial weights
    standardise_outputs=True,  # each output standardised over the batch before the TC
    whitening=False,  # the authors' power-iteration whitening of the outputs before the TC
    variance_weight=0.3,  # weight of Σ -log(std) of the softmax outputs
    tc_weight=1.0,  # weight of the TC term (0 for ablations)
    keep_fraction=1.0,  # share of restarts with the lowest reconstruction error kept
    consensus="matched",  # k-means + Hungarian matching per restart, "kmeans", or "kmeans_nearest" (authors)
    rescale=True,  # min-max scale each map over the fitted pixels
    renormalise=True,  # maps sum to one (else clipped to [0, 1])
    preprocess="standardise",  # network input: per-band z-scores, "pixel_norm" (then z-scored) or "raw"
    purify=0.01,  # > 0: endmembers from each map's purest pixels + expand steps; 0: NNLS endmembers
    expand=3,
    final_abundances="fcls",  # FCLS for the endmembers, or the "network" maps
    bn_inference="running",  # BatchNorm statistics of the maps: running, or each evaluation "batch"'s (authors)
    whitened_maps=False,  # with whitening, the maps are the whitened outputs (authors)
    unit_minmax=False,  # each restart's maps min-max scaled before the consensus (authors)
    drop_last=False,  # sampling="epochs": full batches only (authors)
    max_fit_pixels=20000,  # train on a random sample of at most this many pixels (0: every pixel)
    eig_route="auto",  # how the Gram matrices' eigenvalues are computed (entropy.total_correlation)
    block_size=16384,  # pixels per block of the numpy inference
)
# Li et al., ICASSP 2022 (unmixing experiments); where the paper is silent, the authors' code.
_PAPER = dict(
    _DEFAULT,
    kernel_width=0.1,
    batch_size=1000,
    n_restarts=1000,
    n_steps=None,
    n_epochs=3,
    sampling="epochs",
    learning_rate=1e-4,
    hidden_units=(4096,) * 6,
    batch_norm=True,
    head_gain=1.0,
    standardise_outputs=False,
    variance_weight=0.0,
    consensus="kmeans",
    renormalise=False,
    preprocess="raw",
    purify=0.0,
    expand=0,
    final_abundances="network",
)
VARIANTS = {
    "default": _DEFAULT,
    "paper": _PAPER,
    # the paper's network and loss read out as the authors' repository (hongmingli1995/DDICA, ICA_imge_raw.py and
    # plot/k_means_8.py) runs them; each key that differs from "paper" is one row of docs/ddica_variants.md
    "authors_code": dict(
        _PAPER,
        hidden_units=(4096,) * 6 + (128,),  # their seventh, 128-wide BatchNorm layer
        whitening=True,  # their power-iteration whitening of the softmax outputs, in forward(): loss and maps
        whitened_maps=True,
        bn_inference="batch",  # the model is never put in eval mode: maps use each evaluation batch's statistics
        unit_minmax=True,  # each run's maps min-max scaled before k-means
        consensus="kmeans_nearest",  # the 100 maps nearest each k-means centre
        drop_last=True,  # int(n / N) full batches per epoch
        max_fit_pixels=0,  # every pixel
    ),
}


class DDICA(VariantMixin, BaseEstimator):
    """Deep deterministic ICA for hyperspectral unmixing (Li et al., ICASSP 2022).

    ``n_restarts`` per-pixel ReLU networks with a softmax head of ``n_units`` outputs are trained together to
    minimise the Rényi α total correlation (TC) of their outputs. The kept restarts' unit maps are grouped into
    p maps; the endmembers come from the maps and the abundances are FCLS for them or the maps themselves.
    ``variant`` chooses every setting (:data:`VARIANTS`; docs/ddica_variants.md lists the differences); a
    parameter left at None takes the variant's value.
    Inference is a numpy function of each pixel: it runs blockwise and the fitted estimator pickles without
    torch. ``fit`` and :meth:`transform` take a cube (L, H, W) and an optional (H, W) validity mask.

    Parameters
    ----------
    n_endmembers : int, default=3
        Number of endmembers p (at least 2, at most the bands and the valid pixels).
    variant : {'default', 'paper', 'authors_code'}, default='default'
        Which entry of :data:`VARIANTS` gives the settings.
    alpha : float, default=1.01
        Rényi entropy order α (every variant).
    kernel_width : float or None, default=None
        Gaussian kernel width σ; None in the variant means Silverman's rule.
    batch_size, n_restarts, n_steps : int or None, default=None
        Pixels per training batch, networks trained from different starts, Adam steps (None in the variant:
        ``n_epochs`` epochs).
    n_units : int or None, default=None
        Softmax outputs K per network (at least ``n_endmembers``); None: ``n_endmembers``.
    learning_rate : float or None, default=None
        Adam learning rate.
    hidden_units : sequence of int or None, default=None
        Hidden ReLU layer widths.
    whitening : bool or None, default=None
        The authors' power-iteration whitening of the outputs before the TC.
    variance_weight : float or None, default=None
        Weight of ``Σ -log(std)`` of the softmax outputs (against collapsed outputs).
    purify : float in [0, 1] or None, default=None
        > 0: each endmember the mean of its map's ``purify`` purest pixels, then ``expand`` expansion steps
        (:mod:`engine.extraction.refinement`); 0: NNLS endmembers of the maps.
    expand : int or None, default=None
        Expansion steps after ``purify``.
    preprocess : {'standardise', 'pixel_norm', 'raw'} or None, default=None
        Network input: per-band z-scores, each spectrum divided by its norm then z-scored, or reflectance.
    final_abundances : {'fcls', 'network'} or None, default=None
        FCLS abundances for the endmembers, or the network maps.
    abundance_convention : {'fractions', 'peak_normalised'}, default='fractions'
        See :mod:`engine.abundances.convention`.
    device : str, default='cpu'
        Torch device: 'cpu', 'cuda', 'cuda:N' or 'auto' (CUDA when available).
    random_state : int or None, default=None
        Seed of the pixel sample, the initialisation, the batches and the clustering.
    progress : callable or None, default=None
        ``progress(fraction, message)``, called during the fit; it may raise
        :class:`~deepunmix.engine.core.progress.Cancelled` to stop.
    settings : dict or None, default=None
        Overrides of the variant's other settings by name (commented in :data:`VARIANTS`).

    Attributes
    ----------
    settings_ : dict
        The resolved settings (:meth:`resolved_settings`).
    n_features_in_ : int
        Number of bands L seen by ``fit``.
    endmembers_ : ndarray of shape (L, p)
        Endmembers, in the data's units.
    abundances_ : ndarray of shape (p, H, W), float32
        Abundances as ``final_abundances`` and ``abundance_convention`` say; NaN at invalid pixels.
    network_abundances_ : ndarray of shape (p, H, W), float32
        The network maps (whatever ``final_abundances``).
    reconstruction_error_ : ndarray of shape (H, W)
        Per-pixel RMSE over the bands.
    mean_, scale_ : ndarray of shape (L,)
        Input standardisation.
    kernel_width_, n_iter_ : float, int
        The σ used; training steps per restart.
    loss_curve_, restart_loss_curves_ : ndarray of shape (n_iter_,), (n_iter_, n_restarts)
        TC per step: mean over the restarts, and of every restart.
    restart_errors_, kept_restarts_ : ndarray of shape (n_restarts,), ndarray of int
        Reconstruction error per restart (NaN when every restart is kept); the restarts kept.
    weights_, batch_norm_ : list or None
        Kept networks' weights (None when over 1 GiB) and BatchNorm statistics (None without BatchNorm).
    unit_labels_ : ndarray of shape (n_kept, n_units)
        Map each unit of each kept restart belongs to.
    map_min_, map_max_ : ndarray of shape (p,)
        Min-max scaling of the maps.
    restart_agreement_ : ndarray of shape (p,)
        Median correlation of the kept restarts' maps with each consensus map
        (:func:`engine.abundances.safeguard.restart_agreement`).
    warnings_ : list of str
        What :func:`engine.abundances.safeguard.check_solution` found wrong with the result (empty when nothing).
    """

    VARIANTS = VARIANTS
    _parameter_constraints: dict = {
        "n_endmembers": [N_ENDMEMBERS],
        "random_state": [SEED, None],
        "variant": [VariantChoices(VARIANTS)],
        "settings": [dict, None],
        "alpha": [positive()],
        "kernel_width": [positive(), None],
        "batch_size": [Interval(Integral, 2, None, closed="left"), None],
        "n_restarts": [positive(Integral), None],
        "n_units": [positive(Integral), None],
        "n_steps": [non_negative(Integral), None],
        "n_epochs": [positive(Integral), None],
        "sampling": [Choices(SAMPLING)],
        "learning_rate": [positive(), None],
        "hidden_units": ["array-like", None],
        "batch_norm": ["boolean"],
        "head_gain": [positive()],
        "standardise_outputs": ["boolean"],
        "whitening": ["boolean", None],
        "variance_weight": [non_negative(), None],
        "tc_weight": [non_negative()],
        "keep_fraction": [Interval(Real, 0, 1, closed="right")],
        "consensus": [Choices(CONSENSUS)],
        "rescale": ["boolean"],
        "renormalise": ["boolean"],
        "eig_route": [Choices(ROUTES)],
        "preprocess": [Choices(PREPROCESS), None],
        "purify": [Interval(Real, 0, 1, closed="both"), None],
        "expand": [non_negative(Integral), None],
        "final_abundances": [Choices(FINAL_ABUNDANCES), None],
        "abundance_convention": [Choices(CONVENTIONS)],
        "max_fit_pixels": [non_negative(Integral)],
        "bn_inference": [Choices(BN_INFERENCE)],
        "whitened_maps": ["boolean"],
        "unit_minmax": ["boolean"],
        "drop_last": ["boolean"],
        "block_size": [positive(Integral)],
    }

    def __init__(
        self,
        n_endmembers: int = 3,
        *,
        variant: str = "default",
        alpha: float = 1.01,
        kernel_width: Optional[float] = None,
        batch_size: Optional[int] = None,
        n_restarts: Optional[int] = None,
        n_units: Optional[int] = None,
        n_steps: Optional[int] = None,
        learning_rate: Optional[float] = None,
        hidden_units: Optional[Sequence[int]] = None,
        whitening: Optional[bool] = None,
        variance_weight: Optional[float] = None,
        purify: Optional[float] = None,
        expand: Optional[int] = None,
        preprocess: Optional[str] = None,
        final_abundances: Optional[str] = None,
        abundance_convention: str = "fractions",
        device: str = "cpu",
        random_state: Optional[int] = None,
        progress=None,
        settings: Optional[dict] = None,
    ):
        keep_params(self, locals())

    def _finish_settings(self, settings: dict) -> dict:
        settings["hidden_units"] = tuple(int(h) for h in settings["hidden_units"])
        return settings

    def fit(self, cube: np.ndarray, mask: Optional[np.ndarray] = None) -> "DDICA":
        """Train on (a sample of) the valid pixels of ``cube`` (L, H, W); fills abundances_ and endmembers_."""
        # every parameter is checked before the first fitted attribute is set
        cfg = self.resolved_settings()
        Y, valid = cube_to_pixels(cube, mask)
        L, n = Y.shape
        p = check_n_endmembers(self.n_endmembers, L, n)
        K = int(self.n_units) if self.n_units is not None else p
        if K < p:
            raise ParameterError(f"n_units ({K}) must be at least n_endmembers ({p})")
        rng = np.random.default_rng(self.random_state)
        cap = int(cfg["max_fit_pixels"]) or n
        fit_idx = np.sort(rng.choice(n, cap, replace=False)) if n > cap else np.arange(n)
        resolve_width(cfg["kernel_width"], self._schedule(len(fit_idx), cfg)[0], K)
        resolve_device(self.device)
        Y_fit = Y[:, fit_idx]
        self.settings_ = cfg
        self.n_features_in_ = L
        Z = self._pixel_norm(Y_fit)
        if cfg["preprocess"] == "raw":
            self.mean_, self.scale_ = np.zeros(L), np.ones(L)
        else:
            self.mean_ = Z.mean(1)
            self.scale_ = Z.std(1) + 1e-6 * (Z.std() + 1e-12)

        # units_fit: (T, K, n_fit); units_all: (T, K, n) of every valid pixel, only when the weights are too big to keep
        weights, bn, units_fit, units_all = self._train(self._standardise(Y_fit), K, cfg, Y_fit, Y)
        report(self.progress, 0.9, "DDICA: selecting restarts and clustering")
        keep = self._select_restarts(Y_fit, units_fit, cfg)
        self.weights_ = None if weights is None else [(W[keep], b[keep]) for W, b in weights]
        self.batch_norm_ = None if bn is None else [tuple(a[keep] for a in state) for state in bn]
        kept = self._consensus(units_fit[keep], p, cfg)

        report(self.progress, 0.95, "DDICA: abundances and endmembers")
        A = self._network_abundances(Y) if units_all is None else self._maps_from_units(units_all[keep])
        if cfg["purify"] > 0:
            E, _ = endmembers_from_maps(
                Y[:, fit_idx], A[:, fit_idx], cfg["purify"], cfg["expand"], floor=EXPANSION_FLOOR
            )
        else:
            E = nnls_endmembers(Y[:, fit_idx], A[:, fit_idx])
        self.network_abundances_ = pixels_to_maps(A, valid)
        A, A_data = self._final_abundances(Y, E, A, cfg)
        self.abundances_ = pixels_to_maps(A, valid)
        resid = per_pixel_rmse(Y, self.endmembers_, A_data)
        self.reconstruction_error_ = pixels_to_maps(resid[None], valid)[0]
        self.restart_agreement_ = restart_agreement(kept, self.unit_labels_)
        self.warnings_ = check_solution(
            Y, self.endmembers_, A_data, agreement=self.restart_agreement_, random_state=self.random_state
        )
        report(self.progress, 1.0, "DDICA: done")
        return self

    def _select_restarts(self, Y_fit: np.ndarray, units: np.ndarray, cfg: dict) -> np.ndarray:
        """Restarts kept: every one, or the ``keep_fraction`` with the lowest reconstruction error."""
        T = units.shape[0]
        if float(cfg["keep_fraction"]) < 1:
            errors = np.empty(T)
            for t in range(T):  # a minute on big scenes: say where it is
                errors[t] = nnls_reconstruction_rmse(Y_fit, units[t])
                report(self.progress, 0.9 + 0.04 * (t + 1) / T, f"DDICA: reconstruction error of restart {t + 1}/{T}")
            keep = select_restarts(errors, cfg["keep_fraction"])
        else:
            errors, keep = np.full(T, np.nan), np.arange(T)
        self.restart_errors_ = errors
        self.kept_restarts_ = keep
        return keep

    def _consensus(self, kept: np.ndarray, p: int, cfg: dict) -> np.ndarray:
        """Group the kept restarts' units (T, K, n_fit) into p maps; returns the units as clustered."""
        K = kept.shape[1]
        self.unit_min_ = self.unit_max_ = None
        if cfg["unit_minmax"]:
            self.unit_min_, self.unit_max_ = kept.min(-1), kept.max(-1)
            kept = self._scaled_units(kept)
        if cfg["consensus"] == "matched" and K == p:
            self.unit_labels_ = matched_clusters(kept, self.random_state)
        else:
            flat = kept.reshape(len(kept) * K, -1)
            labels, centres = cluster_units(flat, p, self.random_state)
            if cfg["consensus"] == "kmeans_nearest":
                labels = nearest_units(flat, labels, centres)
            self.unit_labels_ = labels.reshape(len(kept), K)
        self.map_min_ = np.zeros(p)
        self.map_max_ = np.ones(p)
        if cfg["rescale"]:
            raw = self._cluster_means(kept)
            self.map_min_, self.map_max_ = raw.min(1), raw.max(1)
        return kept

    def _final_abundances(self, Y: np.ndarray, E: np.ndarray, A: np.ndarray, cfg: dict) -> tuple:
        """Sets ``endmembers_``; returns the abundances of the pixels Y and those of the data's units."""
        if self.abundance_convention == "peak_normalised":
            self.endmembers_ = peak_normalise(E)
            A, scale = peak_normalised_abundances(Y, self.endmembers_)
            return A, A * scale
        self.endmembers_ = E
        if cfg["final_abundances"] == "fcls":
            A = fcls(Y, E, progress=sub_progress(self.progress, 0.96, 1.0))
        return A, A

    def _schedule(self, n_fit: int, cfg: dict) -> tuple:
        """(batch size, number of steps) for the resolved settings."""
        batch = int(min(cfg["batch_size"], n_fit))
        if cfg["n_steps"] is not None:
            n_steps = int(cfg["n_steps"])
        else:
            n_steps = int(cfg["n_epochs"] or 1) * self._batches_per_epoch(n_fit, batch, cfg["drop_last"])
        if n_steps < 0:
            raise ParameterError("n_steps must be at least 0")
        return batch, n_steps

    @staticmethod
    def _batches_per_epoch(n_fit: int, batch: int, drop_last: bool = False) -> int:
        full, rest = divmod(n_fit, batch)
        return full + (1 if rest >= 2 and not drop_last else 0)  # a last batch of one pixel has no Gram matrix

    def _train(self, X_np: np.ndarray, K: int, cfg: dict, Y_fit: np.ndarray, Y_all: np.ndarray):
        """Train all restarts (in groups that fit in memory); returns (weights or None, batch norm or None, unit maps
        (T, K, n_fit) of the fit pixels, unit maps (T, K, n) of every valid pixel when the weights are not kept)."""
        torch = import_torch()
        device = resolve_device(self.device)
        T = int(cfg["n_restarts"])
        n_fit = X_np.shape[0]
        batch, n_steps = self._schedule(n_fit, cfg)
        sigma = resolve_width(cfg["kernel_width"], batch, K)
        self.kernel_width_ = sigma
        self.n_iter_ = n_steps
        sizes = [X_np.shape[1], *cfg["hidden_units"], K]
        n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        chunk = restarts_per_group(restart_bytes(X_np.shape[1], batch, K, cfg["hidden_units"]), T)
        keep_weights = T * n_params * 4 <= _WEIGHT_BUDGET_BYTES
        every_pixel_fitted = Y_all.shape[1] == Y_fit.shape[1]  # fit_idx is then every pixel, in order
        X = torch.as_tensor(X_np, device=device)
        gen = seeded_generator(self.random_state, device)
        curves, weights, bns, units, units_all = [], [], [], [], []
        report(self.progress, 0.0, "DDICA: training")
        for first in range(0, T, chunk):
            t_chunk = min(chunk, T - first)
            params = network.init_params(sizes, t_chunk, gen, device, head_gain=float(cfg["head_gain"]))
            bn = network.init_batch_norm(sizes, t_chunk, device) if cfg["batch_norm"] else None
            curves.append(self._train_chunk(X, params, bn, batch, n_steps, sigma, cfg, gen, first, T))
            w = network.to_numpy(params)
            b = network.to_numpy(bn) if bn is not None else None
            if device.type == "cuda" and not self._authors_readout(cfg):
                maps = partial(self._unit_maps_on_device, params, bn)
            else:
                maps = partial(self._unit_maps, w, bn=b)
            units.append(maps(Y_fit))
            if keep_weights:
                weights.append(w)
                bns.append(b)
            else:
                units_all.append(units[-1] if every_pixel_fitted else maps(Y_all))
        curve = np.concatenate(curves, axis=1) if curves else np.empty((n_steps, 0))
        self.loss_curve_ = curve.mean(1) if n_steps else np.empty(0)
        self.restart_loss_curves_ = curve
        if not keep_weights:
            return None, None, np.concatenate(units, axis=0), np.concatenate(units_all, axis=0)
        B = None if bns[0] is None else _stack_groups(bns)
        return _stack_groups(weights), B, np.concatenate(units, axis=0), None

    def _train_chunk(self, X, params, bn, batch, n_steps, sigma, cfg, gen, first, T) -> np.ndarray:
        """Adam on the TC loss for one group of restarts; returns its TC curve (n_steps, t_chunk)."""
        torch = import_torch()
        t_chunk = params[0][0].shape[0]
        curve = torch.zeros((n_steps, t_chunk), device=X.device)  # filled on the device: no host sync per step
        if n_steps == 0:
            return curve.cpu().numpy()
        opt = torch.optim.Adam(network.parameters(params) + network.batch_norm_parameters(bn), lr=cfg["learning_rate"])
        every = max(1, n_steps // 50)
        draw = self._batches(X.shape[0], t_chunk, batch, cfg, gen, X.device)
        for step in range(n_steps):
            s = torch.softmax(network.forward(params, X[draw(step)], bn=bn), dim=-1)
            loss = self._loss(s, sigma, cfg, curve, step)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if (step + 1) % every == 0:
                done = (first + t_chunk * (step + 1) / n_steps) / T
                report(
                    self.progress,
                    0.9 * done,
                    f"DDICA step {step + 1}/{n_steps}, restarts {first + 1}-{first + t_chunk} of {T}",
                )
        return curve.cpu().numpy()

    def _batches(self, n_fit: int, t_chunk: int, batch: int, cfg: dict, gen, device):
        """step -> (t_chunk, batch) pixel indices: drawn with replacement, or shuffled epochs (a fresh shuffle per
        restart and epoch)."""
        torch = import_torch()
        if cfg["sampling"] != "epochs":
            return lambda step: torch.randint(n_fit, (t_chunk, batch), generator=gen, device=device)
        per_epoch = self._batches_per_epoch(n_fit, batch, cfg["drop_last"])
        order = []

        def draw(step: int):
            k = step % per_epoch
            if k == 0:
                order[:] = [torch.argsort(torch.rand(t_chunk, n_fit, generator=gen, device=device), dim=1)]
            return order[0][:, k * batch : (k + 1) * batch]

        return draw

    def _loss(self, s, sigma: float, cfg: dict, curve, step: int):
        """The training loss of softmax outputs ``s`` (T, N, K); records each restart's TC in ``curve[step]``."""
        torch = import_torch()
        z = network.power_whiten(s) if cfg["whitening"] else s
        if cfg["standardise_outputs"]:
            z = _standardise_over_batch(z)
        loss = 0.0
        if cfg["tc_weight"]:
            tc = total_correlation(z, sigma, self.alpha, cfg["eig_route"])
            loss = float(cfg["tc_weight"]) * tc.sum()
            curve[step] = tc.detach()
        if cfg["variance_weight"]:
            loss = loss - cfg["variance_weight"] * torch.log(s.std(-2) + 1e-3).sum()
        if not torch.is_tensor(loss):
            raise ParameterError("tc_weight and variance_weight are both 0: nothing to train")
        return loss

    def _pixel_norm(self, Y: np.ndarray) -> np.ndarray:
        """Each spectrum divided by its Euclidean norm when ``preprocess == 'pixel_norm'`` (brightness removed)."""
        if self.settings_["preprocess"] == "pixel_norm":
            return Y / np.maximum(np.linalg.norm(Y, axis=0, keepdims=True), 1e-12)
        return Y

    def _standardise(self, Y: np.ndarray) -> np.ndarray:
        """Network input: (optionally brightness-normalised) pixels, standardised per band, (n, L) float32."""
        return ((self._pixel_norm(Y).T - self.mean_) / self.scale_).astype(np.float32)

    @staticmethod
    def _authors_readout(cfg: dict) -> bool:
        """Maps that depend on their evaluation batch (the authors' code): BatchNorm batch statistics or whitening."""
        return cfg["bn_inference"] == "batch" or bool(cfg["whitened_maps"] and cfg["whitening"])

    def _unit_maps(self, weights, Y: np.ndarray, bn=None) -> np.ndarray:
        """Softmax outputs of every restart: (T, K, n)."""
        cfg = self.settings_
        if self._authors_readout(cfg):
            return self._unit_maps_in_batches(weights, Y, bn, cfg)
        block = self.settings_["block_size"]
        out = [
            network.softmax_numpy(network.forward_numpy(weights, self._standardise(Y[:, s : s + block]), bn))
            for s in range(0, Y.shape[1], block)
        ]
        return np.concatenate(out, axis=1).transpose(0, 2, 1)

    def _unit_maps_in_batches(self, weights, Y: np.ndarray, bn, cfg: dict) -> np.ndarray:
        """The authors' readout: pixels in evaluation batches of about ``batch_size`` (every k-th pixel), each through
        the network with that batch's BatchNorm statistics (or the running ones), then softmax (then whitened)."""
        n = Y.shape[1]
        n_batches = max(1, n // int(cfg["batch_size"]))
        X = self._standardise(Y)
        out = None
        for k in range(n_batches):
            idx = np.arange(k, n, n_batches)
            h = network.forward_numpy(weights, X[idx], bn, batch_stats=cfg["bn_inference"] == "batch")
            s = network.softmax_numpy(h)
            if cfg["whitened_maps"] and cfg["whitening"]:
                s = network.whiten_numpy(s)
            if out is None:
                out = np.empty((s.shape[0], n, s.shape[2]), dtype=np.float32)
            out[:, idx] = s
        return out.transpose(0, 2, 1)

    def _scaled_units(self, units: np.ndarray) -> np.ndarray:
        """Each kept restart's unit maps min-max scaled by its fitted pixels' range (``unit_minmax``), else as given."""
        if getattr(self, "unit_min_", None) is None:
            return units
        span = np.where(self.unit_max_ > self.unit_min_, self.unit_max_ - self.unit_min_, 1.0)
        return (units - self.unit_min_[..., None]) / span[..., None]

    def _unit_maps_on_device(self, params, bn, Y: np.ndarray) -> np.ndarray:
        """:meth:`_unit_maps` computed with the trained tensors on their (CUDA) device (wide networks: faster)."""
        torch = import_torch()
        device = params[0][0].device
        T = params[0][0].shape[0]
        widest = max(int(W.shape[-1]) for W, _ in params)
        block = int(max(256, min(self.settings_["block_size"], (1 << 28) // (T * widest))))  # ~1 GiB of activations
        out = []
        with torch.no_grad():
            for s in range(0, Y.shape[1], block):
                x = torch.as_tensor(self._standardise(Y[:, s : s + block]), device=device)
                out.append(torch.softmax(network.forward(params, x, bn=bn, training=False), dim=-1).cpu())
        return torch.cat(out, dim=1).numpy().transpose(0, 2, 1)

    def _cluster_means(self, units: np.ndarray) -> np.ndarray:
        flat = units.reshape(-1, units.shape[-1])
        labels = self.unit_labels_.ravel()
        return np.stack([flat[labels == c].mean(0) for c in range(int(self.n_endmembers))])

    def predict_abundances(self, Y: np.ndarray) -> np.ndarray:
        """Abundances (p, n) for pixels Y (L, n), by the same route as ``fit`` (FCLS, network or peak-normalised shares)."""
        check_is_fitted(self, ["unit_labels_", "endmembers_"], msg=NOT_FITTED)
        Y = np.asarray(Y, dtype=np.float64)
        if Y.shape[0] != self.n_features_in_:
            raise ParameterError(f"expected {self.n_features_in_} bands, got {Y.shape[0]}")
        if self.abundance_convention == "peak_normalised":
            return peak_normalised_abundances(Y, self.endmembers_)[0]
        if self.settings_["final_abundances"] == "fcls":
            return fcls(Y, self.endmembers_)
        return self._network_abundances(Y)

    def _network_abundances(self, Y: np.ndarray) -> np.ndarray:
        """Kept restarts -> unit maps -> cluster means -> min-max (-> sum to one): (p, n)."""
        if self.weights_ is None:
            raise RuntimeError(
                "the fitted networks were too large to keep (over 1 GiB): only the fitted pixels have "
                "network maps (abundances_); fit on every pixel, or use fewer restarts or narrower layers"
            )
        return self._maps_from_units(self._unit_maps(self.weights_, np.asarray(Y, dtype=np.float64), self.batch_norm_))

    def _maps_from_units(self, units: np.ndarray) -> np.ndarray:
        """Kept restarts' unit maps (T, K, n) -> (per-unit min-max ->) cluster means -> min-max -> sum to one (or
        clipped to [0, 1])."""
        A = self._cluster_means(self._scaled_units(units))
        span = np.where(self.map_max_ > self.map_min_, self.map_max_ - self.map_min_, 1.0)
        A = (A - self.map_min_[:, None]) / span[:, None]
        if self.settings_["renormalise"]:
            return combine_units(A, np.arange(len(A)), len(A))
        return np.clip(A, 0.0, 1.0)

    def transform(self, cube: np.ndarray, mask: Optional[np.ndarray] = None) -> np.ndarray:
        """Abundance maps (p, rows, cols) float32 for a cube, NaN at invalid pixels."""
        check_is_fitted(self, ["unit_labels_", "endmembers_"], msg=NOT_FITTED)
        cube = check_cube(cube)
        valid = valid_mask(cube, mask)
        out = np.full((int(self.n_endmembers),) + valid.shape, np.nan, dtype=np.float32)
        if valid.any():
            out[:, valid] = self.predict_abundances(cube[:, valid].astype(np.float64))
        return out


def _standardise_over_batch(s, eps: float = 1e-6):
    """Zero-mean, unit-variance outputs over the batch axis (-2): removes the constant-output optimum."""
    mu = s.mean(-2, keepdim=True)
    sd = s.std(-2, keepdim=True)
    return (s - mu) / (sd + eps)


def _stack_groups(groups: list) -> list:
    """Per group of restarts a list (per layer) of array tuples -> one list, each array concatenated over groups."""
    return [
        tuple(np.concatenate([g[i][j] for g in groups]) for j in range(len(groups[0][i])))
        for i in range(len(groups[0]))
    ]
