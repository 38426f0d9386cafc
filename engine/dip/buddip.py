"""BUDDIP: blind unmixing with a double deep image prior (Zhou & Rodrigues, ICASSP 2022)."""

from __future__ import annotations

import time
from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator, clone

from ..core.base import pixels_to_maps
from ..core.errors import ParameterError
from ..core.params import N_ENDMEMBERS, SEED, Choices, Integral, Interval, Real, non_negative, positive, validate_params
from ..core.progress import ProgressCallback, report
from ..core.torch_support import import_torch, resolve_device
from ..io.memory import MEMORY_MB
from ..reporting.metrics import per_pixel_rmse
from . import common, tiling
from .guidance import EXTRACTORS, check_endmembers, extract_endmembers, fcls_abundances, refine_guidance
from .networks import build_adip, build_edip, build_unet_adip, build_unet_edip

_FLOOR = 1e-2  # abundances below this are lifted before the log, so the prior can still move them
_E_HEADROOM = 2.0  # endmembers may reach twice the image's largest value (sigmoid output range)
_E_FLOOR = 1e-4  # keeps logit(E~ / headroom) finite for zero-valued bands
_FCLS_CLIP = 1e-6  # the authors clip their FCLS guidance to [1e-6, 1 - 1e-6]
FINAL_ABUNDANCES = ("fcls", "adip")
ARCHITECTURES = ("residual", "unet")
NETWORK_INPUTS = ("guidance", "noise")
VARIANTS = ("default", "paper", "authors_code")
UNET_WIDTHS = (256, 512, 1024)

# What each variant sets; any parameter given explicitly (not None) overrides its entry.
SETTINGS = {
    # The paper (Sec. 3 and 4.1): noise inputs, sigmoid EDIP / softmax ADIP, Adam 1e-4, the synthetic
    # experiment's weights and epochs, SiVM (+ the authors' SVD denoising) + FCLS guidance, outputs
    # of the networks. The paper gives no layer widths: those of the authors' code are used.
    "paper": dict(
        architecture="unet",
        network_input="noise",
        alpha1=0.1,
        alpha2=0.01,
        alpha3=1.0,
        n_iter=4500,
        learning_rate=1e-4,
        ema=0.0,
        purify=0.0,
        expand=0,
        final_abundances="adip",
        denoise=True,
        min_volume=0.0,
    ),
    # The authors' repository where it differs from the paper: guidance as the networks' input,
    # weights 1/1/1, lr 1e-3, 24 000 epochs. Their ground-truth choice of the output is not copied.
    "authors_code": dict(
        architecture="unet",
        network_input="guidance",
        alpha1=1.0,
        alpha2=1.0,
        alpha3=1.0,
        n_iter=24000,
        learning_rate=1e-3,
        ema=0.0,
        purify=0.0,
        expand=0,
        final_abundances="adip",
        denoise=True,
        min_volume=0.0,
    ),
    # This project's light CPU setting: refined guidance, small residual networks, moving average.
    "default": dict(
        architecture="residual",
        network_input="guidance",
        alpha1=1.0,
        alpha2=1.0,
        alpha3=1.0,
        n_iter=200,
        learning_rate=3e-3,
        ema=0.99,
        purify=0.05,
        expand=3,
        final_abundances="fcls",
        denoise=False,
        min_volume=0.0,
    ),
}
# The volume term's regulariser, relative to the guidance's mean squared endmember norm (as in MinVolNMF).
_VOLUME_DELTA = 0.1
# The paper's Jasper Ridge experiment (Sec. 4.2) changes the weights and epochs of the paper variant.
PAPER_JASPER = dict(alpha1=1.0, alpha2=1.0, alpha3=1.0, n_iter=24000)


