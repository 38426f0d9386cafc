"""BUDDIP: blind unmixing with a double deep image prior (Zhou & Rodrigues, ICASSP 2022)."""

from __future__ import annotations

import time
from typing import Optional

import numpy as np
from sklearn.base import clone

from ..core.base import keep_params, pixels_to_maps
from ..core.errors import ParameterError
from ..core.params import N_ENDMEMBERS, SEED, Choices, Integral, Interval, Real, non_negative, positive
from ..core.progress import ProgressCallback, report
from ..core.torch_support import import_torch
from ..core.variants import VariantChoices
from ..extraction.refinement import fcls_abundances
from ..io.memory import MEMORY_MB
from . import common
from .guidance import EXTRACTORS, check_endmembers, extract_endmembers, refine_guidance

_FLOOR = 1e-2  # abundances below this are lifted before the log, so the prior can still move them
_E_HEADROOM = 2.0  # endmembers may reach twice the image's largest value (sigmoid output range)
_E_FLOOR = 1e-4  # keeps logit(E~ / headroom) finite for zero-valued bands
_FCLS_CLIP = 1e-6  # the authors clip their FCLS guidance to [1e-6, 1 - 1e-6]
FINAL_ABUNDANCES = ("fcls", "adip")
ARCHITECTURES = ("residual", "unet")
NETWORK_INPUTS = ("guidance", "noise")
UNET_WIDTHS = (256, 512, 1024)

# The paper (Sec. 3 and 4.1): noise inputs, sigmoid EDIP / softmax ADIP, Adam 1e-4, the synthetic experiment's
# weights and epochs, SiVM (+ the authors' SVD denoising) + FCLS guidance, outputs of the networks. The paper
# gives no layer widths: those of the authors' code are used.
_PAPER = dict(
    architecture="unet",  # the authors' U-Nets, or "residual" networks added to the guidance
    network_input="noise",  # fixed uniform noise U(0, 0.1), or the "guidance" ("residual" needs it)
    alpha1=0.1,
    alpha2=0.01,
    alpha3=1.0,
    n_iter=4500,
    learning_rate=1e-4,
    ema=0.0,  # decay of the bias-corrected moving average of the outputs; 0: the last output
    purify=0.0,
    expand=0,
    final_abundances="adip",
    denoise=True,  # SiVM on the rank-p SVD denoised data
    min_volume=0.0,
    unet_widths=UNET_WIDTHS,  # channel widths of the U-Nets
    edip_hidden=64,  # widths of the residual networks
    adip_hidden=32,
    snapshot_every=None,  # record snapshots_ every this many iterations (untiled fits)
    max_pixels="auto",  # most pixels one network holds: from the device's memory, an int, or None (no limit)
    tiles=True,  # cut larger images into tiles (False refuses them)
    tile_overlap=16,  # overlap of neighbouring tiles, in pixels
)
VARIANTS = {
    # This project's light CPU setting: refined guidance, small residual networks, moving average.
    "default": dict(
        _PAPER,
        architecture="residual",
        network_input="guidance",
        alpha1=1.0,
        alpha2=1.0,
        n_iter=200,
        learning_rate=3e-3,
        ema=0.99,
        purify=0.05,
        expand=3,
        final_abundances="fcls",
        denoise=False,
    ),
    "paper": _PAPER,
    # The authors' repository where it differs from the paper: guidance as the networks' input,
    # weights 1/1/1, lr 1e-3, 24 000 epochs. Their ground-truth choice of the output is not copied.
    "authors_code": dict(_PAPER, network_input="guidance", alpha1=1.0, alpha2=1.0, n_iter=24000, learning_rate=1e-3),
}
# The volume term's regulariser, relative to the guidance's mean squared endmember norm (as in MinVolNMF).
_VOLUME_DELTA = 0.1
# The paper's Jasper Ridge experiment (Sec. 4.2) changes the weights and epochs of the paper variant.
PAPER_JASPER = dict(alpha1=1.0, alpha2=1.0, alpha3=1.0, n_iter=24000)


