"""Reading rasters through rasterio: metadata, validity, blocks.

A pixel is invalid (NaN in the cube, False in the mask) when any band is NaN/inf, when it equals the nodata
value in at least half of the bands that declare one, or when the file's mask or alpha band marks it 0.
Wavelengths are in nm (band metadata, else the ENVI header; micrometres converted); the ENVI ``bbl`` and
alpha bands become ``bad_bands``.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..core.errors import InputError, MemoryBudgetError
from .transaction import _pending_path

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
    """The dataset's geotransform, or None when it has none (GDAL's default would be drawn flipped by QGIS)."""
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
        raise InputError("no band selected")
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
    """Read ``window`` with the file's scales/offsets: (float32 cube, NaN at invalid pixels; validity mask)."""
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
    """``read_block(...)[0][:, valid]`` as float64, and the mask; valid pixels picked before conversion."""
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
    """Read a raster into a (bands, rows, cols) float32 cube and a validity mask.

    ``bands``: 1-based (default all); ``window``: a ``Window`` or (row_off, col_off, height, width);
    ``use_nodata=False`` ignores declared nodata; ``max_bytes``: refuse a larger cube.
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


def read_thumbnails(path: PathLike, max_size: int = 256) -> np.ndarray:
    """All bands decimated so the longer side is at most ``max_size``; NaN at nodata (for previews)."""
    with open_raster(path) as ds:
        f = max(1.0, max(ds.height, ds.width) / max_size)
        shape = (ds.count, max(1, int(round(ds.height / f))), max(1, int(round(ds.width / f))))
        data = ds.read(out_shape=shape, masked=True).astype(np.float32)
    return data.filled(np.nan)