class BUDDIP(BaseEstimator):
    """Blind unmixing with two deep image priors trained end to end.

    An endmember prior EDIP (sigmoid output, so E >= 0) and an abundance prior ADIP (softmax
    over endmembers, so A >= 0 and sums to one) are trained with Adam on
    ``alpha1 * L_EDIP + alpha2 * L_ADIP + alpha3 * L_BU`` where
    ``L_EDIP = 1/2 |Y - f_E A~|^2``, ``L_ADIP = 1/2 |Y - E~ f_A|^2``, ``L_BU = 1/2 |Y - f_E f_A|^2``
    (means over valid pixels and bands: the paper's sums divided by a constant). ``E~`` comes from
    the extractor ('sivm', 'vca', 'nfindr') or ``init_endmembers``; ``A~`` from exact FCLS.

    ``variant`` picks a whole configuration (:data:`SETTINGS`); every parameter left at None
    takes the variant's value, any value given overrides it:

    * ``'paper'``: the paper. EDIP and ADIP fed with fixed uniform noise U(0, 0.1) of the output's
      size, the authors' U-Net widths (256/512/1024, BatchNorm, LeakyReLU; the paper gives none),
      weights 0.1/0.01/1, Adam 1e-4, 4500 iterations (its synthetic experiment; for its Jasper
      Ridge experiment pass :data:`PAPER_JASPER`: 1/1/1, 24 000), SiVM on the rank-p SVD
      denoised data + FCLS as guidance, output = the networks' last output (no averaging).
    * ``'authors_code'``: the authors' repository where it differs: the guidance is the networks'
      input, weights 1/1/1, Adam 1e-3, 24 000 iterations. Their code keeps the output with the
      best *ground-truth* score every 100 epochs; that oracle is not copied (last output).
    * ``'default'``: this project's light setting for a CPU: refined guidance (below), small
      residual networks whose zero-initialised last layer is added to ``logit(E~)`` / ``log A~``
      (so they start at the guidance), Adam 3e-3, 200 iterations, a moving average of the
      outputs, FCLS abundances for the learned endmembers. Measured
      (benchmarks/results/buddip_gain.md): its gain over SiVM + FCLS comes from the refinement; on
      Samson and Jasper Ridge its training leaves the refined guidance slightly worse, on synthetic
      scenes at 20-25 dB it improves it by more than 5 % aRMSE. No other schedule tried
      (benchmarks/results/buddip_schedules.md: loss weights, learning rate, one network alone,
      other guidances, a minimum-volume term) improves on its own guidance on both the real and
      the synthetic scenes.

    Guidance refinement (not in the paper; label-free): each extracted endmember is replaced by
    the mean of the ``purify`` fraction of pixels with the highest FCLS abundance of it, then
    ``expand`` expansion steps move each endmember until its near-pure pixels (FCLS abundance
    >= 0.8) are explained without mean residual. Neither is applied to ``init_endmembers``.
    ``denoise``: SiVM on the rank-p SVD denoised data (UnDIP's and the authors' preprocessing).

    No ground truth is used. ``ema`` > 0 returns a bias-corrected exponential moving average of
    the outputs of the trained networks; 0 the last output. ``final_abundances='fcls'`` returns
    exact FCLS abundances for the learned endmembers, ``'adip'`` the ADIP output (kept in
    ``adip_abundances_`` either way).

    Size: ``max_pixels='auto'`` sets the pixels one network may hold from the device's memory (CUDA:
    free memory; CPU: half the available RAM, capped by ``memory_mb``); an int fixes it, None
    removes it. Larger images are cut into tiles overlapping by ``tile_overlap`` pixels (``tiles``;
    False refuses them instead): the guidance is extracted once from the whole image, each tile's
    networks are trained on the tile, the endmembers are the pixel-weighted mean of the tiles'
    and the abundance maps are blended with linear ramps across the overlaps (FCLS output: recomputed
    per pixel with the mean endmembers). Invalid pixels (mask False or NaN) are filled for the
    networks and left out of every loss; their abundances are NaN.

    Data are cubes, bands first: ``fit(cube, mask=None)`` takes (L, H, W) (bands, rows, cols) and
    an optional (H, W) validity mask.

    Parameters
    ----------
    n_endmembers : int
        Number of endmembers p.
    extractor : {'sivm', 'vca', 'nfindr'}, default='sivm'
        Endmember extractor of the guidance (unless ``init_endmembers`` is given).
    alpha1, alpha2, alpha3 : float or None, default=None
        Weights of L_EDIP, L_ADIP and L_BU. None: the variant's (:data:`SETTINGS`).
    n_iter : int or None, default=None
        Adam iterations. None: the variant's (:data:`SETTINGS`).
    learning_rate : float or None, default=None
        Adam learning rate. None: the variant's (:data:`SETTINGS`).
    ema : float in [0, 1) or None, default=None
        Decay of the moving average of the outputs; 0: the last output. None: the variant's (:data:`SETTINGS`).
    device : str, default='cpu'
        Torch device: 'cpu', 'cuda', 'cuda:N' or 'auto' (CUDA when available).
    random_state : int or None, default=None
        Seed of the extractor and of the networks' initialisation and inputs.
    max_pixels : 'auto', int or None, default='auto'
        Most pixels one network holds (see *Size* above).
    progress : callable or None, default=None
        ``progress(fraction, message)``, called during the fit; it may raise
        :class:`~deepunmix.engine.core.progress.Cancelled` to stop.
    init_endmembers : array-like of shape (L, p) or None, default=None
        Guidance endmembers instead of extracted ones (not refined).
    purify : float in [0, 1) or None, default=None
        Share of purest pixels in the guidance refinement; 0: none. None: the variant's (:data:`SETTINGS`).
    expand : int or None, default=None
        Expansion steps of the guidance refinement. None: the variant's (:data:`SETTINGS`).
    final_abundances : {'fcls', 'adip'} or None, default=None
        FCLS abundances for the learned endmembers, or the ADIP output. None: the variant's (:data:`SETTINGS`).
    edip_hidden, adip_hidden : int, default=64, 32
        Widths of the residual networks (``architecture='residual'``).
    snapshot_every : int or None, default=None
        Record ``snapshots_`` every this many iterations (untiled fits); None: never.
    variant : {'default', 'paper', 'authors_code'}, default='default'
        Which entry of :data:`SETTINGS` fills every parameter left at None.
    architecture : {'residual', 'unet'} or None, default=None
        The networks. None: the variant's (:data:`SETTINGS`).
    network_input : {'guidance', 'noise'} or None, default=None
        The networks' input ('residual' needs 'guidance'). None: the variant's (:data:`SETTINGS`).
    denoise : bool or None, default=None
        SiVM on the rank-p SVD denoised data. None: the variant's (:data:`SETTINGS`).
    min_volume : float >= 0 or None, default=None
        Weight of a minimum-volume term ``lam * logdet(E^T E + delta I)`` added to the loss (not in
        the paper; 0 in every variant). ``lam = min_volume * L0 / |logdet0|`` with ``L0`` the
        guidance's reconstruction loss and ``logdet0`` its log-determinant, the scaling rule of
        :class:`~deepunmix.engine.extraction.minvol_nmf.MinVolNMF`. Tried as a default and not taken
        (``benchmarks/results/buddip_schedules.md``). None: the variant's (:data:`SETTINGS`).
    unet_widths : sequence of int, default=UNET_WIDTHS
        Channel widths of the U-Nets (``architecture='unet'``).
    tiles : bool, default=True
        Cut images larger than ``max_pixels`` into tiles; False refuses them.
    tile_overlap : int, default=16
        Overlap of neighbouring tiles, in pixels.
    memory_mb : float or None, default=None
        RAM budget (MB) capping the CPU memory that ``max_pixels='auto'`` assumes.

    Attributes
    ----------
    endmembers_ : ndarray of shape (L, p)
        Learned endmembers, in the data's units.
    abundances_ : ndarray of shape (p, H, W), float32
        Abundances as ``final_abundances`` says; NaN at invalid pixels.
    adip_abundances_ : ndarray of shape (p, H, W), float32
        The ADIP output (whatever ``final_abundances``).
    init_endmembers_ : ndarray of shape (L, p)
        The guidance endmembers.
    init_abundances_ : ndarray of shape (p, H, W)
        The guidance abundances (the iteration-0 output of the default variant).
    extractor_indices_ : ndarray of shape (p, 2) or None
        (row, col) of the extracted pixels; None for ``init_endmembers``.
    loss_curve_ : list of float
        Total loss per iteration (first tile when tiled).
    n_iter_ : int
        Iterations run.
    reconstruction_error_ : ndarray of shape (H, W)
        Per-pixel RMSE over the bands.
    settings_ : dict
        The resolved configuration (:meth:`resolved_settings`).
    tiles_ : list of (slice, slice)
        The windows trained.
    snapshots_ : list of tuple
        (iteration, seconds, endmembers, abundances) every ``snapshot_every`` iterations,
        untiled fits only.
    n_features_in_ : int
        Number of bands L seen by ``fit``.
    """

    _parameter_constraints: dict = {
        "n_endmembers": [N_ENDMEMBERS],
        "random_state": [SEED, None],
        "extractor": [Choices(EXTRACTORS)],
        "alpha1": [non_negative(), None],
        "alpha2": [non_negative(), None],
        "alpha3": [non_negative(), None],
        "n_iter": [non_negative(Integral), None],
        "learning_rate": [non_negative(), None],
        "ema": [Interval(Real, 0, 1, closed="left"), None],
        "purify": [Interval(Real, 0, 1, closed="left"), None],
        "expand": [non_negative(Integral), None],
        "final_abundances": [Choices(FINAL_ABUNDANCES), None],
        "edip_hidden": [positive(Integral)],
        "adip_hidden": [positive(Integral)],
        "variant": [Choices(VARIANTS)],
        "architecture": [Choices(ARCHITECTURES), None],
        "network_input": [Choices(NETWORK_INPUTS), None],
        "denoise": ["boolean", None],
        "min_volume": [non_negative(), None],
        "tiles": ["boolean"],
        "tile_overlap": [non_negative(Integral)],
        "memory_mb": [MEMORY_MB, None],
    }

    def __init__(
        self,
        n_endmembers: int,
        *,
        extractor: str = "sivm",
        alpha1: Optional[float] = None,
        alpha2: Optional[float] = None,
        alpha3: Optional[float] = None,
        n_iter: Optional[int] = None,
        learning_rate: Optional[float] = None,
        ema: Optional[float] = None,
        device: str = "cpu",
        random_state: Optional[int] = None,
        max_pixels="auto",
        progress: ProgressCallback = None,
        init_endmembers: Optional[np.ndarray] = None,
        purify: Optional[float] = None,
        expand: Optional[int] = None,
        final_abundances: Optional[str] = None,
        edip_hidden: int = 64,
        adip_hidden: int = 32,
        snapshot_every: Optional[int] = None,
        variant: str = "default",
        architecture: Optional[str] = None,
        network_input: Optional[str] = None,
        denoise: Optional[bool] = None,
        min_volume: Optional[float] = None,
        unet_widths=UNET_WIDTHS,
        tiles: bool = True,
        tile_overlap: int = 16,
        memory_mb: Optional[float] = None,
    ):
        self.n_endmembers = n_endmembers
        self.extractor = extractor
        self.alpha1 = alpha1
        self.alpha2 = alpha2
        self.alpha3 = alpha3
        self.n_iter = n_iter
        self.learning_rate = learning_rate
        self.ema = ema
        self.device = device
        self.random_state = random_state
        self.max_pixels = max_pixels
        self.progress = progress
        self.init_endmembers = init_endmembers
        self.purify = purify
        self.expand = expand
        self.final_abundances = final_abundances
        self.edip_hidden = edip_hidden
        self.adip_hidden = adip_hidden
        self.snapshot_every = snapshot_every
        self.variant = variant
        self.architecture = architecture
        self.network_input = network_input
        self.denoise = denoise
        self.min_volume = min_volume
        self.unet_widths = unet_widths
        self.tiles = tiles
        self.tile_overlap = tile_overlap
        self.memory_mb = memory_mb

    def resolved_settings(self) -> dict:
        """The variant's settings with every explicitly given parameter in place of its entry."""
        validate_params(self)
        s = dict(SETTINGS[self.variant])
        for key in s:
            value = getattr(self, key)
            if value is not None:
                s[key] = value
        s["n_iter"], s["expand"] = int(s["n_iter"]), int(s["expand"] or 0)
        s["purify"] = float(s["purify"] or 0)
        for key in ("alpha1", "alpha2", "alpha3", "learning_rate", "ema", "min_volume"):
            s[key] = float(s[key])
        if s["architecture"] == "residual" and s["network_input"] != "guidance":
            raise ParameterError(
                "the residual networks add their correction to the guidance: use network_input="
                "'guidance', or architecture='unet' for noise inputs"
            )
        return s

    def fit(self, cube: np.ndarray, mask: Optional[np.ndarray] = None) -> "BUDDIP":
        """Unmix ``cube`` (bands, rows, cols); ``mask`` (rows, cols) True = valid."""
        p = int(self.n_endmembers)
        s = self.resolved_settings()
        prep = common.prepare(cube, mask, None, "BUDDIP", p)
        device = resolve_device(self.device)  # fail fast (e.g. CUDA asked but absent) before the extraction
        L = prep.Y.shape[0]
        limit = tiling.pixel_limit(self.max_pixels, device, self.bytes_per_pixel(L), self.memory_mb)
        common.check_size(prep.shape, limit, "BUDDIP", bool(self.tiles))
        report(self.progress, 0.0, "BUDDIP: initial endmembers and FCLS abundances")
        E0, A0, cols = self.guidance(prep.Y)
        idx = np.argwhere(prep.valid)[cols] if cols is not None and len(cols) == p else None
        self.settings_ = s
        self.n_features_in_ = L
        self.init_endmembers_ = E0
        self.init_abundances_ = pixels_to_maps(A0, prep.valid)
        self.extractor_indices_ = idx

        windows, overlap = tiling.tile_windows(prep.shape, limit or prep.valid.size, int(self.tile_overlap))
        self.tiles_ = windows
        E, A = self._fit_tiles(prep, E0, A0, windows, overlap, device)
        self.endmembers_ = E * prep.scale
        A_valid = A.reshape(p, -1)[:, prep.valid.ravel()]
        self.adip_abundances_ = pixels_to_maps(A_valid, prep.valid)
        if s["final_abundances"] == "fcls":
            report(self.progress, 1.0, "BUDDIP: FCLS abundances with the learned endmembers")
            A_valid = fcls_abundances(prep.Y, self.endmembers_)
        self.abundances_ = pixels_to_maps(A_valid, prep.valid)
        self.reconstruction_error_ = pixels_to_maps(
            per_pixel_rmse(prep.Y, self.endmembers_, A_valid.astype(np.float64))[None], prep.valid
        )[0]
        self.snapshots_ = [
            (it, sec, E_s, pixels_to_maps(A_s.reshape(p, -1)[:, prep.valid.ravel()], prep.valid))
            for it, sec, E_s, A_s in self.snapshots_
        ]
        self.n_iter_ = len(self.loss_curve_)
        report(self.progress, 1.0, "BUDDIP: done")
        return self

    def bytes_per_pixel(self, n_bands: int) -> float:
        """Memory one pixel of the network input costs during training (sets the pixel limit and tile size)."""
        p = int(self.n_endmembers)
        if self.resolved_settings()["architecture"] == "unet":
            return common.unet_bytes_per_pixel(n_bands, p, self.unet_widths)
        return common.residual_bytes_per_pixel(n_bands, p, int(self.adip_hidden))

    def tile_copy(self, E0: np.ndarray) -> "BUDDIP":
        """An unfitted copy for one tile of a raster read from disk: it starts from the (already refined) first
        guess ``E0`` and returns the abundance network's maps, which the tiles blend."""
        return clone(self).set_params(init_endmembers=E0, final_abundances="adip")

    def abundance_source(self) -> str:
        """'fcls' when the abundances are FCLS for the learned endmembers (the default variant), else 'network'."""
        return "fcls" if self.resolved_settings()["final_abundances"] == "fcls" else "network"

    def guidance(self, Y: np.ndarray):
        """The first guess for pixels Y (L, n): endmembers (L, p), their FCLS abundances (p, n) and the
        columns of Y the extractor chose (None for ``init_endmembers`` or a refined guess)."""
        s = self.resolved_settings()
        p = int(self.n_endmembers)
        if self.init_endmembers is not None:
            E0 = check_endmembers(self.init_endmembers, Y.shape[0], p)
            return E0, fcls_abundances(Y, E0), None
        E0, cols = extract_endmembers(Y, p, self.extractor, self.random_state, denoise=bool(s["denoise"]))
        E0, A0 = refine_guidance(Y, E0, s["purify"], s["expand"])
        return E0, A0, cols

    def _fit_tiles(self, prep, E0, A0, windows, overlap, device):
        """Train on each window; return endmembers (L, p) in normalised units and maps (p, H, W)."""
        p = E0.shape[1]
        index = common.column_index(prep.valid)
        blend = tiling.Blender(p, prep.shape, overlap)
        E_sum, n_sum = np.zeros_like(E0, dtype=np.float64), 0
        self.loss_curve_, self.snapshots_ = None, []
        for k, win in enumerate(windows):
            sub = common.window(prep, win)
            n = int(sub.valid.sum())
            if n == 0:
                continue
            lo, hi = k / len(windows), (k + 1) / len(windows)
            E, A, curve = self._train(
                sub, E0, A0[:, index[win][sub.valid]], device, lo, hi, snapshots=len(windows) == 1
            )
            if self.loss_curve_ is None:
                self.loss_curve_ = curve
            E_sum += n * E
            n_sum += n
            blend.add(win, A.reshape(p, *sub.shape))
        return E_sum / n_sum, blend.result().astype(np.float32)

    def _train(self, prep: common.PreparedData, E0: np.ndarray, A0: np.ndarray, device, lo=0.0, hi=1.0, snapshots=True):
        torch = import_torch()
        s = self.settings_
        p = E0.shape[1]
        H, W = prep.shape
        n_iter = s["n_iter"]
        a1, a2, a3 = s["alpha1"], s["alpha2"], s["alpha3"]
        decay = s["ema"]
        unet = s["architecture"] == "unet"

        Y, w = common.full_pixel_tensor(torch, prep, device)
        # guidance in normalised units; invalid pixels get the mean abundance
        E_t = np.clip(E0 / prep.scale, 0.0, None)
        A_full = np.empty((p, H * W), dtype=np.float64)
        flat_valid = prep.valid.ravel()
        A_full[:, flat_valid] = A0
        A_full[:, ~flat_valid] = A0.mean(axis=1, keepdims=True)
        if unet:
            A_full = np.clip(A_full, _FCLS_CLIP, 1.0 - _FCLS_CLIP)
        E_tilde = torch.from_numpy(E_t.astype(np.float32)).to(device)
        A_tilde = torch.from_numpy(A_full.astype(np.float32)).to(device)

        with common.seeded(torch, self.random_state, device):
            if unet:
                widths = tuple(int(v) for v in self.unet_widths)
                edip = build_unet_edip(E_t.shape[0], widths=widths).to(device)
                adip = build_unet_adip(p, widths=widths).to(device)
                if s["network_input"] == "noise":  # the paper: fixed random inputs of the outputs' sizes
                    e_in = (0.1 * torch.rand(E_t.shape)).to(device)
                    a_in = (0.1 * torch.rand(p, H, W)).to(device)
                else:  # the authors' code: the guidance itself
                    e_in, a_in = E_tilde, A_tilde.reshape(p, H, W)
                e_fn, a_fn = (lambda: edip(e_in)), (lambda: adip(a_in))
            else:
                edip = build_edip(p, hidden=int(self.edip_hidden)).to(device)
                adip = build_adip(p, hidden=int(self.adip_hidden)).to(device)
                e_rel = np.clip(E_t / _E_HEADROOM, _E_FLOOR, 1.0 - _E_FLOOR)
                e_logit = torch.from_numpy(np.log(e_rel / (1.0 - e_rel)).astype(np.float32)).to(device)
                a_log = torch.from_numpy(np.log(np.maximum(A_full, _FLOOR)).astype(np.float32).reshape(p, H, W)).to(
                    device
                )
                e_fn, a_fn = (lambda: _E_HEADROOM * edip(e_logit)), (lambda: adip(a_log))
        opt = torch.optim.Adam(list(edip.parameters()) + list(adip.parameters()), lr=s["learning_rate"])

        volume = _volume_term(torch, s["min_volume"], Y, E_tilde, A_tilde, w)
        curve = []
        snap = int(self.snapshot_every or 0) if snapshots else 0
        every = max(1, n_iter // 100)
        E_avg = A_avg = None
        norm = 0.0
        t0 = time.perf_counter()
        for it in range(n_iter):
            opt.zero_grad(set_to_none=True)
            E = e_fn()
            A = a_fn().reshape(p, -1)
            loss = (
                a1 * common.masked_half_mse(Y, E, A_tilde, w)
                + a2 * common.masked_half_mse(Y, E_tilde, A, w)
                + a3 * common.masked_half_mse(Y, E, A, w)
            )
            if volume is not None:
                loss = loss + volume(E)
            loss.backward()
            opt.step()
            curve.append(float(loss.detach()))
            with torch.no_grad():
                if it > 0 or decay == 0.0:  # the averaged outputs start after the first update, not at the guidance
                    if E_avg is None or decay == 0.0:
                        E_avg, A_avg = E.detach().clone(), A.detach().clone()
                        norm = 1.0 - decay if decay > 0.0 else 1.0
                    else:  # bias-corrected: sum_k (1-d) d^(n-k) x_k / (1 - d^n)
                        E_avg.mul_(decay * norm).add_(E.detach(), alpha=1.0 - decay)
                        A_avg.mul_(decay * norm).add_(A.detach(), alpha=1.0 - decay)
                        norm = decay * norm + (1.0 - decay)
                        E_avg.div_(norm)
                        A_avg.div_(norm)
            if snap and (it + 1) % snap == 0 and E_avg is not None:
                self.snapshots_.append(
                    (it + 1, time.perf_counter() - t0, E_avg.cpu().numpy() * prep.scale, A_avg.cpu().numpy().copy())
                )
            if (it + 1) % every == 0 or it + 1 == n_iter:
                report(
                    self.progress,
                    lo + (hi - lo) * (it + 1) / max(n_iter, 1),
                    f"BUDDIP: iteration {it + 1}/{n_iter}, loss {curve[-1]:.3g}",
                )
        if n_iter > 0 and (decay == 0.0 or E_avg is None):  # the networks' output after the last update
            with torch.no_grad():
                E_avg, A_avg = e_fn(), a_fn().reshape(p, -1)
        if E_avg is None:  # n_iter == 0: the guidance itself
            return E_t, A_full.astype(np.float32), curve
        return (E_avg.cpu().numpy().astype(np.float64), A_avg.cpu().numpy(), curve)


def _volume_term(torch, weight, Y, E_tilde, A_tilde, w):
    """``E -> lam * logdet(E^T E + delta I)`` scaled at the guidance (see ``min_volume``), or None for weight 0."""
    if weight <= 0:
        return None
    eye = torch.eye(E_tilde.shape[1], dtype=E_tilde.dtype, device=E_tilde.device)
    delta = _VOLUME_DELTA * float((E_tilde**2).sum(dim=0).mean().clamp_min(1e-12))
    logdet0 = float(torch.logdet(E_tilde.T @ E_tilde + delta * eye))
    lam = weight * float(common.masked_half_mse(Y, E_tilde, A_tilde, w)) / max(abs(logdet0), 1e-12)
    return lambda E: lam * torch.logdet(E.T @ E + delta * eye)
