"""Raster input/output through rasterio (any GDAL-readable multiband raster in, GeoTIFF out).

Validity rule (used by ``read_raster`` and ``engine.io.blockwise``): a pixel is
invalid when any band is NaN/inf, when it equals the band nodata value in at
least half of the bands that declare one (a band or a few at their nodata value
are kept, since real data can hit that value), or when the file's mask band
(a GeoTIFF internal or ``.msk`` mask, or an alpha band) marks it 0. Invalid
pixels are NaN in the returned cube and False in the mask. Alpha bands are
not spectral bands: they are listed in ``bad_bands``.

Wavelengths are returned in nanometres: taken from GDAL band metadata
``wavelength`` (+ ``wavelength_units``), else from the ENVI header
(``wavelength = {...}``, ``wavelength units``) in the ``ENVI`` or default metadata
domain. Micrometre units (or, with no usable units, all values < 30) are
converted to nm. The ENVI bad band list ``bbl`` becomes ``bad_bands`` (True = bad).

Writers go through a temporary file in the destination folder and
``os.replace``, so a failed write never leaves a file that looks finished.
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..core.errors import InputError, MemoryBudgetError, OutputError
from .write_checks import check_hfa_size, clean_stale, gdal_errors, name_max, temp_path

__all__ = [
    "RasterData",
    "RasterInfo",
    "read_raster",
    "raster_info",
    "write_abundances",
    "write_cube",
    "pixel_validity",
    "read_block",
    "atomic_output",
    "output_transaction",
    "open_raster",
    "output_profile",
    "output_driver",
    "source_transform",
    "OUTPUT_NODATA",
]

OUTPUT_NODATA = -9999.0
PathLike = Union[str, os.PathLike]

_MICRO = {"micrometers", "micrometer", "micrometres", "micrometre", "microns", "micron", "um", "µm", "μm"}
_NANO = {"nanometers", "nanometer", "nanometres", "nanometre", "nm"}


@dataclass
class RasterInfo:
    """Cheap metadata of a raster (no pixels read)."""

    path: str
    count: int
    width: int
    height: int
    dtype: str
    nodata: Optional[float]
    nodatavals: Tuple[Optional[float], ...]
    wavelengths: Optional[np.ndarray]  # (count,) nm
    bad_bands: Optional[np.ndarray]  # (count,) bool, True = bad
    band_names: List[str]
    crs: Any
    transform: Any
    block_shape: Tuple[int, int]  # (rows, cols) of the internal blocks of band 1


@dataclass
class RasterData:
    """A raster read into memory: ``cube`` (bands, rows, cols) float32, ``mask`` True = valid."""

    cube: np.ndarray
    mask: np.ndarray
    wavelengths: Optional[np.ndarray]
    band_names: List[str]
    profile: Dict[str, Any]
    transform: Any
    crs: Any
    nodata: Optional[float]
    bad_bands: Optional[np.ndarray] = None
    bands: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # 1-based band numbers read


# ---------------------------------------------------------------- metadata parsing
def _parse_numbers(text: str) -> List[float]:
    """'{0.45, 0.55 ,0.65}' or '0.45,0.55' -> [0.45, 0.55, 0.65]."""
    parts = [p for p in re.split(r"[,\s{}]+", str(text)) if p]
    return [float(p) for p in parts]


def _to_nm(values: np.ndarray, units: Optional[str]) -> np.ndarray:
    u = (units or "").strip().lower()
    if u in _MICRO:
        return values * 1000.0
    if u in _NANO:
        return values
    if np.nanmax(values) < 30.0:  # no usable units: micrometres judged from the values
        return values * 1000.0
    return values


def _get(tags: Dict[str, str], *keys: str) -> Optional[str]:
    low = {k.lower(): v for k, v in tags.items()}
    for k in keys:
        if k in low:
            return low[k]
    return None


def _wavelengths(ds) -> Optional[np.ndarray]:
    n = ds.count
    # 1) per-band GDAL metadata (GDAL's ENVI driver also fills it); IMAGERY-domain style in micrometres
    vals, units = [], None
    for b in range(1, n + 1):
        t = ds.tags(b)
        if "IMAGERY" in (ds.tag_namespaces(b) or []):
            t = {**ds.tags(b, ns="IMAGERY"), **t}
        w, u = _get(t, "wavelength"), _get(t, "wavelength_units", "wavelength units")
        if w is None and _get(t, "central_wavelength_um") is not None:
            w, u = _get(t, "central_wavelength_um"), "um"
        try:
            vals.append(float(w))
        except (TypeError, ValueError):
            break
        units = u or units
    if len(vals) == n:
        return _to_nm(np.asarray(vals, dtype=np.float64), units)
    # 2) ENVI header / dataset-level metadata
    for ns in ("ENVI", None):
        t = ds.tags(ns=ns) if ns else ds.tags()  # a missing domain gives {}
        w = _get(t, "wavelength")
        if w is None:
            continue
        try:
            arr = np.asarray(_parse_numbers(w), dtype=np.float64)
        except ValueError:
            continue
        if arr.size == n:
            return _to_nm(arr, _get(t, "wavelength_units", "wavelength units"))
    return None


def _bad_bands(ds) -> Optional[np.ndarray]:
    """The ENVI bad-band list (True = bad), with any alpha band added; None when neither is there."""
    from rasterio.enums import ColorInterp

    alpha = np.array([ci == ColorInterp.alpha for ci in ds.colorinterp], dtype=bool)
    bbl = _envi_bad_bands(ds)
    if not alpha.any():
        return bbl
    return alpha if bbl is None else bbl | alpha


def _envi_bad_bands(ds) -> Optional[np.ndarray]:
    for ns in ("ENVI", None):
        t = ds.tags(ns=ns) if ns else ds.tags()
        bbl = _get(t, "bbl")
        if bbl is None:
            continue
        try:
            arr = np.asarray(_parse_numbers(bbl))
        except ValueError:
            raise InputError(f"{Path(ds.name).name}: the ENVI bad-band list (bbl) is not a list of numbers") from None
        if arr.size != ds.count:
            raise InputError(
                f"{Path(ds.name).name}: the ENVI bad-band list (bbl) has {arr.size} entries for "
                f"{ds.count} bands; fix the header's bbl (one 0/1 per band) or remove it"
            )
        return arr == 0
    return None


def _band_names(ds) -> List[str]:
    return [d if d else f"Band {i + 1}" for i, d in enumerate(ds.descriptions)]


def _primary_nodata(nodatavals: Sequence[Optional[float]]) -> Optional[float]:
    return next((v for v in nodatavals if v is not None), None)


def open_raster(path: PathLike, mode: str = "r", **kwargs):
    """``rasterio.open`` without the NotGeoreferencedWarning (plain arrays are fine here)."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        ds = rasterio.open(_pending_path(path) if mode == "r" else path, mode, **kwargs)
    if mode == "r" and ds.driver == "ENVI":
        _check_raw_size(ds)
    if mode == "r" and any("complex" in str(d) for d in ds.dtypes):
        ds.close()
        raise InputError(
            f"{Path(str(path)).name} holds complex numbers ({ds.dtypes[0]}); unmixing needs real values: "
            "convert it first (e.g. its amplitude with gdal_calc.py or the Raster calculator)"
        )
    return ds