class BUDDIP(common.ImagePrior):
    """Blind unmixing with two deep image priors trained end to end (Zhou & Rodrigues, ICASSP 2022).

    An endmember prior EDIP (E >= 0) and an abundance prior ADIP (softmax: A >= 0, summing to one) are trained
    with Adam on ``alpha1 * L_EDIP + alpha2 * L_ADIP + alpha3 * L_BU``: the half mean squared errors of
    ``Y ~ f_E A~``, ``Y ~ E~ f_A`` and ``Y ~ f_E f_A`` over valid pixels, with ``E~`` the extracted (or given)
    guidance and ``A~`` its FCLS abundances. ``variant`` chooses every setting (:data:`VARIANTS`;
    :data:`PAPER_JASPER` holds the paper's Jasper Ridge weights); a parameter left at None takes the variant's
    value. An image over ``max_pixels`` is cut into overlapping tiles with one guidance, whose endmembers are
    averaged and maps blended. Invalid pixels are left out of every loss and get NaN abundances. ``fit`` takes a
    cube (L, H, W) and an optional (H, W) validity mask.

    Parameters
    ----------
    n_endmembers : int
        Number of endmembers p.
    extractor : {'sivm', 'vca', 'nfindr'}, default='sivm'
        Endmember extractor of the guidance (unless ``init_endmembers`` is given).
    alpha1, alpha2, alpha3 : float or None, default=None
        Weights of L_EDIP, L_ADIP and L_BU.
    n_iter : int or None, default=None
        Adam iterations.
    learning_rate : float or None, default=None
        Adam learning rate.
    purify : float in [0, 1) or None, default=None
        Share of purest pixels in the guidance refinement; 0: none.
    expand : int or None, default=None
        Expansion steps of the guidance refinement.
    min_volume : float >= 0 or None, default=None
        Weight of a minimum-volume term ``lam * logdet(E^T E + delta I)`` (not in the paper; 0 in every
        variant), ``lam = min_volume * L0 / |logdet0|`` at the guidance, as
        :class:`~deepunmix.engine.extraction.minvol_nmf.MinVolNMF` scales it.
    final_abundances : {'fcls', 'adip'} or None, default=None
        FCLS abundances for the learned endmembers, or the ADIP output.
    variant : {'default', 'paper', 'authors_code'}, default='default'
        Which entry of :data:`VARIANTS` gives the settings.
    init_endmembers : array-like of shape (L, p) or None, default=None
        Guidance endmembers instead of extracted ones (not refined).
    memory_mb : float or None, default=None
        RAM budget (MB) capping the CPU memory that ``max_pixels='auto'`` assumes.
    random_state : int or None, default=None
        Seed of the extractor and of the networks' initialisation and inputs.
    device, progress, settings
        As :class:`~deepunmix.engine.ddica.unmixing.DDICA`'s.

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
    loss_curve_, n_iter_ : list of float, int
        Total loss per iteration (first tile when tiled); iterations run.
    reconstruction_error_ : ndarray of shape (H, W)
        Per-pixel RMSE over the bands.
    settings_ : dict
        The resolved settings (:meth:`resolved_settings`).
    tiles_ : list of (slice, slice)
        The windows trained.
    snapshots_ : list of tuple
        (iteration, seconds, endmembers, abundances) every ``snapshot_every`` iterations, untiled fits only.
    n_features_in_ : int
        Number of bands L seen by ``fit``.
    """

    VARIANTS = VARIANTS
    _parameter_constraints: dict = {
        "n_endmembers": [N_ENDMEMBERS],
        "random_state": [SEED, None],
        "extractor": [Choices(EXTRACTORS)],
        "alpha1": [non_negative(), None],
        "alpha2": [non_negative(), None],
        "alpha3": [non_negative(), None],
        "n_iter": [non_negative(Integral), None],
        "learning_rate": [non_negative(), None],
        "ema": [Interval(Real, 0, 1, closed="left")],
        "purify": [Interval(Real, 0, 1, closed="left"), None],
        "expand": [non_negative(Integral), None],
        "final_abundances": [Choices(FINAL_ABUNDANCES), None],
        "edip_hidden": [positive(Integral)],
        "adip_hidden": [positive(Integral)],
        "variant": [VariantChoices(VARIANTS)],
        "settings": [dict, None],
        "architecture": [Choices(ARCHITECTURES)],
        "network_input": [Choices(NETWORK_INPUTS)],
        "denoise": ["boolean"],
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
        purify: Optional[float] = None,
        expand: Optional[int] = None,
        min_volume: Optional[float] = None,
        final_abundances: Optional[str] = None,
        variant: str = "default",
        init_endmembers: Optional[np.ndarray] = None,
        memory_mb: Optional[float] = None,
        device: str = "cpu",
        random_state: Optional[int] = None,
        progress: ProgressCallback = None,
        settings: Optional[dict] = None,
    ):
        keep_params(self, locals())

    def _finish_settings(self, s: dict) -> dict:
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
        prep, device, E0, A0, overlap = self._start(
            cube, mask, p, self.resolved_settings(), "BUDDIP: initial endmembers and FCLS abundances"
        )
        self.init_abundances_ = pixels_to_maps(A0, prep.valid)
        index = common.column_index(prep.valid)
        self.snapshots_ = []

        def train(sub, win, lo, hi):
            return self._train(sub, E0, A0[:, index[win][sub.valid]], device, lo, hi, len(self.tiles_) == 1)

        E, A = self._fit_tiles(prep, p, overlap, train)
        self.endmembers_ = E * prep.scale
        A_valid = A.astype(np.float32).reshape(p, -1)[:, prep.valid.ravel()]
        self.adip_abundances_ = pixels_to_maps(A_valid, prep.valid)
        if self.settings_["final_abundances"] == "fcls":
            report(self.progress, 1.0, "BUDDIP: FCLS abundances with the learned endmembers")
            A_valid = fcls_abundances(prep.Y, self.endmembers_)
        self.snapshots_ = [
            (it, sec, E_s, pixels_to_maps(A_s.reshape(p, -1)[:, prep.valid.ravel()], prep.valid))
            for it, sec, E_s, A_s in self.snapshots_
        ]
        return self._finish(prep, A_valid)

    def bytes_per_pixel(self, n_bands: int) -> float:
        """Memory one pixel of the network input costs during training (sets the pixel limit and tile size)."""
        p, s = int(self.n_endmembers), self.resolved_settings()
        if s["architecture"] == "unet":
            return common.unet_bytes_per_pixel(n_bands, p, s["unet_widths"])
        return common.residual_bytes_per_pixel(n_bands, p, int(s["adip_hidden"]))

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

    def _train(self, prep: common.PreparedData, E0: np.ndarray, A0: np.ndarray, device, lo=0.0, hi=1.0, snapshots=True):
        torch = import_torch()
        s = self.settings_
        p = E0.shape[1]
        n_iter = s["n_iter"]
        Y, w = common.full_pixel_tensor(prep, device)
        # guidance in normalised units; invalid pixels get the mean abundance
        E_t = np.clip(E0 / prep.scale, 0.0, None)
        A_full = np.empty((p, prep.valid.size), dtype=np.float64)
        flat_valid = prep.valid.ravel()
        A_full[:, flat_valid] = A0
        A_full[:, ~flat_valid] = A0.mean(axis=1, keepdims=True)
        if s["architecture"] == "unet":
            A_full = np.clip(A_full, _FCLS_CLIP, 1.0 - _FCLS_CLIP)
        E_tilde = torch.from_numpy(E_t.astype(np.float32)).to(device)
        A_tilde = torch.from_numpy(A_full.astype(np.float32)).to(device)
        with common.seeded(self.random_state, device):
            edip, adip, e_fn, a_fn = self._networks(E_t, A_full, E_tilde, A_tilde, prep.shape, device)
        opt = torch.optim.Adam(list(edip.parameters()) + list(adip.parameters()), lr=s["learning_rate"])
        volume = _volume_term(s["min_volume"], Y, E_tilde, A_tilde, w)
        curve = []
        snap = int(s["snapshot_every"] or 0) if snapshots else 0
        avg = _MovingAverage(s["ema"])
        t0 = time.perf_counter()
        for it in range(n_iter):
            opt.zero_grad(set_to_none=True)
            E = e_fn()
            A = a_fn().reshape(p, -1)
            loss = (
                s["alpha1"] * common.masked_half_mse(Y, E, A_tilde, w)
                + s["alpha2"] * common.masked_half_mse(Y, E_tilde, A, w)
                + s["alpha3"] * common.masked_half_mse(Y, E, A, w)
            )
            if volume is not None:
                loss = loss + volume(E)
            loss.backward()
            opt.step()
            curve.append(float(loss.detach()))
            if it > 0 or avg.decay == 0.0:  # the averaged outputs start after the first update, not at the guidance
                avg.add(E, A)
            if snap and (it + 1) % snap == 0 and avg.E is not None:
                self.snapshots_.append(
                    (it + 1, time.perf_counter() - t0, avg.E.cpu().numpy() * prep.scale, avg.A.cpu().numpy().copy())
                )
            common.report_iteration(self.progress, "BUDDIP", it, n_iter, lo, hi, curve[-1])
        if n_iter == 0:  # the guidance itself
            return E_t, A_full.astype(np.float32), curve
        if avg.decay == 0.0 or avg.E is None:  # the networks' output after the last update
            with torch.no_grad():
                avg.E, avg.A = e_fn(), a_fn().reshape(p, -1)
        return avg.E.cpu().numpy().astype(np.float64), avg.A.cpu().numpy(), curve

    def _networks(self, E_t, A_full, E_tilde, A_tilde, shape, device) -> tuple:
        """(EDIP, ADIP, EDIP output function, ADIP output function) for the settings' architecture and inputs."""
        from . import networks  # noqa: PLC0415 - imports torch

        torch = import_torch()
        s, p, (H, W) = self.settings_, E_t.shape[1], shape
        if s["architecture"] == "unet":
            widths = tuple(int(v) for v in s["unet_widths"])
            edip = networks.build_unet_edip(E_t.shape[0], widths=widths).to(device)
            adip = networks.build_unet_adip(p, widths=widths).to(device)
            if s["network_input"] == "noise":  # the paper: fixed random inputs of the outputs' sizes
                e_in = (0.1 * torch.rand(E_t.shape)).to(device)
                a_in = (0.1 * torch.rand(p, H, W)).to(device)
            else:  # the authors' code: the guidance itself
                e_in, a_in = E_tilde, A_tilde.reshape(p, H, W)
            return edip, adip, (lambda: edip(e_in)), (lambda: adip(a_in))
        edip = networks.EDIP(p, hidden=int(s["edip_hidden"])).to(device)
        adip = networks.ADIP(p, hidden=int(s["adip_hidden"])).to(device)
        e_rel = np.clip(E_t / _E_HEADROOM, _E_FLOOR, 1.0 - _E_FLOOR)
        e_logit = torch.from_numpy(np.log(e_rel / (1.0 - e_rel)).astype(np.float32)).to(device)
        a_log = torch.from_numpy(np.log(np.maximum(A_full, _FLOOR)).astype(np.float32).reshape(p, H, W)).to(device)
        return edip, adip, (lambda: _E_HEADROOM * edip(e_logit)), (lambda: adip(a_log))


