"""BUDDIP: blind unmixing with a double deep image prior (Zhou & Rodrigues, ICASSP 2022)."""
from __future__ import annotations

import time
from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator

from ..base import pixels_to_maps
from ..progress import ProgressCallback, report
from ..torch_support import import_torch, resolve_device
from . import common
from .guidance import check_endmembers, extract_endmembers, fcls_abundances, refine_guidance
from .networks import build_adip, build_edip
from ..errors import ParameterError

_FLOOR = 1e-2  # abundances below this are lifted before the log, so the prior can still move them
_E_HEADROOM = 2.0  # endmembers may reach twice the image's largest value (sigmoid output range)
_E_FLOOR = 1e-4  # keeps logit(E~ / headroom) finite for zero-valued bands
FINAL_ABUNDANCES = ("fcls", "adip")


class BUDDIP(BaseEstimator):
    """Blind unmixing with two deep image priors trained end to end.

    An endmember prior EDIP (sigmoid output, so E >= 0) and an abundance prior ADIP (softmax
    over endmembers, so A >= 0 and sums to one) are trained with Adam on
    ``alpha1 * L_EDIP + alpha2 * L_ADIP + alpha3 * L_BU`` where
    ``L_EDIP = 1/2 |Y - f_E A~|^2``, ``L_ADIP = 1/2 |Y - E~ f_A|^2``, ``L_BU = 1/2 |Y - f_E f_A|^2``
    (means over valid pixels and bands). ``E~`` comes from the extractor ('sivm', 'vca', 'nfindr')
    or ``init_endmembers``; ``A~`` from exact FCLS. Both networks are residual: they start at
    the guidance and learn a correction.

    Guidance refinement (not in the paper; label-free): each extracted endmember is replaced by
    the mean of the ``purify`` fraction of pixels (default 5 %) with the highest FCLS abundance of
    it (a single extracted pixel carries all its noise), then ``expand`` (default 3) expansion
    steps move each endmember until its near-pure pixels (FCLS abundance >= 0.8) are explained
    without mean residual (see :func:`guidance.expand_endmembers`; this undoes the inward pull of
    averaging and reaches outside the data when the scene has no pure pixels). ``purify=0,
    expand=0`` gives the paper's guidance; neither is applied to user-given ``init_endmembers``.

    No ground truth is used: training runs ``n_iter`` Adam steps and the learned endmembers and
    ADIP abundances are an exponential moving average (decay ``ema``) of the network outputs.
    ``final_abundances='fcls'`` (default, not in the paper) returns the exact FCLS abundances for
    the learned endmembers; ``'adip'`` returns the ADIP output (the paper's choice, kept in
    ``adip_abundances_`` either way). Measured (benchmarks/results/buddip_ablation.md) FCLS was
    better on the synthetic scenes at 20-35 dB and 50-200 px, the ADIP output at 15 dB and on Samson.
    The defaults (200 iterations, learning rate 3e-3) come from the time-to-accuracy curves in
    benchmarks/results/buddip_curve.md. Training changes the result far less than the guidance.

    Size limit: the whole image is one network input. Images with more than ``max_pixels``
    pixels (default 262 144 = 512 x 512) are refused with a message; crop or subset them.
    Invalid pixels (mask False or NaN) are filled for the networks and left out of every loss;
    their abundances are NaN.

    Attributes: ``endmembers_`` (L, p), ``abundances_`` (p, H, W) float32, ``init_endmembers_``,
    ``init_abundances_`` (the guidance), ``extractor_indices_`` ((p, 2) row, col, or None when
    endmembers were given), ``loss_curve_`` (total loss per iteration), ``n_iter_``,
    ``reconstruction_error_`` (H, W) per-pixel RMSE, ``adip_abundances_`` (the ADIP output), ``snapshots_`` (diagnostics: a list of
    (iteration, seconds, endmembers, abundances) of the moving average every ``snapshot_every``
    iterations; empty unless that is set).
    """

    def __init__(self, n_endmembers: int, extractor: str = "sivm", alpha1: float = 1.0, alpha2: float = 1.0,
                 alpha3: float = 1.0, n_iter: int = 200, learning_rate: float = 3e-3, ema: float = 0.99,
                 device: str = "cpu", random_state: Optional[int] = None,
                 max_pixels: Optional[int] = common.DEFAULT_MAX_PIXELS, progress: ProgressCallback = None,
                 init_endmembers: Optional[np.ndarray] = None, purify: float = 0.05, expand: int = 3,
                 final_abundances: str = "fcls", edip_hidden: int = 64, adip_hidden: int = 32,
                 snapshot_every: Optional[int] = None):
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

    def fit(self, cube: np.ndarray, mask: Optional[np.ndarray] = None) -> "BUDDIP":
        """Unmix ``cube`` (bands, rows, cols); ``mask`` (rows, cols) True = valid."""
        p = int(self.n_endmembers)
        prep = common.prepare(cube, mask, self.max_pixels, "BUDDIP", p)
        resolve_device(self.device)  # fail fast (e.g. CUDA asked but absent) before the extraction
        if not 0.0 <= float(self.purify or 0) < 1.0:
            raise ParameterError(f"purify must be a fraction in [0, 1), got {self.purify}")
        if not 0.0 <= float(self.ema) < 1.0:
            raise ParameterError(f"ema must be in [0, 1), got {self.ema}")
        if self.final_abundances not in FINAL_ABUNDANCES:
            raise ParameterError(f"final_abundances must be one of {FINAL_ABUNDANCES}, got {self.final_abundances!r}")
        L = prep.Y.shape[0]
        report(self.progress, 0.0, "BUDDIP: initial endmembers and FCLS abundances")
        if self.init_endmembers is not None:
            E0 = check_endmembers(self.init_endmembers, L, p)
            idx = None
        else:
            E0, cols = extract_endmembers(prep.Y, p, self.extractor, self.random_state)
            idx = np.argwhere(prep.valid)[cols] if cols is not None and len(cols) == p else None
        if self.init_endmembers is None:
            E0, A0 = refine_guidance(prep.Y, E0, float(self.purify or 0), int(self.expand or 0))
        else:
            A0 = fcls_abundances(prep.Y, E0)
        self.init_endmembers_ = E0
        self.init_abundances_ = pixels_to_maps(A0, prep.valid)
        self.extractor_indices_ = idx

        E, A, curve = self._train(prep, E0, A0)
        self.endmembers_ = E * prep.scale
        A_valid = A.reshape(p, -1)[:, prep.valid.ravel()]
        self.adip_abundances_ = pixels_to_maps(A_valid, prep.valid)
        if self.final_abundances == "fcls":
            report(self.progress, 1.0, "BUDDIP: FCLS abundances with the learned endmembers")
            A_valid = fcls_abundances(prep.Y, self.endmembers_)
        self.abundances_ = pixels_to_maps(A_valid, prep.valid)
        self.reconstruction_error_ = pixels_to_maps(
            common.per_pixel_rmse(prep.Y, self.endmembers_, A_valid.astype(np.float64))[None], prep.valid)[0]
        self.snapshots_ = [(it, sec, E_s, pixels_to_maps(A_s.reshape(p, -1)[:, prep.valid.ravel()], prep.valid))
                           for it, sec, E_s, A_s in self.snapshots_]
        self.loss_curve_ = curve
        self.n_iter_ = len(curve)
        report(self.progress, 1.0, "BUDDIP: done")
        return self

    def _train(self, prep: common.PreparedData, E0: np.ndarray, A0: np.ndarray):
        torch = import_torch()
        device = resolve_device(self.device)
        p = E0.shape[1]
        H, W = prep.shape
        n_iter = int(self.n_iter)
        a1, a2, a3 = float(self.alpha1), float(self.alpha2), float(self.alpha3)
        decay = float(self.ema)

        Y, w = common.full_pixel_tensor(torch, prep, device)
        # guidance in normalised units; invalid pixels get the mean abundance
        E_t = np.clip(E0 / prep.scale, 0.0, None)
        A_full = np.empty((p, H * W), dtype=np.float64)
        flat_valid = prep.valid.ravel()
        A_full[:, flat_valid] = A0
        A_full[:, ~flat_valid] = A0.mean(axis=1, keepdims=True)
        e_rel = np.clip(E_t / _E_HEADROOM, _E_FLOOR, 1.0 - _E_FLOOR)
        e_logit = torch.from_numpy(np.log(e_rel / (1.0 - e_rel)).astype(np.float32)).to(device)
        a_log = torch.from_numpy(np.log(np.maximum(A_full, _FLOOR)).astype(np.float32).reshape(p, H, W)).to(device)
        E_tilde = torch.from_numpy(E_t.astype(np.float32)).to(device)
        A_tilde = torch.from_numpy(A_full.astype(np.float32)).to(device)

        with common.seeded(torch, self.random_state, device):
            edip = build_edip(p, hidden=int(self.edip_hidden)).to(device)
            adip = build_adip(p, hidden=int(self.adip_hidden)).to(device)
        opt = torch.optim.Adam(list(edip.parameters()) + list(adip.parameters()), lr=float(self.learning_rate))

        curve = []
        self.snapshots_ = []
        snap = int(self.snapshot_every or 0)
        every = max(1, n_iter // 100)
        E_avg = A_avg = None
        t0 = time.perf_counter()
        for it in range(n_iter):
            opt.zero_grad(set_to_none=True)
            E = _E_HEADROOM * edip(e_logit)
            A = adip(a_log).reshape(p, -1)
            loss = (a1 * common.masked_half_mse(Y, E, A_tilde, w) + a2 * common.masked_half_mse(Y, E_tilde, A, w)
                    + a3 * common.masked_half_mse(Y, E, A, w))
            loss.backward()
            opt.step()
            curve.append(float(loss.detach()))
            with torch.no_grad():
                if E_avg is None:
                    E_avg, A_avg = E.detach().clone(), A.detach().clone()
                else:
                    E_avg.mul_(decay).add_(E.detach(), alpha=1.0 - decay)
                    A_avg.mul_(decay).add_(A.detach(), alpha=1.0 - decay)
            if snap and (it + 1) % snap == 0:
                self.snapshots_.append((it + 1, time.perf_counter() - t0, E_avg.cpu().numpy() * prep.scale,
                                        A_avg.cpu().numpy().copy()))
            if (it + 1) % every == 0 or it + 1 == n_iter:
                report(self.progress, (it + 1) / max(n_iter, 1), f"BUDDIP: iteration {it + 1}/{n_iter}, loss {curve[-1]:.3g}")
        if E_avg is None:  # n_iter == 0: the guidance itself
            return E_t, A_full.astype(np.float32), curve
        return (E_avg.cpu().numpy().astype(np.float64), A_avg.cpu().numpy(), curve)