def source_transform(ds):
    """The dataset's geotransform, or None when the file has none.

    rasterio reports GDAL's default (0, 1, 0, 0, 0, 1) for a file without one; written out, that
    positive pixel height makes QGIS draw the output flipped, away from its input.
    """
    from rasterio.errors import NotGeoreferencedWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NotGeoreferencedWarning)
        ds.read_transform()
    return None if any(issubclass(w.category, NotGeoreferencedWarning) for w in caught) else ds.transform


def raster_info(path: PathLike) -> RasterInfo:
    """Size, data type, nodata, wavelengths etc. of a raster without reading pixels."""
    with open_raster(path) as ds:
        _check_last_block(ds)  # but one block: a file cut short is refused here
        return RasterInfo(
            path=str(path),
            count=ds.count,
            width=ds.width,
            height=ds.height,
            dtype=ds.dtypes[0],
            nodata=_primary_nodata(ds.nodatavals),
            nodatavals=tuple(ds.nodatavals),
            wavelengths=_wavelengths(ds),
            bad_bands=_bad_bands(ds),
            band_names=_band_names(ds),
            crs=ds.crs,
            transform=source_transform(ds),
            block_shape=tuple(ds.block_shapes[0]),
        )


def _check_raw_size(ds) -> None:
    """InputError (the dataset closed) when an ENVI data file is shorter than its header says: GDAL would read
    the missing part as zeros (an interrupted copy)."""
    data = ds.files[0] if ds.files else ds.name
    try:
        offset = int(float(_get(ds.tags(ns="ENVI"), "header_offset") or 0))
        have = os.path.getsize(data)
    except (OSError, ValueError):
        return
    need = offset + ds.count * ds.width * ds.height * np.dtype(ds.dtypes[0]).itemsize
    if have < need:
        ds.close()
        raise InputError(
            f"{Path(data).name} is cut short: {have:,} bytes where its header describes {need:,} "
            f"({ds.count} bands x {ds.height} x {ds.width}); an interrupted copy? Copy it again"
        )


