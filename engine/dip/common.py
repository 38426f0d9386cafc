"""Plumbing shared by BUDDIP and UnDIP: data preparation, size limit, seeding, masked loss, EMA."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..base import check_cube, check_n_endmembers, cube_to_pixels
from ..errors import InputError

# 512 x 512 pixels. Measured here (224 bands, p = 6, one CPU thread): peak memory grows by about
# 9 KB per pixel (65 536 px: +600 MB), so ~2.5 GB at the limit; time per BUDDIP iteration is
# about 40 ms per 10 000 pixels on an idle core (100+ ms under load), so the default 200
# iterations at the limit take roughly 4-10 minutes on a CPU. Larger images are refused.
DEFAULT_MAX_PIXELS = 262_144


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


def prepare(cube: np.ndarray, mask: Optional[np.ndarray], max_pixels: Optional[int], method: str,
            n_endmembers: Optional[int] = None) -> PreparedData:
    """Validate the cube, apply the size limit and flatten the valid pixels."""
    cube = check_cube(cube)
    n_pix = cube.shape[1] * cube.shape[2]
    if max_pixels is not None and n_pix > int(max_pixels):
        raise InputError(
            f"{method} holds the whole image in one network: the image has {cube.shape[1]} x {cube.shape[2]} = "
            f"{n_pix} pixels, more than the limit max_pixels = {int(max_pixels)}. Crop or subset the image, or "
            f"raise max_pixels if you have the memory and time (cost grows linearly with pixels).")
    Y, valid = cube_to_pixels(cube, mask)
    if n_endmembers is not None:
        check_n_endmembers(n_endmembers, Y.shape[0], Y.shape[1])
    scale = float(np.max(np.abs(Y)))
    if not np.isfinite(scale) or scale <= 0:
        raise InputError("the image is zero everywhere; nothing to unmix")
    return PreparedData(cube=cube, valid=valid, Y=Y, scale=scale)


@contextlib.contextmanager
def seeded(torch, random_state: Optional[int], device):
    """Seed torch's global RNG for the block (restoring it afterwards) when random_state is given."""
    if random_state is None:
        yield
        return
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        seed = int(np.random.SeedSequence(random_state).generate_state(1)[0])
        torch.manual_seed(seed)
        yield


def full_pixel_tensor(torch, prep: PreparedData, device):
    """(L, H*W) normalised spectra with invalid pixels set to the mean spectrum, and (H*W,) weights."""
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


def per_pixel_rmse(Y: np.ndarray, E: np.ndarray, A: np.ndarray) -> np.ndarray:
    """RMSE over bands of Y - E A for each pixel column."""
    return np.sqrt(np.mean((Y - E @ A) ** 2, axis=0))
