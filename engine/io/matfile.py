"""MATLAB ``.mat`` unmixing datasets (Zhu format and HySUPP/MiSiCNet style).

* Zhu: ``V`` or ``Y`` (L, N) band-major with ``nRow``/``nCol``; pixels in MATLAB
  column-major order (pixel ``n = row + col * nRow``); reference ``A`` (p, N),
  ``M`` (L, p), names ``cood``, in the same file or a separate truth file.
* HySUPP: ``Y`` (L, N) with ``H``/``W`` (row-major, as HySUPP reshapes it) or a
  (H, W, L) cube; ``A``/``A_true`` as (p, N) or (H, W, p); ``E`` (L, p).
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from ..core.errors import DeepUnmixError, InputError, MemoryBudgetError
from ..core.progress import ProgressCallback, report
from .memory import available_bytes, check_allocation

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


#: Deepest nesting of cells/structs/objects read: scipy's reader recurses in C and a file nested thousands deep
#: crashed the whole process (QGIS with it). Unmixing datasets nest two or three deep.
MAX_NESTING = 50
_MI_MATRIX, _MI_COMPRESSED = 14, 15
_CONTAINERS = {1: "cell", 2: "struct", 3: "object", 16: "function handle", 17: "object"}  # mxCLASS ids


def _container_sizes(path: Path, limit: Optional[float]) -> Tuple[int, int]:
    """(bytes, deepest nesting) of the cell, struct and object variables of a MAT v5 file, read without scipy:
    each such variable is decompressed (refused past ``limit`` bytes) and its nested matrices walked with an
    explicit stack, so no structure can exhaust the C stack. Numeric variables are skipped. Not v5: (0, 0)."""
    with open(path, "rb") as fh:
        head = fh.read(128)
        if len(head) < 128 or head[126:128] not in (b"IM", b"MI"):
            return 0, 0  # MAT v4 (numeric matrices only) or not a .mat: scipy says which
        end = "<" if head[126:128] == b"IM" else ">"
        total, deepest = 0, 0
        while True:
            tag = fh.read(8)
            if len(tag) < 8:
                break
            kind, nbytes = struct.unpack(end + "II", tag)
            if kind >> 16:  # a small element: no payload beyond the tag
                continue
            start = fh.tell()
            if kind == _MI_COMPRESSED:  # the first bytes say the class: numeric ones are not decompressed
                head = zlib.decompressobj().decompress(fh.read(min(nbytes, 4096)), 64)
            elif kind == _MI_MATRIX:
                head = tag + fh.read(min(nbytes, 64))
            else:
                fh.seek(start + nbytes)
                continue
            if len(head) >= 24 and struct.unpack(end + "I", head[16:20])[0] & 0xFF in _CONTAINERS:
                fh.seek(start)  # a container: read it whole to walk it
                body = (
                    _inflate(fh, nbytes, limit, path)
                    if kind == _MI_COMPRESSED
                    else tag + _bounded_read(fh, nbytes, limit, path)
                )
                total += len(body)
                deepest = max(deepest, _nesting(body, end, path))
                if limit is not None and total > limit:
                    raise _too_big(path, total)
            fh.seek(start + nbytes)
        return total, deepest


def _too_big(path: Path, size: float) -> MemoryBudgetError:
    return MemoryBudgetError(
        f"{path.name}: its cells/structs decompress to over {size / 2**20:,.0f} MB, more than the memory budget "
        "allows (MEMORY_MB); raise it, or save the arrays as plain variables"
    )


def _bounded_read(fh, nbytes: int, limit: Optional[float], path: Path) -> bytes:
    if limit is not None and nbytes > limit:
        raise _too_big(path, nbytes)
    return fh.read(nbytes)


def _inflate(fh, nbytes: int, limit: Optional[float], path: Path) -> bytes:
    """A compressed element's contents, decompressed piece by piece and refused once past ``limit``."""
    inflater, out, left = zlib.decompressobj(), bytearray(), nbytes
    while left > 0:
        chunk = fh.read(min(left, 1 << 20))
        if not chunk:
            break
        left -= len(chunk)
        out += inflater.decompress(chunk)
        if limit is not None and len(out) > limit:
            raise _too_big(path, len(out))
    return bytes(out)