def unreadable_message(path: PathLike) -> Optional[str]:
    """Why ``path`` cannot be read as a raster (missing, empty, text, cut short, not a raster), or None."""
    path = Path(path)
    if not path.exists():
        return f"{path.name}: file not found ({path})"
    if path.is_dir():
        return f"{path.name} is a folder, not a raster file"
    if path.stat().st_size == 0:
        return f"{path.name} is empty (0 bytes): a failed download or copy?"
    try:
        raster_info(path)
    except InputError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - any reader failure is the answer
        with open(path, "rb") as fh:
            head = fh.read(512)
        if head and all(32 <= b < 127 or b in b"\r\n\t" for b in head):
            return f"{path.name} is a text file, not a raster (it starts with {head[:40].decode()!r})"
        return f"{path.name} is not a raster GDAL can read, or it is damaged ({exc})"
    return None


def _check_last_block(ds) -> None:
    """InputError when the last block of the last band cannot be read: a file cut short (an interrupted copy)
    keeps its header, so GDAL opens it and fails only when the missing part is read."""
    h, w = (int(v) for v in ds.block_shapes[-1])
    row, col = (ds.height - 1) // h * h, (ds.width - 1) // w * w
    try:
        ds.read(ds.count, window=_window((row, col, min(h, ds.height - row), min(w, ds.width - col))))
    except Exception as exc:
        raise InputError(
            f"{Path(ds.name).name} is damaged or cut short (an interrupted copy?): its last block cannot be read "
            f"({exc})"
        ) from exc


# ---------------------------------------------------------------- reading
def _band_list(bands: Optional[Sequence[int]], count: int) -> List[int]:
    if bands is None:
        return list(range(1, count + 1))
    out = [int(b) for b in bands]
    bad = [b for b in out if not 1 <= b <= count]
    if bad:
        raise InputError(f"band numbers {bad} are outside 1..{count}")
    if not out:
        raise ValueError("no band selected")
    return out


def _window(window):
    from rasterio.windows import Window

    if window is None or isinstance(window, Window):
        return window
    row_off, col_off, height, width = (int(v) for v in window)
    return Window(col_off, row_off, width, height)


def default_bands(ds, bands: Optional[Sequence[int]] = None) -> List[int]:
    """``bands`` checked, or when None every band except those in the ENVI bad-band list and alpha bands."""
    if bands is None:
        bad = _bad_bands(ds)
        if bad is not None and not bad.all():
            bands = [b for b in range(1, ds.count + 1) if not bad[b - 1]]
    return _band_list(bands, ds.count)


def pixel_validity(raw: np.ndarray, nodatavals: Sequence[Optional[float]], use_nodata: bool = True) -> np.ndarray:
    """(rows, cols) validity of a raw (bands, rows, cols) block (see the module docstring)."""
    valid = np.ones(raw.shape[1:], dtype=bool)
    if raw.dtype.kind == "f":
        valid &= np.all(np.isfinite(raw), axis=0)
    if use_nodata:
        with_nd = [(i, v) for i, v in enumerate(nodatavals) if v is not None and not np.isnan(v)]
        if with_nd:
            at_nd = np.zeros(raw.shape[1:], dtype=np.int32)
            for i, v in with_nd:
                # float32 data holds the nodata value rounded to float32 (as GDAL compares it);
                # other types compare by value, so an unrepresentable nodata matches nothing
                at_nd += raw[i] == (np.float32(v) if raw.dtype == np.float32 else v)
            valid &= 2 * at_nd < len(with_nd)
    return valid