class _MovingAverage:
    """Bias-corrected exponential moving average of the outputs (E, A): sum_k (1-d) d^(n-k) x_k / (1 - d^n);
    decay 0 keeps the last output."""

    def __init__(self, decay: float):
        self.decay, self.norm, self.E, self.A = decay, 0.0, None, None

    def add(self, E, A) -> None:
        d = self.decay
        if self.E is None or d == 0.0:
            self.E, self.A = E.detach().clone(), A.detach().clone()
            self.norm = 1.0 - d if d > 0.0 else 1.0
            return
        self.E.mul_(d * self.norm).add_(E.detach(), alpha=1.0 - d)
        self.A.mul_(d * self.norm).add_(A.detach(), alpha=1.0 - d)
        self.norm = d * self.norm + (1.0 - d)
        self.E.div_(self.norm)
        self.A.div_(self.norm)


def _volume_term(weight, Y, E_tilde, A_tilde, w):
    """``E -> lam * logdet(E^T E + delta I)`` scaled at the guidance (see ``min_volume``), or None for weight 0."""
    if weight <= 0:
        return None
    torch = import_torch()
    eye = torch.eye(E_tilde.shape[1], dtype=E_tilde.dtype, device=E_tilde.device)
    delta = _VOLUME_DELTA * float((E_tilde**2).sum(dim=0).mean().clamp_min(1e-12))
    logdet0 = float(torch.logdet(E_tilde.T @ E_tilde + delta * eye))
    lam = weight * float(common.masked_half_mse(Y, E_tilde, A_tilde, w)) / max(abs(logdet0), 1e-12)
    return lambda E: lam * torch.logdet(E.T @ E + delta * eye)
