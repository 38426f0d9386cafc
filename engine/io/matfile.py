"""MATLAB ``.mat`` unmixing datasets (Zhu format and HySUPP/MiSiCNet style).

* Zhu: ``V`` or ``Y`` (L, N) band-major with ``nRow``/``nCol``; pixels in MATLAB
  column-major order (pixel ``n = row + col * nRow``); reference ``A`` (p, N),
  ``M`` (L, p), names ``cood``, in the same file or a separate truth file.
* HySUPP: ``Y`` (L, N) with ``H``/``W`` (row-major, as HySUPP reshapes it) or a
  (H, W, L) cube; ``A``/``A_true`` as (p, N) or (H, W, p); ``E`` (L, p).
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from ..errors import InputError, MemoryBudgetError
from .memory import check_allocation

__all__ = ["MatDataset", "load_mat_dataset", "reference_factors", "samson", "samson_rasti", "default_data_dir"]

PathLike = Union[str, os.PathLike]
SAMSON_NAMES = ["Soil", "Tree", "Water"]


@dataclass
class MatDataset:
    cube: np.ndarray  # (L, H, W) float32
    abundances: Optional[np.ndarray]  # (p, H, W) float64
    endmembers: Optional[np.ndarray]  # (L, p) float64
    names: List[str]
    wavelengths: Optional[np.ndarray] = None  # (L,) nm
    max_value: Optional[float] = None  # the file's full-scale value ('maxValue'); the cube is as stored
    bands: Optional[np.ndarray] = None  # (L,) the sensor's 1-based band numbers ('SlectBands'), None if not given
    sensor_bands: Optional[int] = None  # the sensor's band count ('nBand') when the file gives the band numbers


def default_data_dir() -> Path:
    """``$DEEPUNMIX_SHARED_DATA`` or ``<repo>/../shared/data``."""
    env = os.environ.get("DEEPUNMIX_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


_ITEMSIZE = {
    "double": 8,
    "single": 4,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "uint16": 2,
    "int32": 4,
    "uint32": 4,
    "int64": 8,
    "uint64": 8,
    "logical": 1,
    "char": 4,
}
# the image is converted to a float32 cube and its reference to float64: about two more copies
MAT_WORKING_COPIES = 3


def mat_memory_bytes(path: PathLike) -> int:
    """Memory that loading ``path`` needs, from the variables' declared shapes (nothing decompressed)."""
    import scipy.io as sio

    total = 0
    for _, shape, cls in sio.whosmat(str(path)):
        total += int(np.prod(shape, dtype=np.float64)) * _ITEMSIZE.get(cls, 8)
    return total * MAT_WORKING_COPIES


def _load(path: PathLike, max_bytes: Optional[int] = None) -> Dict[str, np.ndarray]:
    import scipy.io as sio
    from scipy.io.matlab import MatReadError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f".mat file not found: {path}")
    try:
        if max_bytes is not None:
            check_allocation(
                mat_memory_bytes(path),
                f"{path.name} (decompressed, with working copies)",
                max_bytes,
                "raise MEMORY_MB, or crop the data in MATLAB/Python first",
            )
        d = sio.loadmat(str(path))
    except NotImplementedError:
        raise InputError(f"{path.name} is a MATLAB v7.3 (HDF5) file; save it with -v7 or read it with h5py") from None
    except (MatReadError, ValueError, TypeError, EOFError, zlib.error) as exc:
        if isinstance(exc, MemoryBudgetError):
            raise
        raise InputError(f"{path.name} is not a readable MATLAB .mat file ({exc})") from exc
    return {k: v for k, v in d.items() if not k.startswith("__")}


def _first(d: Dict[str, np.ndarray], *keys: str):
    for k in keys:
        if k in d:
            return np.asarray(d[k])
    return None


def _scalar(d: Dict[str, np.ndarray], *keys: str) -> Optional[int]:
    v = _first(d, *keys)
    return None if v is None else int(np.asarray(v).ravel()[0])