def _mask_band(ds, window=None):
    """The file's own mask (a mask band or an alpha band) as True = valid, or True when it has none."""
    from rasterio.enums import ColorInterp, MaskFlags

    if ColorInterp.alpha in ds.colorinterp:  # GDAL takes only 8- and 16-bit alpha bands as masks
        return ds.read(ds.colorinterp.index(ColorInterp.alpha) + 1, window=_window(window)) > 0
    flags = ds.mask_flag_enums[0]
    if MaskFlags.per_dataset not in flags or MaskFlags.nodata in flags or MaskFlags.all_valid in flags:
        return True
    return ds.read_masks(1, window=_window(window)) > 0


def read_block(
    ds, window=None, bands: Optional[Sequence[int]] = None, use_nodata: bool = True
) -> Tuple[np.ndarray, np.ndarray]:
    """Read ``window`` of an open dataset: (float32 cube with NaN at invalid pixels, validity mask).

    Band scales/offsets stored in the file are applied.
    """
    idx = _band_list(bands, ds.count)
    raw = ds.read(idx, window=_window(window))
    nodatavals = [ds.nodatavals[b - 1] for b in idx]
    valid = pixel_validity(raw, nodatavals, use_nodata) & _mask_band(ds, window)
    cube = raw.astype(np.float32, copy=False)  # float32 files: no copy
    del raw
    scales, offsets = _scales_offsets(ds, idx)
    if scales is not None:
        cube *= scales.astype(np.float32)[:, None, None]
        cube += offsets.astype(np.float32)[:, None, None]
    cube[:, ~valid] = np.nan
    return cube, valid


def _scales_offsets(ds, idx) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    """The file's per-band scale and offset, or (None, None) when they are the identity."""
    scales = np.array([ds.scales[b - 1] if ds.scales else 1.0 for b in idx], dtype=np.float64)
    offsets = np.array([ds.offsets[b - 1] if ds.offsets else 0.0 for b in idx], dtype=np.float64)
    if np.any(scales != 1.0) or np.any(offsets != 0.0):
        return scales, offsets
    return None, None


def read_valid_pixels(
    ds, window=None, bands: Optional[Sequence[int]] = None, use_nodata: bool = True
) -> Tuple[np.ndarray, np.ndarray]:
    """Read ``window`` as (float64 (L, n_valid) matrix of the valid pixels, validity mask).

    Same values as ``read_block(...)[0][:, valid]`` in float64, but the valid pixels are picked
    from the raw (often integer) block before any conversion: about half the work of
    converting the whole block first.
    """
    idx = _band_list(bands, ds.count)
    raw = ds.read(idx, window=_window(window))
    valid = pixel_validity(raw, [ds.nodatavals[b - 1] for b in idx], use_nodata) & _mask_band(ds, window)
    picked = raw.reshape(raw.shape[0], -1)[:, valid.ravel()]
    del raw
    if picked.dtype.itemsize > 2:  # values as read_block's float32 cube holds them
        picked = picked.astype(np.float32, copy=False)
    Y = picked.astype(np.float64)
    scales, offsets = _scales_offsets(ds, idx)
    if scales is not None:
        # match read_block: the scale and offset are applied in float32
        Y = (Y.astype(np.float32) * scales.astype(np.float32)[:, None] + offsets.astype(np.float32)[:, None]).astype(
            np.float64
        )
    return Y, valid