def _nesting(body: bytes, end: str, path: Path) -> int:
    """Deepest nesting of matrices inside one matrix element (``body``: its tag and data)."""
    deepest = 0
    stack = [(8, min(len(body), 8 + struct.unpack(end + "I", body[4:8])[0]), 1)]
    while stack:
        pos, stop, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_NESTING:
            raise InputError(
                f"{path.name} nests cells/structs more than {MAX_NESTING} deep; DeepUnmix reads unmixing datasets "
                "(plain arrays, or cells and structs a few levels deep)"
            )
        while pos + 8 <= stop:
            kind, nbytes = struct.unpack(end + "II", body[pos : pos + 8])
            if kind >> 16:
                pos += 8
                continue
            if kind == _MI_MATRIX:
                stack.append((pos + 8, min(stop, pos + 8 + nbytes), depth + 1))
            pos += 8 + nbytes + (-nbytes % 8)
    return deepest


def mat_memory_bytes(path: PathLike, limit: Optional[float] = None) -> int:
    """Memory that loading ``path`` needs: numeric variables from their declared shapes (nothing decompressed),
    cells, structs and objects from their decompressed size (refused once past ``limit``); InputError for
    nesting deeper than ``MAX_NESTING``."""
    import scipy.io as sio

    total = 0
    for _, shape, cls in sio.whosmat(str(path)):
        if cls not in ("cell", "struct", "object"):
            total += int(np.prod(shape, dtype=np.float64)) * _ITEMSIZE.get(cls, 8)
    nested, _ = _container_sizes(Path(path), None if limit is None else limit / MAT_WORKING_COPIES)
    return (total + nested) * MAT_WORKING_COPIES


def _load(path: PathLike, max_bytes: Optional[int] = None, progress: ProgressCallback = None) -> Dict[str, np.ndarray]:
    import scipy.io as sio
    from scipy.io.matlab import MatReadError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f".mat file not found: {path}")
    try:
        free = available_bytes()
        limit = min(v for v in (max_bytes, free) if v is not None) if (max_bytes or free) else None
        check_allocation(
            mat_memory_bytes(path, limit),
            f"{path.name} (decompressed, with working copies)",
            max_bytes,
            "raise MEMORY_MB, or crop the data in MATLAB/Python first",
        )
        names = [name for name, _, _ in sio.whosmat(str(path))]
        d = {}
        for k, name in enumerate(names):  # one variable at a time: a cancel waits for one variable, not the file
            report(progress, k / max(1, len(names)), f"reading {name}")
            d.update(sio.loadmat(str(path), variable_names=[name]))
        if not names:
            d = sio.loadmat(str(path))
    except NotImplementedError:
        raise InputError(f"{path.name} is a MATLAB v7.3 (HDF5) file; save it with -v7 or read it with h5py") from None
    except (MatReadError, ValueError, TypeError, EOFError, zlib.error, struct.error, RecursionError) as exc:
        if isinstance(exc, DeepUnmixError):
            raise
        raise InputError(f"{path.name} is not a readable MATLAB .mat file ({exc})") from exc
    return {k: v for k, v in d.items() if not k.startswith("__")}


def _first(d: Dict[str, np.ndarray], *keys: str):
    """The first of ``keys`` in ``d`` as a numeric array (None if none is there); InputError when it is a cell,
    struct, object or text."""
    for k in keys:
        if k in d:
            v = np.asarray(d[k])
            if v.dtype.kind not in "biuf":
                what = {"O": "a cell, struct or object", "U": "text", "S": "text", "V": "a struct"}.get(v.dtype.kind)
                raise InputError(f"the variable {k} is {what or v.dtype}, not a numeric array")
            return v
    return None


def _scalar(d: Dict[str, np.ndarray], *keys: str) -> Optional[int]:
    for k in keys:
        if k in d:
            v = _first(d, k).ravel()
            if v.size != 1 or not np.isfinite(v[0]) or v[0] != int(v[0]) or v[0] < 1:
                raise InputError(f"the variable {k} should be one positive whole number (a size), got {v[:4]}")
            return int(v[0])
    return None


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


def _image_size(d: Dict[str, np.ndarray], n_pixels: int) -> Tuple[int, int, str]:
    """(rows, cols, pixel order) of a flat image: nRow/nCol (Zhu, column-major), H/W (row-major) or a square."""
    nrow, ncol = _scalar(d, "nRow", "nrow"), _scalar(d, "nCol", "ncol")
    if nrow is not None and ncol is not None:
        return nrow, ncol, "F"
    nrow, ncol = _scalar(d, "H", "nr", "rows"), _scalar(d, "W", "nc", "cols")
    if nrow is not None and ncol is not None:
        return nrow, ncol, "C"
    side = int(round(np.sqrt(n_pixels)))
    if side * side != n_pixels:
        raise InputError("the file gives no image size (nRow/nCol or H/W) and the pixel count is not square")
    return side, side, "C"


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
    if n_bands is not None and Y.shape[0] != n_bands and Y.shape[1] == n_bands:
        Y = Y.T
    nrow, ncol, default = _image_size(d, Y.shape[1])
    if Y.shape[1] != nrow * ncol and Y.shape[0] == nrow * ncol:
        Y = Y.T  # (N, L) pixel-major
    if Y.shape[1] != nrow * ncol:
        raise InputError(f"the image variable has {Y.shape[1]} pixels, not the {nrow} x {ncol} its size variables give")
    order = order or default
    return Y.T.reshape(nrow, ncol, Y.shape[0], order=order).transpose(2, 0, 1), order