def _names(raw) -> List[str]:
    """Decode MATLAB cell arrays of strings or char matrices."""
    if raw is None:
        return []
    raw = np.asarray(raw)
    if raw.dtype.kind in "ui":  # char codes, one name per row
        return [bytes(r.astype(np.uint8)).decode("latin1").replace("\x00", " ").strip() for r in raw]
    if raw.dtype.kind in "US":
        return [str(s).strip() for s in raw.ravel()]
    out = []
    for item in raw.ravel():
        item = np.asarray(item)
        out.append(str(item.ravel()[0]).strip() if item.size else "")
    return out


def _maps(X: np.ndarray, H: int, W: int, order: str, n_first: Optional[int] = None) -> np.ndarray:
    """(k, N) or (H, W, k) or (k, H, W) -> (k, H, W)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 2:
        if X.shape[1] != H * W and X.shape[0] == H * W:
            X = X.T
        if X.shape[1] != H * W:
            raise InputError(f"matrix of shape {X.shape} does not hold {H}x{W} pixels")
        return X.T.reshape(H, W, X.shape[0], order=order).transpose(2, 0, 1)
    if X.ndim == 3:
        if X.shape[:2] == (H, W) and (n_first is None or X.shape[2] == n_first):
            return X.transpose(2, 0, 1)
        if X.shape[1:] == (H, W):
            return X
    raise InputError(f"array of shape {X.shape} does not match a {H}x{W} image")


def _cube(d: Dict[str, np.ndarray], order: Optional[str], n_bands: Optional[int]) -> Tuple[np.ndarray, str]:
    Y = _first(d, "V", "Y", "X", "data", "cube")
    if Y is None:
        raise InputError(f"no image variable (V, Y, X, data, cube) among {sorted(d)}")
    Y = np.asarray(Y, dtype=np.float32)
    if Y.ndim == 3:
        if n_bands is not None and Y.shape[0] == n_bands and Y.shape[2] != n_bands:
            return Y, "C"  # already (L, H, W)
        return Y.transpose(2, 0, 1), "C"  # (H, W, L), the HySUPP/MiSiCNet layout
    if Y.ndim != 2:
        raise InputError(f"image variable has shape {Y.shape}")
    nrow, ncol = _scalar(d, "nRow", "nrow"), _scalar(d, "nCol", "ncol")
    if nrow is not None and ncol is not None:
        default = "F"  # Zhu / MATLAB column-major pixels
    else:
        nrow, ncol = _scalar(d, "H", "nr", "rows"), _scalar(d, "W", "nc", "cols")
        default = "C"
    if n_bands is not None and Y.shape[0] != n_bands and Y.shape[1] == n_bands:
        Y = Y.T
    if nrow is None or ncol is None:
        side = int(round(np.sqrt(Y.shape[1])))
        if side * side != Y.shape[1]:
            raise InputError("the file gives no image size (nRow/nCol or H/W) and the pixel count is not square")
        nrow = ncol = side
    if Y.shape[1] != nrow * ncol and Y.shape[0] == nrow * ncol:
        Y = Y.T  # (N, L) pixel-major
    order = order or default
    return Y.T.reshape(nrow, ncol, Y.shape[0], order=order).transpose(2, 0, 1), order


def load_mat_dataset(
    path: PathLike, truth_path: Optional[PathLike] = None, order: Optional[str] = None, max_bytes: Optional[int] = None
) -> MatDataset:
    """Load an image (and its reference, from the same file or ``truth_path``).

    ``order`` overrides the pixel order of flat (L, N) matrices: 'F' (Zhu,
    default when nRow/nCol are present) or 'C' (HySUPP H/W files). ``max_bytes``:
    refuse (MemoryBudgetError) a file whose decompressed variables would need more,
    before decompressing anything; free memory is checked too.
    """
    d = _load(path, max_bytes)
    t = _load(truth_path, max_bytes) if truth_path is not None else d
    E = _first(t, "M", "E", "E_true", "endmembers")
    if E is None and t is not d:
        E = _first(d, "M", "E", "E_true", "endmembers")
    n_bands = None
    img = _first(d, "V", "Y", "X", "data", "cube")
    if E is not None and E.ndim == 2 and img is not None:
        dims = set(img.shape)
        n_bands = E.shape[0] if E.shape[0] in dims else (E.shape[1] if E.shape[1] in dims else None)
    cube, order = _cube(d, order, n_bands)
    L, H, W = cube.shape
    if E is not None:
        E = np.asarray(E, dtype=np.float64)
        if E.shape[0] != L and E.shape[1] == L:
            E = E.T
        if E.shape[0] != L:
            raise InputError(f"endmembers of shape {E.shape} do not match {L} bands")
    A = _first(t, "A", "A_true", "S", "abundances")
    if A is None and t is not d:
        A = _first(d, "A", "A_true", "S", "abundances")
    if A is not None:
        A = _maps(A, H, W, order, None if E is None else E.shape[1])
    p = A.shape[0] if A is not None else (E.shape[1] if E is not None else 0)
    names = _names(_first(t, "cood", "names", "labels", "material_names"))
    if len(names) != p:
        names = [f"endmember_{k + 1}" for k in range(p)]
    bands = _first(d, "SlectBands", "slctBnds", "selectBands", "bands")
    bands = None if bands is None else np.asarray(bands).ravel().astype(int)
    if bands is not None and bands.size != L:
        bands = None
    wl = _first(d, "wavelength", "wavelengths", "waveLength", "wl")
    if wl is not None:
        wl = np.asarray(wl, dtype=np.float64).ravel()
        wl = wl * 1000.0 if wl.size and wl.max() < 30 else wl
        if wl.size != L and bands is not None and wl.size >= bands.max():  # the sensor's list: keep the bands'
            wl = wl[bands - 1]
        if wl.size != L:
            wl = None
    max_value = _first(d, "maxValue", "max_value")
    max_value = float(max_value.ravel()[0]) if max_value is not None and max_value.size == 1 else None
    return MatDataset(
        cube=cube,
        abundances=A,
        endmembers=E,
        names=names,
        wavelengths=wl,
        max_value=max_value if max_value and np.isfinite(max_value) and max_value > 0 else None,
        bands=bands,
        sensor_bands=_scalar(d, "nBand") if bands is not None else None,
    )


def reference_factors(cube: np.ndarray, endmembers: np.ndarray, abundances: np.ndarray) -> np.ndarray:
    """(p,) factors k that best reconstruct the cube as ``endmembers @ diag(k) @ abundances`` (least squares).

    All about 1: the reference is in the cube's units. All about one k: the cube is k times the
    reference's units. Unequal: each endmember has its own normalisation (e.g. peak-normalised spectra).
    """
    E = np.asarray(endmembers, dtype=np.float64)
    A = np.asarray(abundances, dtype=np.float64).reshape(E.shape[1], -1)
    Y = np.asarray(cube, dtype=np.float64).reshape(E.shape[0], -1)
    ok = np.all(np.isfinite(Y), axis=0) & np.all(np.isfinite(A), axis=0)
    Y, A = Y[:, ok], A[:, ok]
    gram = (E.T @ E) * (A @ A.T)
    rhs = np.einsum("lj,ln,jn->j", E, Y, A)
    return np.linalg.lstsq(gram, rhs, rcond=None)[0]


def samson(data_dir: Optional[PathLike] = None) -> MatDataset:
    """Samson (95 x 95, 156 bands) with the Zhu reference (``end3.mat``), names Soil/Tree/Water.

    Note: reference endmembers are peak-normalised, not in the data's scale.
    """
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    folder = root / "samson" if (root / "samson").is_dir() else root
    ds = load_mat_dataset(folder / "samson_1.mat", folder / "end3.mat")
    ds.names = list(SAMSON_NAMES)
    return ds


def samson_rasti(data_dir: Optional[PathLike] = None) -> MatDataset:
    """Samson with the Rasti et al. (MiSiCNet/HySUPP) reference ``rasti_reference/{A_true,E}.mat``."""
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    folder = root / "samson" if (root / "samson").is_dir() else root
    ds = load_mat_dataset(folder / "samson_1.mat")
    ref = folder / "rasti_reference"
    A = _load(ref / "A_true.mat")["A_true"]
    E = np.asarray(_load(ref / "E.mat")["E"], dtype=np.float64)
    _, H, W = ds.cube.shape
    return MatDataset(
        cube=ds.cube,
        abundances=_maps(A, H, W, "C", E.shape[1]),
        endmembers=E,
        names=list(SAMSON_NAMES),
        wavelengths=None,
    )