def central_values(path: PathLike, bands: Optional[Sequence[int]] = None, size: int = 64) -> np.ndarray:
    """The valid pixels (L, n) of a ``size`` x ``size`` window at the raster's centre: a cheap look at its values."""
    with open_raster(path) as ds:
        h, w = min(size, ds.height), min(size, ds.width)
        window = ((ds.height - h) // 2, (ds.width - w) // 2, h, w)
        cube, valid = read_block(ds, window, bands)
    return cube[:, valid]


def read_raster(
    path: PathLike,
    bands: Optional[Sequence[int]] = None,
    window=None,
    use_nodata: bool = True,
    max_bytes: Optional[int] = None,
) -> RasterData:
    """Read a multiband raster into a (bands, rows, cols) float32 cube and a validity mask.

    ``bands``: 1-based band numbers to read (default all). ``window``: a
    rasterio ``Window`` or ``(row_off, col_off, height, width)``.
    ``use_nodata=False`` ignores the declared nodata values (only NaN/inf are invalid).
    ``max_bytes``: refuse (ValueError) when the float32 cube would be larger.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"raster not found: {path}")
    with open_raster(path) as ds:
        idx = _band_list(bands, ds.count)
        win = _window(window)
        h, w = (int(win.height), int(win.width)) if win is not None else (ds.height, ds.width)
        need = len(idx) * h * w * 4
        if max_bytes is not None and need > max_bytes:
            raise MemoryBudgetError(
                f"{path.name}: {len(idx)} bands x {h} x {w} needs {need / 2**20:.0f} MiB, over the "
                f"{max_bytes / 2**20:.0f} MiB limit; read a window or process it block by block"
            )
        cube, valid = read_block(ds, win, idx, use_nodata)
        sel = np.asarray(idx) - 1
        wl = _wavelengths(ds)
        bbl = _bad_bands(ds)
        names = _band_names(ds)
        transform = source_transform(ds)
        if transform is not None and win is not None:
            transform = ds.window_transform(win)
        profile = dict(ds.profile)
        profile.update(count=len(idx), height=cube.shape[1], width=cube.shape[2], transform=transform)
        nodatavals = [ds.nodatavals[b - 1] for b in idx]
        return RasterData(
            cube=cube,
            mask=valid,
            wavelengths=None if wl is None else wl[sel],
            band_names=[names[i] for i in sel],
            profile=profile,
            transform=transform,
            crs=ds.crs,
            nodata=_primary_nodata(nodatavals),
            bad_bands=None if bbl is None else bbl[sel],
            bands=np.asarray(idx, dtype=int),
        )


# ---------------------------------------------------------------- writing
_run = threading.local()  # the output transaction of this thread's run, if any


def _discard(*files: Path) -> None:
    for f in files:
        if f.exists():
            f.unlink()


def _commit(tmp: Path, aux_tmp: Path, path: Path) -> None:
    aux = Path(str(path) + ".aux.xml")
    try:
        os.replace(tmp, path)
    except OSError as exc:  # e.g. the output path is a folder: leave nothing behind
        _discard(tmp, aux_tmp)
        raise OutputError(f"could not write {path}: {exc.strerror or exc}") from exc
    if aux_tmp.exists():
        os.replace(aux_tmp, aux)
    elif len(aux.name.encode()) <= name_max(aux.parent) and aux.exists():  # sidecar of the file just replaced:
        aux.unlink()  # it would override our metadata


@contextmanager
def output_transaction() -> Iterator[None]:
    """All outputs of a run appear together, or none: ``atomic_output`` renames wait for the block's end.

    On an exception (a cancel, a failure after the first output was written) every
    pending temporary file is deleted and no existing file is touched. Inside the
    block a pending output is read back through ``open_raster`` from its temporary
    file. Per thread; nested blocks commit with the outermost one.
    """
    if getattr(_run, "pending", None) is not None:
        yield
        return
    _run.pending = {}
    try:
        yield
    except BaseException:
        pending, _run.pending = _run.pending, None
        for tmp, aux_tmp in pending.values():
            _discard(tmp, aux_tmp)
        raise
    pending, _run.pending = _run.pending, None
    items = list(pending.items())
    for k, (path, (tmp, aux_tmp)) in enumerate(items):
        try:
            _commit(tmp, aux_tmp, path)
        except BaseException:
            for _, (t, a) in items[k + 1 :]:
                _discard(t, a)
            raise


def _pending_path(path: PathLike) -> PathLike:
    pending = getattr(_run, "pending", None)
    if pending:
        hit = pending.get(Path(path).absolute())
        if hit is not None:
            return hit[0]
    return path


@contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it (and a GDAL .aux.xml) into place.

    On any exception (including ``Cancelled``) the temporary file is deleted and
    the exception propagates; an existing ``path`` is left untouched. Inside
    ``output_transaction`` the move waits for the transaction's end.
    """
    path = Path(path)
    if not path.parent.exists():
        raise FileNotFoundError(f"output folder does not exist: {path.parent}")
    clean_stale(path)
    tmp = temp_path(path)
    aux_tmp = Path(str(tmp) + ".aux.xml")
    try:
        with gdal_errors(tmp, path):
            yield tmp
    except BaseException:
        _discard(tmp, aux_tmp)
        raise
    pending = getattr(_run, "pending", None)
    if pending is None:
        _commit(tmp, aux_tmp, path)
        return
    earlier = pending.pop(path.absolute(), None)
    if earlier is not None:  # written twice in one run: the last one wins
        _discard(*earlier)
    pending[path.absolute()] = (tmp, aux_tmp)


# single-file formats GDAL can create band by band in float32 (multi-file ones would defeat the atomic rename)
OUTPUT_DRIVERS = {"GTiff": "GeoTIFF (.tif)", "HFA": "Erdas Imagine (.img)"}
# chosen here, not by GDAL's lookup by extension: GDAL 3.12 also has MiraMonRaster for .img
_DRIVER_OF_EXTENSION = {"": "GTiff", ".tif": "GTiff", ".tiff": "GTiff", ".img": "HFA"}


def output_driver(path: PathLike) -> str:
    """The GDAL driver for a raster output path, chosen by its extension; OutputError for formats not written.

    No extension, ``.tif`` and ``.tiff`` give GeoTIFF; ``.img`` gives Erdas Imagine.
    """
    ext = Path(path).suffix.lower()
    driver = _DRIVER_OF_EXTENSION.get(ext)
    if driver is not None:
        import rasterio

        with rasterio.Env() as env:  # built into this GDAL?
            if driver in env.drivers():
                return driver
    raise OutputError(
        f"{Path(path).name}: rasters are written as {', '.join(OUTPUT_DRIVERS.values())}; "
        f"'{ext}' is not one of them: use .tif"
    )


def output_profile(
    count: int,
    height: int,
    width: int,
    transform=None,
    crs=None,
    nodata: Optional[float] = OUTPUT_NODATA,
    compress: Optional[str] = "lzw",
    driver: str = "GTiff",
) -> Dict[str, Any]:
    """A float32 profile (GeoTIFF: tiled 256 x 256 when the image is large enough; other drivers: plain)."""
    prof: Dict[str, Any] = dict(
        driver=driver, dtype="float32", count=int(count), height=int(height), width=int(width), nodata=nodata
    )
    if transform is not None:
        prof["transform"] = transform
    if crs is not None:
        prof["crs"] = crs
    if driver == "HFA":
        check_hfa_size(count, height, width)
    if driver != "GTiff":
        return prof
    prof["BIGTIFF"] = "IF_SAFER"
    if height >= 256 and width >= 256:
        prof.update(tiled=True, blockxsize=256, blockysize=256)
    if compress:
        prof.update(compress=compress)
        prof["predictor"] = 3 if compress.lower() in ("lzw", "deflate") else None
        if prof["predictor"] is None:
            del prof["predictor"]
    return prof


def _georef(like) -> Tuple[Any, Any, Optional[Tuple[int, int]]]:
    """(transform, crs, (height, width)) of a RasterData, rasterio profile dict, or None."""
    if like is None:
        return None, None, None
    if isinstance(like, RasterData):
        return like.transform, like.crs, like.cube.shape[1:]
    if isinstance(like, dict):
        shape = (like["height"], like["width"]) if "height" in like and "width" in like else None
        return like.get("transform"), like.get("crs"), shape
    raise TypeError(f"'like' must be RasterData, a rasterio profile dict or None, not {type(like).__name__}")


def _fill_invalid(data: np.ndarray, mask: Optional[np.ndarray], nodata: Optional[float]) -> np.ndarray:
    out = np.array(data, dtype=np.float32, copy=True)
    bad = ~np.all(np.isfinite(out), axis=0)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != out.shape[1:]:
            raise ValueError(f"mask shape {mask.shape} does not match the image {out.shape[1:]}")
        bad |= ~mask
    if nodata is not None:
        out[:, bad] = nodata
    else:
        out[:, bad] = np.nan
    return out


def write_abundances(
    path: PathLike,
    abundances: np.ndarray,
    names: Sequence[str],
    like=None,
    mask: Optional[np.ndarray] = None,
    nodata: float = OUTPUT_NODATA,
    compress: Optional[str] = "lzw",
    tags: Optional[Dict[str, str]] = None,
) -> Path:
    """Write (p, rows, cols) abundance maps as a p-band float32 GeoTIFF.

    Band descriptions are ``names``; georeferencing and CRS come from ``like``
    (RasterData or rasterio profile); ``nodata`` is written where ``mask`` is
    False or a value is NaN.
    """
    A = np.asarray(abundances)
    if A.ndim != 3:
        raise ValueError(f"abundances must be (p, rows, cols), got shape {A.shape}")
    names = [str(n) for n in names]
    if len(names) != A.shape[0]:
        raise ValueError(f"{len(names)} names for {A.shape[0]} abundance maps")
    transform, crs, shape = _georef(like)
    if shape is not None and tuple(shape) != A.shape[1:]:
        raise ValueError(f"abundance maps are {A.shape[1:]}, the reference raster is {tuple(shape)}")
    data = _fill_invalid(A, mask, nodata)
    prof = output_profile(A.shape[0], A.shape[1], A.shape[2], transform, crs, nodata, compress, output_driver(path))
    path = Path(path)
    with atomic_output(path) as tmp:
        with open_raster(tmp, "w", **prof) as dst:
            dst.write(data)
            for i, n in enumerate(names, start=1):
                dst.set_band_description(i, n)
            if tags:
                dst.update_tags(**tags)
    return path


def write_cube(
    path: PathLike,
    cube: np.ndarray,
    transform=None,
    crs=None,
    wavelengths: Optional[np.ndarray] = None,
    nodata: Optional[float] = None,
    band_names: Optional[Sequence[str]] = None,
    mask: Optional[np.ndarray] = None,
    compress: Optional[str] = "lzw",
    dtype: str = "float32",
) -> Path:
    """Write a (bands, rows, cols) cube as a GeoTIFF (float32 unless ``dtype`` says otherwise, e.g. 'uint16').

    ``wavelengths`` (nm; values all < 30 are taken as micrometres) go into band metadata ``wavelength`` / ``wavelength_units=nm``.
    Pixels outside ``mask`` or non-finite are written as ``nodata`` (NaN when
    ``nodata`` is None; -9999 is used when a mask is given without nodata).
    """
    cube = np.asarray(cube)
    if cube.ndim != 3:
        raise ValueError(f"cube must be (bands, rows, cols), got shape {cube.shape}")
    L = cube.shape[0]
    if wavelengths is not None and len(wavelengths) != L:
        raise ValueError(f"{len(wavelengths)} wavelengths for {L} bands")
    if band_names is not None and len(band_names) != L:
        raise ValueError(f"{len(band_names)} band names for {L} bands")
    if mask is not None and nodata is None:
        nodata = OUTPUT_NODATA
    if wavelengths is not None:
        wavelengths = _to_nm(np.asarray(wavelengths, dtype=np.float64), None)
    data = _fill_invalid(cube, mask, nodata)
    prof = output_profile(L, cube.shape[1], cube.shape[2], transform, crs, nodata, compress, output_driver(path))
    if np.dtype(dtype) != np.float32:
        prof.update(dtype=np.dtype(dtype).name)
        prof.pop("predictor", None)
        data = data.astype(dtype)
    path = Path(path)
    with atomic_output(path) as tmp:
        with open_raster(tmp, "w", **prof) as dst:
            dst.write(data)
            for b in range(1, L + 1):
                if band_names is not None:
                    dst.set_band_description(b, str(band_names[b - 1]))
                if wavelengths is not None:
                    dst.update_tags(b, wavelength=repr(float(wavelengths[b - 1])), wavelength_units="nm")
    return path


def read_thumbnails(path: PathLike, max_size: int = 256) -> np.ndarray:
    """All bands decimated so the longer side is at most ``max_size``; NaN at nodata (for previews)."""
    with open_raster(path) as ds:
        f = max(1.0, max(ds.height, ds.width) / max_size)
        shape = (ds.count, max(1, int(round(ds.height / f))), max(1, int(round(ds.width / f))))
        data = ds.read(out_shape=shape, masked=True).astype(np.float32)
    return data.filled(np.nan)
