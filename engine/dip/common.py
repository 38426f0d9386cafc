"""What BUDDIP and UnDIP share: data preparation, size limit, tiles, seeding, masked loss."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator

from ..core.base import check_cube, check_n_endmembers, cube_to_pixels, pixels_to_maps
from ..core.errors import InputError
from ..core.progress import report
from ..core.torch_support import import_torch, resolve_device
from ..core.variants import VariantMixin
from ..reporting.metrics import per_pixel_rmse
from . import tiling

# Peak resident bytes per pixel of one fit (benchmarks/resources.py --case dip_tile_memory, rounded up to cover every measured
# case; tests/engine/dip/test_from_disk.py checks them against its committed results): per band, and per
# activation channel of each architecture.
BYTES_PER_BAND = 72
ACTIVATION_BYTES = {"residual": 20, "skipnet": 10, "unet": 24}


def residual_bytes_per_pixel(n_bands: int, n_endmembers: int, hidden: int) -> float:
    """Peak bytes per pixel of a light residual-network fit (BUDDIP's default): the spectra and the conv
    activations (``6 hidden + 10 p`` channels)."""
    return BYTES_PER_BAND * n_bands + ACTIVATION_BYTES["residual"] * (6 * hidden + 10 * n_endmembers)


def unet_bytes_per_pixel(n_bands: int, n_endmembers: int, widths) -> float:
    """Peak bytes per pixel of the authors' U-Net ADIP (BUDDIP's paper / authors_code variants): the spectra,
    the down path at a quarter of the pixels and the up path at full size."""
    w = list(widths)
    return BYTES_PER_BAND * n_bands + ACTIVATION_BYTES["unet"] * (sum(w) / 4.0 + sum(w[:-1]) + n_endmembers)


def skipnet_bytes_per_pixel(n_bands: int, n_endmembers: int, c_in: int, channels: int, skip: int, depth: int) -> float:
    """Peak bytes per pixel of UnDIP's skip-net: the spectra, and for each level k (at 4^-k of the pixels) its
    skip branch and up path (about 8 channels + 5 skips) and its down path one level lower (6 channels)."""
    features = c_in + 2 * n_endmembers
    for k in range(depth):
        features += (8 * channels + 5 * skip) / 4.0**k + 6 * channels / 4.0 ** (k + 1)
    return BYTES_PER_BAND * n_bands + ACTIVATION_BYTES["skipnet"] * features


@dataclass
class PreparedData:
    """A cube ready for a DIP fit; spectra are divided by ``scale`` (the largest valid value)."""

    cube: np.ndarray  # (L, H, W) float32, original units
    valid: np.ndarray  # (H, W) bool
    Y: np.ndarray  # (L, n_valid) float64, original units
    scale: float

    @property
    def shape(self):
        return self.valid.shape


def check_size(shape, limit: Optional[int], method: str, tiles: bool) -> None:
    """Refuse an image over ``limit`` pixels when tiling is off."""
    n_pix = int(shape[0]) * int(shape[1])
    if limit is not None and n_pix > int(limit) and not tiles:
        raise InputError(
            f"{method} holds the whole image in one network: the image has {shape[0]} x {shape[1]} = "
            f"{n_pix} pixels, more than the limit of {int(limit)} pixels. Allow tiles (tiles=True), crop or "
            f"subset the image, or raise max_pixels if you have the memory and time."
        )


def prepare(cube: np.ndarray, mask: Optional[np.ndarray], n_endmembers: int) -> PreparedData:
    """Validate the cube and the endmember count, and flatten the valid pixels."""
    cube = check_cube(cube)
    Y, valid = cube_to_pixels(cube, mask)
    check_n_endmembers(n_endmembers, Y.shape[0], Y.shape[1])
    scale = float(np.max(np.abs(Y)))
    if not np.isfinite(scale) or scale <= 0:
        raise InputError("the image is zero everywhere; nothing to unmix")
    return PreparedData(cube=cube, valid=valid, Y=Y, scale=scale)


def window(prep: PreparedData, win) -> PreparedData:
    """The part of ``prep`` inside ``win`` (row slice, col slice), in the same ``scale``."""
    sub_valid = prep.valid[win]
    cols = column_index(prep.valid)[win][sub_valid]
    return PreparedData(cube=prep.cube[:, win[0], win[1]], valid=sub_valid, Y=prep.Y[:, cols], scale=prep.scale)


def column_index(valid: np.ndarray) -> np.ndarray:
    """(H, W) int map: column of each valid pixel in the (L, n_valid) matrix, -1 elsewhere."""
    idx = np.full(valid.shape, -1, dtype=np.int64)
    idx[valid] = np.arange(int(valid.sum()))
    return idx


@contextlib.contextmanager
def seeded(random_state: Optional[int], device):
    """Seed torch's global RNG for the block (restoring it afterwards) when random_state is given."""
    torch = import_torch()
    if random_state is None:
        yield
        return
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        seed = int(np.random.SeedSequence(random_state).generate_state(1)[0])
        torch.manual_seed(seed)
        yield


