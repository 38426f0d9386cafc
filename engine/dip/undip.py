"""UnDIP: abundance estimation with a deep image prior and fixed endmembers (Rasti et al., TGRS 2021)."""

from __future__ import annotations

from typing import Optional

import numpy as np
from sklearn.base import clone

from ..core.base import keep_params
from ..core.errors import InputError, ParameterError
from ..core.params import N_ENDMEMBERS, SEED, Choices, Integral, Interval, Real, non_negative, positive
from ..core.progress import ProgressCallback
from ..core.torch_support import import_torch
from ..core.variants import VariantChoices
from ..io.memory import MEMORY_MB
from . import common
from .guidance import EXTRACTORS, check_endmembers, extract_endmembers

# This project's lighter setting for a CPU (about a minute for 100 x 100 on one thread).
_DEFAULT = dict(
    n_iter=500,
    learning_rate=1e-3,
    ema=0.99,  # decay of the moving average of the outputs
    input_depth=8,  # channels of the noise input; None: p
    channels=16,  # skip-net channels, skip channels and levels
    skip_channels=4,
    depth=3,
    denoise=False,  # SiVM on the rank-p SVD denoised data
    max_pixels="auto",  # as BUDDIP's
    tiles=True,
    tile_overlap=16,
)
VARIANTS = {
    "default": _DEFAULT,
    # Rasti et al.'s code (UnDIP_Samson.py): skip-net with one level of 256 channels and 4 skip channels, input
    # depth = number of endmembers (uniform noise x 0.1), Adam 1e-3, 3000 iterations, moving average 0.99, SiVM on
    # the rank-p SVD denoised data.
    "paper": dict(_DEFAULT, n_iter=3000, input_depth=None, channels=256, depth=1, denoise=True),
}


