"""Synthetic hyperspectral scenes with known endmembers and abundances, and the USGS library loader.

SNR convention: ``SNR_dB = 10 log10(mean(Y**2) / sigma**2)``, Y the noise-free data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
from scipy.ndimage import gaussian_filter

__all__ = ["SyntheticScene", "procedural_library", "make_patch_scene", "make_mixed_scene", "usgs_library", "add_noise"]


@dataclass
class SyntheticScene:
    """A generated scene; ``cube = endmembers @ abundances + noise``."""

    cube: np.ndarray  # (L, H, W) float32
    abundances: np.ndarray  # (p, H, W) float64, ANC + ASC
    endmembers: np.ndarray  # (L, p) float64
    wavelengths: Optional[np.ndarray]  # (L,) nm or None
    names: List[str]
    snr_db: Optional[float] = None
    noise_std: float = 0.0
    library_indices: Optional[np.ndarray] = field(default=None)  # columns taken from the library


def _sad_deg(a: np.ndarray, B: np.ndarray) -> np.ndarray:
    cos = (B.T @ a) / (np.linalg.norm(B, axis=0) * np.linalg.norm(a) + 1e-300)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _smooth_spectrum(rng: np.random.Generator, wl: np.ndarray) -> np.ndarray:
    """One smooth spectrum: sigmoid continuum steps minus Gaussian absorption bands."""
    s = np.full(wl.shape, rng.uniform(0.2, 0.6))
    for _ in range(rng.integers(1, 4)):
        centre = rng.uniform(wl[0], wl[-1])
        width = rng.uniform(40.0, 300.0)
        s += rng.uniform(-0.4, 0.4) / (1.0 + np.exp(-(wl - centre) / width))
    for _ in range(rng.integers(2, 6)):
        centre = rng.uniform(wl[0], wl[-1])
        width = rng.uniform(30.0, 150.0)
        s -= rng.uniform(0.05, 0.3) * np.exp(-0.5 * ((wl - centre) / width) ** 2)
    lo = rng.uniform(0.05, 0.5)
    hi = rng.uniform(lo + 0.15, 0.95)
    return lo + (hi - lo) * (s - s.min()) / (np.ptp(s) + 1e-12)


def procedural_library(
    n_bands: int = 224,
    n_spectra: int = 20,
    wavelength_range: Tuple[float, float] = (400.0, 2500.0),
    min_sad_deg: float = 10.0,
    random_state: Optional[int] = 0,
    max_tries: int = 100000,
) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    """Smooth spectra in (0.05, 0.95) pairwise more than ``min_sad_deg`` apart: (spectra (L, k), nm (L,), names)."""
    rng = np.random.default_rng(random_state)
    wl = np.linspace(wavelength_range[0], wavelength_range[1], n_bands)
    spectra: List[np.ndarray] = []
    for _ in range(max_tries):
        s = _smooth_spectrum(rng, wl)
        if not spectra or _sad_deg(s, np.stack(spectra, axis=1)).min() > min_sad_deg:
            spectra.append(s)
            if len(spectra) == n_spectra:
                break
    else:
        raise ValueError(f"could not draw {n_spectra} spectra more than {min_sad_deg} deg apart")
    names = [f"synthetic_{k + 1:02d}" for k in range(n_spectra)]
    return np.stack(spectra, axis=1), wl, names


def _pick_endmembers(library: np.ndarray, p: int, rng: np.random.Generator, min_sad_deg: float) -> np.ndarray:
    """Random distinct library columns, each more than ``min_sad_deg`` from those already chosen."""
    chosen: List[int] = []
    for j in rng.permutation(library.shape[1]):
        if not chosen or _sad_deg(library[:, j], library[:, chosen]).min() > min_sad_deg:
            chosen.append(int(j))
            if len(chosen) == p:
                return np.array(chosen)
    raise ValueError(f"the library has fewer than {p} spectra more than {min_sad_deg} deg apart")


def add_noise(Y: np.ndarray, snr_db: Optional[float], rng: np.random.Generator) -> Tuple[np.ndarray, float]:
    """White Gaussian noise at ``snr_db`` (mean signal power over noise variance); None = no noise."""
    if snr_db is None:
        return Y.copy(), 0.0
    std = float(np.sqrt(np.mean(Y**2) / 10.0 ** (snr_db / 10.0)))
    return Y + rng.normal(0.0, std, size=Y.shape), std


def _library_or_default(library, wavelengths, names, p):
    if library is None:
        library, wavelengths, names = procedural_library(n_spectra=max(20, p))
    library = np.asarray(library, dtype=np.float64)
    if library.ndim != 2:
        raise ValueError(f"library must be (bands, spectra), got shape {library.shape}")
    if library.shape[1] < p:
        raise ValueError(f"the library has {library.shape[1]} spectra, {p} endmembers requested")
    if names is None:
        names = [f"endmember_{k + 1}" for k in range(library.shape[1])]
    return library, wavelengths, list(names)


def _scene(E, A, snr_db, rng, wavelengths, names, idx) -> SyntheticScene:
    p, H, W = A.shape
    Y = E @ A.reshape(p, -1)
    Y, std = add_noise(Y, snr_db, rng)
    cube = Y.reshape(-1, H, W).astype(np.float32)
    wl = None if wavelengths is None else np.asarray(wavelengths, dtype=np.float64)
    return SyntheticScene(
        cube=cube,
        abundances=A,
        endmembers=E,
        wavelengths=wl,
        names=[names[i] for i in idx],
        snr_db=snr_db,
        noise_std=std,
        library_indices=idx,
    )


def make_patch_scene(
    size: int = 100,
    n_endmembers: int = 6,
    snr_db: Optional[float] = 30.0,
    library: Optional[np.ndarray] = None,
    wavelengths: Optional[np.ndarray] = None,
    names: Optional[Sequence[str]] = None,
    n_patches: int = 100,
    fractions: Tuple[float, float] = (0.8, 0.2),
    filter_size: int = 11,
    sigma: Optional[float] = None,
    min_sad_deg: float = 5.0,
    pure_patches: float = 0.0,
    random_state: Optional[int] = None,
) -> SyntheticScene:
    """BUDDIP-paper synthetic scene (``pure_patches=0``), or one with near-pure regions as real scenes have.

    ``n_patches`` (a square number) grid patches each mix two random endmembers with ``fractions``; the maps
    are blurred by a ``filter_size`` Gaussian (sigma = (filter_size - 1) / 4), rescaled to sum to one, mixed
    and given white noise at ``snr_db``. ``pure_patches`` is the share of patches holding one endmember alone.
    """
    rng = np.random.default_rng(random_state)
    p = int(n_endmembers)
    if p < 2:
        raise ValueError("n_endmembers must be at least 2")
    grid = int(round(np.sqrt(n_patches)))
    if grid * grid != n_patches or grid > size:
        raise ValueError(f"n_patches must be a square number with sqrt(n_patches) <= size, got {n_patches}")
    library, wavelengths, names = _library_or_default(library, wavelengths, names, p)
    idx = _pick_endmembers(library, p, rng, min_sad_deg)
    E = library[:, idx]

    edges = np.round(np.linspace(0, size, grid + 1)).astype(int)
    A = np.zeros((p, size, size))
    n_pure = int(round(float(pure_patches) * n_patches))
    # no draw when there are none: the paper's scenes stay as they were
    pure = sorted(rng.permutation(n_patches)[:n_pure].tolist()) if n_pure else []
    for i in range(grid):
        for j in range(grid):
            a, b = rng.choice(p, size=2, replace=False)
            cells = (slice(edges[i], edges[i + 1]), slice(edges[j], edges[j + 1]))
            if i * grid + j in pure:
                A[(pure.index(i * grid + j) % p, *cells)] = 1.0
                continue
            A[(a, *cells)] = fractions[0]
            A[(b, *cells)] += fractions[1]
    if filter_size and filter_size > 1:
        radius = (filter_size - 1) / 2.0
        sig = radius / 2.0 if sigma is None else float(sigma)
        A = np.stack([gaussian_filter(a, sigma=sig, truncate=radius / sig, mode="reflect") for a in A])
    A = np.maximum(A, 0.0)
    A /= A.sum(axis=0, keepdims=True)
    return _scene(E, A, snr_db, rng, wavelengths, names, idx)


def make_mixed_scene(
    size: Union[int, Tuple[int, int]] = 50,
    n_endmembers: int = 4,
    pure_pixels: bool = True,
    alpha: float = 1.0,
    snr_db: Optional[float] = None,
    library: Optional[np.ndarray] = None,
    wavelengths: Optional[np.ndarray] = None,
    names: Optional[Sequence[str]] = None,
    min_sad_deg: float = 5.0,
    random_state: Optional[int] = None,
) -> SyntheticScene:
    """Dirichlet(``alpha``) abundances; with ``pure_pixels``, pixel k < p (row-major) is endmember k alone."""
    rng = np.random.default_rng(random_state)
    H, W = (size, size) if np.isscalar(size) else tuple(int(s) for s in size)
    p = int(n_endmembers)
    if pure_pixels and H * W < p:
        raise ValueError(f"a {H}x{W} image cannot hold {p} pure pixels")
    library, wavelengths, names = _library_or_default(library, wavelengths, names, p)
    idx = _pick_endmembers(library, p, rng, min_sad_deg)
    E = library[:, idx]
    A = rng.dirichlet(np.full(p, float(alpha)), size=H * W).T
    if pure_pixels:
        A[:, :p] = np.eye(p)
    return _scene(E, A.reshape(p, H, W), snr_db, rng, wavelengths, names, idx)


def _decode_names(chars: np.ndarray) -> List[str]:
    return [bytes(np.asarray(r, dtype=np.uint8)).decode("latin1").replace("\x00", " ").strip() for r in chars]


def usgs_library(
    path: Union[str, os.PathLike], sort_wavelengths: bool = True
) -> Tuple[np.ndarray, Optional[np.ndarray], List[str]]:
    """Load a USGS library ``.mat`` (``USGS_1995_Library``, ``USGS_pruned_*``) or a folder holding them.

    Returns ``(spectra (L, k), wavelengths_um (L,) or None, names)``; spectra with marker or non-finite values
    are dropped and bands sorted by wavelength when known.
    """
    import scipy.io as sio

    path = Path(path)
    if path.is_dir():
        path = path / "USGS_1995_Library.mat"
    if not path.exists():
        raise FileNotFoundError(f"USGS library not found: {path}")
    d = sio.loadmat(str(path))
    wl = None
    if "datalib" in d and "names" in d:
        lib, names = np.asarray(d["datalib"], dtype=np.float64), _decode_names(d["names"])
    elif "B" in d and "names_B" in d:
        lib, names = np.asarray(d["B"], dtype=np.float64), _decode_names(d["names_B"])
    else:
        raise ValueError(f"{path.name}: no 'datalib'/'names' or 'B'/'names_B' variables")
    if names and names[0].lower().startswith("wavelength"):  # full library: metadata columns first
        wl = lib[:, 0].copy()
        lib, names = lib[:, 3:], names[3:]
    else:
        sibling = path.with_name("USGS_1995_Library.mat")
        if sibling.exists() and sibling != path:
            full = sio.loadmat(str(sibling), variable_names=["datalib"])["datalib"]
            if full.shape[0] == lib.shape[0]:
                wl = np.asarray(full[:, 0], dtype=np.float64)
    ok = np.all(np.isfinite(lib) & (np.abs(lib) < 1e30), axis=0)
    lib, names = lib[:, ok], [n for n, k in zip(names, ok) if k]
    if wl is not None and sort_wavelengths:
        order = np.argsort(wl, kind="stable")
        lib, wl = lib[order], wl[order]
    return lib, wl, names