def full_pixel_tensor(prep: PreparedData, device):
    """(L, H*W) normalised spectra with invalid pixels set to the mean spectrum, and (H*W,) weights."""
    torch = import_torch()
    L = prep.cube.shape[0]
    Yfull = np.empty((L, prep.valid.size), dtype=np.float32)
    flat_valid = prep.valid.ravel()
    Yfull[:, flat_valid] = prep.Y / prep.scale
    Yfull[:, ~flat_valid] = (prep.Y.mean(axis=1) / prep.scale)[:, None]
    w = flat_valid.astype(np.float32) / float(flat_valid.sum() * L)
    return torch.from_numpy(Yfull).to(device), torch.from_numpy(w).to(device)


def masked_half_mse(Y, E, A, w):
    """0.5 * mean over valid pixels and bands of (Y - E A)^2; A is (p, H*W), w holds 1/(n_valid L) or 0."""
    R = Y - E @ A
    return 0.5 * (R.pow(2).sum(dim=0) * w).sum()


def report_iteration(progress, method: str, it: int, n_iter: int, lo: float, hi: float, loss: float) -> None:
    """Progress of iteration ``it`` (0-based) of ``n_iter``, mapped to [lo, hi]: about every 1 %, and the last."""
    if (it + 1) % max(1, n_iter // 100) == 0 or it + 1 == n_iter:
        report(
            progress,
            lo + (hi - lo) * (it + 1) / max(n_iter, 1),
            f"{method}: iteration {it + 1}/{n_iter}, loss {loss:.3g}",
        )


class ImagePrior(VariantMixin, BaseEstimator):
    """The fit steps BUDDIP and UnDIP share: the size limit, the first guess, the tiles and the results."""

    def _start(self, cube, mask, p: int, s: dict, message: str):
        """Prepared data, device and tile overlap of a fit; sets the first guess's fitted attributes."""
        prep = prepare(cube, mask, p)
        self._check_image(prep, s)
        device = resolve_device(self.device)  # fail fast (e.g. CUDA asked but absent) before the extraction
        L = prep.Y.shape[0]
        limit = tiling.pixel_limit(s["max_pixels"], device, self.bytes_per_pixel(L), self.memory_mb)
        check_size(prep.shape, limit, type(self).__name__, bool(s["tiles"]))
        report(self.progress, 0.0, message)
        E0, A0, cols = self.guidance(prep.Y)
        self.settings_ = s
        self.n_features_in_ = L
        self.init_endmembers_ = E0
        self.extractor_indices_ = np.argwhere(prep.valid)[cols] if cols is not None and len(cols) == p else None
        self.tiles_, overlap = tiling.tile_windows(prep.shape, limit or prep.valid.size, int(s["tile_overlap"]))
        return prep, device, E0, A0, overlap

    def _check_image(self, prep: PreparedData, s: dict) -> None:
        """Refuse an image the networks cannot take."""

    def _fit_tiles(self, prep: PreparedData, p: int, overlap: int, train):
        """``train(window data, window, lo, hi) -> (endmembers or None, maps (p, n), loss curve)`` on every tile with
        valid pixels; returns the pixel-weighted mean endmembers and the blended maps (p, H, W)."""
        blend = tiling.Blender(p, prep.shape, overlap)
        E_sum, n_sum = 0.0, 0
        self.loss_curve_ = None
        for k, win in enumerate(self.tiles_):
            sub = window(prep, win)
            n = int(sub.valid.sum())
            if n == 0:
                continue
            E, A, curve = train(sub, win, k / len(self.tiles_), (k + 1) / len(self.tiles_))
            if self.loss_curve_ is None:
                self.loss_curve_ = curve
            if E is not None:
                E_sum, n_sum = E_sum + n * E, n_sum + n
            blend.add(win, A.reshape(p, *sub.shape))
        return (E_sum / n_sum if n_sum else None), blend.result()

    def _finish(self, prep: PreparedData, A_valid: np.ndarray):
        """Sets the abundances, the reconstruction error and the iteration count."""
        self.abundances_ = pixels_to_maps(A_valid, prep.valid)
        resid = per_pixel_rmse(prep.Y, self.endmembers_, A_valid.astype(np.float64))
        self.reconstruction_error_ = pixels_to_maps(resid[None], prep.valid)[0]
        self.n_iter_ = len(self.loss_curve_)
        report(self.progress, 1.0, f"{type(self).__name__}: done")
        return self