def load_mat_dataset(
    path: PathLike,
    truth_path: Optional[PathLike] = None,
    order: Optional[str] = None,
    max_bytes: Optional[int] = None,
    progress: ProgressCallback = None,
) -> MatDataset:
    """Load an image (and its reference, from the same file or ``truth_path``).

    ``order``: pixel order of flat (L, N) matrices, 'F' (Zhu) or 'C' (HySUPP); ``max_bytes``: refuse a file
    whose decompressed variables would need more (checked before decompressing).
    """
    report(progress, 0.0, f"reading {Path(path).name}")
    d = _load(path, max_bytes, progress)
    report(progress, 0.5, "image read")
    t = _load(truth_path, max_bytes) if truth_path is not None else d
    report(progress, 0.9, "reference read")
    E = _either(d, t, "M", "E", "E_true", "endmembers")
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
    A = _either(d, t, "A", "A_true", "S", "abundances")
    if A is not None:
        A = _maps(A, H, W, order, None if E is None else E.shape[1])
    p = A.shape[0] if A is not None else (E.shape[1] if E is not None else 0)
    names = _names(next((t[k] for k in ("cood", "names", "labels", "material_names") if k in t), None))
    if len(names) != p:
        names = [f"endmember_{k + 1}" for k in range(p)]
    bands = _first(d, "SlectBands", "slctBnds", "selectBands", "bands")
    bands = None if bands is None else np.asarray(bands).ravel().astype(int)
    if bands is not None and bands.size != L:
        bands = None
    max_value = _first(d, "maxValue", "max_value")
    max_value = float(max_value.ravel()[0]) if max_value is not None and max_value.size == 1 else None
    return MatDataset(
        cube=cube,
        abundances=A,
        endmembers=E,
        names=names,
        wavelengths=_mat_wavelengths(d, L, bands),
        max_value=max_value if max_value and np.isfinite(max_value) and max_value > 0 else None,
        bands=bands,
        sensor_bands=_scalar(d, "nBand") if bands is not None else None,
    )


def _either(d: Dict[str, np.ndarray], t: Dict[str, np.ndarray], *keys: str):
    """The first of ``keys`` in the truth file ``t``, else in the image file ``d``."""
    found = _first(t, *keys)
    return _first(d, *keys) if found is None and t is not d else found


def _mat_wavelengths(d: Dict[str, np.ndarray], L: int, bands: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """(L,) wavelengths in nm, or None; a list for all the sensor's bands is cut to ``bands``."""
    wl = _first(d, "wavelength", "wavelengths", "waveLength", "wl")
    if wl is None:
        return None
    wl = np.asarray(wl, dtype=np.float64).ravel()
    wl = wl * 1000.0 if wl.size and wl.max() < 30 else wl
    if wl.size != L and bands is not None and wl.size >= bands.max():  # the sensor's list: keep the bands'
        wl = wl[bands - 1]
    return wl if wl.size == L else None


def reference_factors(cube: np.ndarray, endmembers: np.ndarray, abundances: np.ndarray) -> np.ndarray:
    """(p,) least-squares factors k with cube ~ ``endmembers @ diag(k) @ abundances`` (all 1: the cube's units)."""
    E = np.asarray(endmembers, dtype=np.float64)
    A = np.asarray(abundances, dtype=np.float64).reshape(E.shape[1], -1)
    Y = np.asarray(cube, dtype=np.float64).reshape(E.shape[0], -1)
    ok = np.all(np.isfinite(Y), axis=0) & np.all(np.isfinite(A), axis=0)
    Y, A = Y[:, ok], A[:, ok]
    gram = (E.T @ E) * (A @ A.T)
    rhs = np.einsum("lj,ln,jn->j", E, Y, A)
    return np.linalg.lstsq(gram, rhs, rcond=None)[0]


def samson(data_dir: Optional[PathLike] = None) -> MatDataset:
    """Samson with the Zhu reference (``end3.mat``: peak-normalised endmembers), names Soil/Tree/Water."""
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