class UnDIP(common.ImagePrior):
    """Abundances from a skip-net deep image prior with fixed endmembers (Rasti et al., TGRS 2021).

    The endmembers are ``endmembers`` when given, else extracted. A skip-net fed with fixed uniform noise
    outputs the abundance maps through a softmax; it is trained with Adam on ``1/2 |Y - E f(z)|^2`` over valid
    pixels and the abundances are the moving average of its outputs. ``variant`` chooses every setting
    (:data:`VARIANTS`; both pad by replication, Rasti et al. by reflection); a parameter left at None takes the
    variant's value. Large images are fitted in tiles as by :class:`~deepunmix.engine.dip.buddip.BUDDIP`.

    Parameters
    ----------
    n_endmembers : int or None, default=None
        Number of endmembers p to extract; with ``endmembers`` given, None or their count.
    endmembers : array-like of shape (L, p) or None, default=None
        Fixed endmembers; None extracts them.
    extractor : {'sivm', 'vca', 'nfindr'}, default='sivm'
        Extractor used when ``endmembers`` is None.
    n_iter : int or None, default=None
        Adam iterations.
    learning_rate : float or None, default=None
        Adam learning rate.
    variant : {'default', 'paper'}, default='default'
        Which entry of :data:`VARIANTS` gives the settings (``'light'``: the old name of ``'default'``).
    device, random_state, progress, memory_mb, settings
        As :class:`~deepunmix.engine.dip.buddip.BUDDIP`'s.

    Attributes
    ----------
    endmembers_ : ndarray of shape (L, p)
        The endmembers used.
    abundances_ : ndarray of shape (p, H, W), float32
        Abundances; NaN at invalid pixels.
    init_endmembers_ : ndarray of shape (L, p)
        The given or extracted endmembers (equal to ``endmembers_``).
    extractor_indices_ : ndarray of shape (p, 2) or None
        (row, col) of the extracted pixels; None for given endmembers.
    loss_curve_ : list of float
        Loss per iteration (first tile with valid pixels when tiled).
    n_iter_, reconstruction_error_, settings_, tiles_, n_features_in_
        As :class:`~deepunmix.engine.dip.buddip.BUDDIP`.
    """

    VARIANTS = VARIANTS
    ALIASES = {"light": "default"}
    _parameter_constraints: dict = {
        "n_endmembers": [N_ENDMEMBERS, None],
        "random_state": [SEED, None],
        "extractor": [Choices(EXTRACTORS)],
        "n_iter": [positive(Integral), None],
        "learning_rate": [positive(), None],
        "ema": [Interval(Real, 0, 1, closed="left")],
        "input_depth": [positive(Integral), None],
        "channels": [positive(Integral)],
        "skip_channels": [non_negative(Integral)],
        "depth": [positive(Integral)],
        "variant": [VariantChoices(VARIANTS, ALIASES)],
        "settings": [dict, None],
        "denoise": ["boolean"],
        "tiles": ["boolean"],
        "tile_overlap": [non_negative(Integral)],
        "memory_mb": [MEMORY_MB, None],
    }

    def __init__(
        self,
        n_endmembers: Optional[int] = None,
        *,
        endmembers: Optional[np.ndarray] = None,
        extractor: str = "sivm",
        n_iter: Optional[int] = None,
        learning_rate: Optional[float] = None,
        variant: str = "default",
        device: str = "cpu",
        random_state: Optional[int] = None,
        progress: ProgressCallback = None,
        memory_mb: Optional[float] = None,
        settings: Optional[dict] = None,
    ):
        keep_params(self, locals())

    def _finish_settings(self, s: dict) -> dict:
        if s["input_depth"] is None:
            s["input_depth"] = self._n_materials()
        for key in ("n_iter", "input_depth", "channels", "skip_channels", "depth"):
            s[key] = int(s[key])
        s["learning_rate"], s["ema"] = float(s["learning_rate"]), float(s["ema"])
        return s

    def fit(self, cube: np.ndarray, mask: Optional[np.ndarray] = None) -> "UnDIP":
        """Estimate abundances of ``cube`` (bands, rows, cols); ``mask`` (rows, cols) True = valid."""
        if self.endmembers is None and self.n_endmembers is None:
            raise ParameterError("UnDIP needs either endmembers or n_endmembers")
        p = self._n_materials()
        prep, device, E, _, overlap = self._start(cube, mask, p, self.resolved_settings(), "UnDIP: endmembers")
        _, A = self._fit_tiles(prep, p, overlap, lambda sub, win, lo, hi: (None, *self._train(sub, E, device, lo, hi)))
        self.endmembers_ = E
        return self._finish(prep, A.reshape(p, -1)[:, prep.valid.ravel()])

    def _check_image(self, prep: common.PreparedData, s: dict) -> None:
        depth = int(s["depth"])
        cells = -(-prep.shape[0] // 2**depth) * -(-prep.shape[1] // 2**depth)
        if cells < 2:  # the deepest level would be one pixel: batch normalisation fails on it
            raise InputError(
                f"UnDIP's network halves the image {depth} times: {prep.shape[0]} x "
                f"{prep.shape[1]} pixels is too small (a side needs more than {2**depth}); "
                "use FCLS for so small an image"
            )

    def _n_materials(self) -> int:
        return int(self.n_endmembers) if self.endmembers is None else np.asarray(self.endmembers).shape[-1]

    def bytes_per_pixel(self, n_bands: int) -> float:
        """Memory one pixel of the network input costs during training (sets the pixel limit and tile size)."""
        s = self.resolved_settings()
        p = self._n_materials()
        return common.skipnet_bytes_per_pixel(
            n_bands, p, s["input_depth"], s["channels"], s["skip_channels"], s["depth"]
        )

    def tile_copy(self, E0: np.ndarray) -> "UnDIP":
        """An unfitted copy for one tile of a raster read from disk, with the endmembers ``E0`` fixed."""
        return clone(self).set_params(endmembers=E0, n_endmembers=E0.shape[1])

    def abundance_source(self) -> str:
        """Always 'network': UnDIP's abundances are its network's maps."""
        return "network"

    def guidance(self, Y: np.ndarray):
        """The fixed endmembers for pixels Y (L, n): the given ones or the extractor's; (E, None, columns)."""
        s = self.resolved_settings()
        if self.endmembers is not None:
            return check_endmembers(self.endmembers, Y.shape[0], self.n_endmembers), None, None
        E, cols = extract_endmembers(
            Y, self._n_materials(), self.extractor, self.random_state, denoise=bool(s["denoise"])
        )
        return E, None, cols

    def _train(self, prep: common.PreparedData, E: np.ndarray, device, lo=0.0, hi=1.0):
        from . import networks  # noqa: PLC0415 - imports torch

        torch = import_torch()
        s = self.settings_
        p = E.shape[1]
        H, W = prep.shape
        n_iter = s["n_iter"]
        decay = s["ema"]
        Y, w = common.full_pixel_tensor(prep, device)
        E_t = torch.from_numpy((E / prep.scale).astype(np.float32)).to(device)
        with common.seeded(self.random_state, device):
            net = networks.SkipNet(
                s["input_depth"], p, channels=s["channels"], skip_channels=s["skip_channels"], depth=s["depth"]
            ).to(device)
            z = (0.1 * torch.rand(s["input_depth"], H, W)).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=s["learning_rate"])
        curve = []
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
            common.report_iteration(self.progress, "UnDIP", it, n_iter, lo, hi, curve[-1])
        if A_avg is None:  # n_iter == 0: the untrained network's output
            with torch.no_grad():
                A_avg = net(z).reshape(p, -1)
        return A_avg.cpu().numpy(), curve
