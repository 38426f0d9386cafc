"""UnDIP: abundance estimation with a deep image prior and fixed endmembers (Rasti et al., TGRS 2021)."""
from __future__ import annotations

from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator

from ..base import pixels_to_maps
from ..progress import ProgressCallback, report
from ..torch_support import import_torch, resolve_device
from . import common
from .guidance import check_endmembers, extract_endmembers
from .networks import build_skipnet
from ..errors import InputError, ParameterError


class UnDIP(BaseEstimator):
    """Abundances from a skip-net deep image prior; endmembers fixed.

    Endmembers are ``endmembers`` (L, p) when given, otherwise extracted with ``extractor``
    ('sivm', 'vca', 'nfindr') and ``n_endmembers``. A skip-net fed with fixed uniform noise
    outputs the abundance maps through a softmax over endmembers (so A >= 0, sums to one);
    it is trained with Adam on ``1/2 |Y - E f(z)|^2`` (mean over valid pixels and bands) and
    the returned abundances are the exponential moving average (``ema``) of its outputs.
    No ground truth is used. Defaults are lighter than Rasti et al.'s (3000 iterations, wider
    net) so that a 100 x 100 image takes about a minute on one CPU thread; raise ``n_iter`` and
    ``channels`` on a GPU.

    Size limit: the whole image is one network input; more than ``max_pixels`` pixels
    (default 262 144 = 512 x 512) is refused with a message. Invalid pixels (mask False or NaN)
    are left out of the loss and get NaN abundances.

    Attributes: ``endmembers_`` (L, p), ``abundances_`` (p, H, W) float32, ``init_endmembers_``,
    ``extractor_indices_``, ``loss_curve_``, ``n_iter_``, ``reconstruction_error_`` (H, W).
    """

    def __init__(self, n_endmembers: Optional[int] = None, endmembers: Optional[np.ndarray] = None,
                 extractor: str = "sivm", n_iter: int = 500, learning_rate: float = 1e-3, ema: float = 0.99,
                 input_depth: int = 8, channels: int = 16, skip_channels: int = 4, depth: int = 3,
                 device: str = "cpu", random_state: Optional[int] = None,
                 max_pixels: Optional[int] = common.DEFAULT_MAX_PIXELS, progress: ProgressCallback = None):
        self.n_endmembers = n_endmembers
        self.endmembers = endmembers
        self.extractor = extractor
        self.n_iter = n_iter
        self.learning_rate = learning_rate
        self.ema = ema
        self.input_depth = input_depth
        self.channels = channels
        self.skip_channels = skip_channels
        self.depth = depth
        self.device = device
        self.random_state = random_state
        self.max_pixels = max_pixels
        self.progress = progress

    def fit(self, cube: np.ndarray, mask: Optional[np.ndarray] = None) -> "UnDIP":
        """Estimate abundances of ``cube`` (bands, rows, cols); ``mask`` (rows, cols) True = valid."""
        if self.endmembers is None and self.n_endmembers is None:
            raise ParameterError("UnDIP needs either endmembers or n_endmembers")
        p = int(self.n_endmembers) if self.endmembers is None else np.asarray(self.endmembers).shape[-1]
        prep = common.prepare(cube, mask, self.max_pixels, "UnDIP", p)
        cells = -(-prep.shape[0] // 2 ** int(self.depth)) * -(-prep.shape[1] // 2 ** int(self.depth))
        if cells < 2:  # the deepest level would be one pixel: batch normalisation fails on it
            raise InputError(f"UnDIP's network halves the image {int(self.depth)} times: {prep.shape[0]} x "
                             f"{prep.shape[1]} pixels is too small (a side needs more than {2 ** int(self.depth)}); "
                             "use FCLS for so small an image")
        resolve_device(self.device)  # fail fast (e.g. CUDA asked but absent) before the extraction
        if not 0.0 <= float(self.ema) < 1.0:
            raise ParameterError(f"ema must be in [0, 1), got {self.ema}")
        L = prep.Y.shape[0]
        report(self.progress, 0.0, "UnDIP: endmembers")
        if self.endmembers is not None:
            E = check_endmembers(self.endmembers, L, self.n_endmembers)
            idx = None
        else:
            E, cols = extract_endmembers(prep.Y, p, self.extractor, self.random_state)
            idx = np.argwhere(prep.valid)[cols] if cols is not None and len(cols) == p else None
        self.init_endmembers_ = E
        self.extractor_indices_ = idx

        A, curve = self._train(prep, E)
        A_valid = A[:, prep.valid.ravel()]
        self.endmembers_ = E
        self.abundances_ = pixels_to_maps(A_valid, prep.valid)
        self.reconstruction_error_ = pixels_to_maps(
            common.per_pixel_rmse(prep.Y, E, A_valid.astype(np.float64))[None], prep.valid)[0]
        self.loss_curve_ = curve
        self.n_iter_ = len(curve)
        report(self.progress, 1.0, "UnDIP: done")
        return self

    def _train(self, prep: common.PreparedData, E: np.ndarray):
        torch = import_torch()
        device = resolve_device(self.device)
        p = E.shape[1]
        H, W = prep.shape
        n_iter = int(self.n_iter)
        decay = float(self.ema)
        Y, w = common.full_pixel_tensor(torch, prep, device)
        E_t = torch.from_numpy((E / prep.scale).astype(np.float32)).to(device)
        with common.seeded(torch, self.random_state, device):
            net = build_skipnet(int(self.input_depth), p, channels=int(self.channels),
                                skip_channels=int(self.skip_channels), depth=int(self.depth)).to(device)
            z = (0.1 * torch.rand(int(self.input_depth), H, W)).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate))
        curve = []
        every = max(1, n_iter // 100)
        A_avg = None
        for it in range(n_iter):
            opt.zero_grad(set_to_none=True)
            A = net(z).reshape(p, -1)
            loss = common.masked_half_mse(Y, E_t, A, w)
            loss.backward()
            opt.step()
            curve.append(float(loss.detach()))
            with torch.no_grad():
                A_avg = A.detach().clone() if A_avg is None else A_avg.mul_(decay).add_(A.detach(), alpha=1.0 - decay)
            if (it + 1) % every == 0 or it + 1 == n_iter:
                report(self.progress, (it + 1) / max(n_iter, 1), f"UnDIP: iteration {it + 1}/{n_iter}, loss {curve[-1]:.3g}")
        if A_avg is None:  # n_iter == 0: the untrained network's output
            with torch.no_grad():
                A_avg = net(z).reshape(p, -1)
        return A_avg.cpu().numpy(), curve
