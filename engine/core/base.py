"""Shared helpers: cube validation and the cube <-> pixel-matrix round trip."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from .errors import InputError, ParameterError
from .params import N_ENDMEMBERS

#: Message of the ``NotFittedError`` that ``transform``/``predict`` raise before ``fit``
#: (``sklearn.utils.validation.check_is_fitted`` fills in the class name).
NOT_FITTED = "%(name)s is not fitted yet: call fit first"


def keep_params(estimator, arguments: dict) -> None:
    """Store an ``__init__``'s arguments (its ``locals()``) unchanged as attributes, as scikit-learn expects."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def check_cube(cube: np.ndarray, min_bands: int = 2) -> np.ndarray:
    """Return ``cube`` as a (bands, rows, cols) float32 array or raise ValueError."""
    cube = np.asarray(cube)
    if cube.ndim != 3:
        raise ValueError(f"expected a (bands, rows, cols) cube, got shape {cube.shape}")
    if cube.shape[0] < min_bands:
        raise InputError(f"the raster has {cube.shape[0]} band(s); unmixing needs at least {min_bands}")
    return cube.astype(np.float32, copy=False)


def valid_mask(cube: np.ndarray, mask: Optional[np.ndarray] = None) -> np.ndarray:
    """Pixels that are usable: inside ``mask`` (True = valid) and finite in every band."""
    valid = np.all(np.isfinite(cube), axis=0)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != cube.shape[1:]:
            raise ValueError(f"mask shape {mask.shape} does not match the image {cube.shape[1:]}")
        valid &= mask
    return valid


def cube_to_pixels(cube: np.ndarray, mask: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Flatten a cube to an (L, n_valid) float64 pixel matrix and the (rows, cols) validity mask."""
    cube = check_cube(cube)
    valid = valid_mask(cube, mask)
    if not valid.any():
        raise InputError("the image has no valid pixel (all nodata or NaN)")
    return cube[:, valid].astype(np.float64), valid


def valid_positions(
    valid: np.ndarray, max_pixels: Optional[int] = None, random_state=None
) -> Tuple[np.ndarray, np.ndarray]:
    """Flat indices of the ``valid`` pixels, and a sorted random sample of at most ``max_pixels`` of them."""
    pos = np.flatnonzero(valid)
    if pos.size == 0:
        raise InputError("the image has no valid pixel (all nodata or NaN)")
    if max_pixels is None or pos.size <= max_pixels:
        return pos, pos
    return pos, np.sort(np.random.default_rng(random_state).choice(pos, int(max_pixels), replace=False))


def pixels_to_maps(values: np.ndarray, valid: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """Scatter a (k, n_valid) matrix back into (k, rows, cols) float32 maps; invalid pixels get ``fill``."""
    values = np.asarray(values)
    out = np.full((values.shape[0],) + valid.shape, fill, dtype=np.float32)
    out[:, valid] = values
    return out


def check_n_endmembers(n_endmembers: int, n_bands: int, n_pixels: int) -> int:
    """Validate the number of endmembers against the data size."""
    n = int(n_endmembers)
    if n < N_ENDMEMBERS.left:
        raise ParameterError(f"the number of endmembers must be at least {N_ENDMEMBERS.left}, got {n}")
    if n > n_bands:
        raise ParameterError(f"{n} endmembers cannot be unmixed from {n_bands} bands")
    if n > n_pixels:
        raise ParameterError(f"{n} endmembers cannot be unmixed from {n_pixels} valid pixels")
    return n
