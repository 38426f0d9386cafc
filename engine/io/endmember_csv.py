"""Endmember spectra as CSV: ``band,wavelength,<name 1>,...,<name p>``, one row per band (1-based raster band;
wavelength may be empty).

A ``.csvt`` gives the column types and a GDAL ``.aux.xml`` the units (``comment``); a first line starting with
``#`` (older files) is read as that comment.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union
from xml.etree import ElementTree  # GDAL's .aux.xml beside a raster the user opened  # nosec B405

import numpy as np

from ..core.errors import InputError
from .transaction import atomic_output
from .write_checks import check_name_length

__all__ = ["EndmemberTable", "read_endmembers_csv", "write_endmembers_csv", "sidecar_paths", "spreadsheet_safe"]

_METADATA_DOMAIN = "DEEPUNMIX"


@dataclass
class EndmemberTable:
    matrix: np.ndarray  # (L, p) float64
    names: List[str]
    wavelengths: Optional[np.ndarray]  # (L,) float, NaN where empty; None if the column is empty
    bands: np.ndarray  # (L,) int, 1-based
    comment: Optional[str] = None


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text) -> str:
    """A name made safe for a CSV cell: one line, and never read as a spreadsheet formula (OWASP)."""
    text = " ".join(str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")).strip()
    return "'" + text if text.startswith(_FORMULA_START) else text


def _fmt(v: float) -> str:
    """Shortest text that reads back as the same number: a value held in float32 (pixels, most
    estimators) is written with float32's digits (``0.3747``, not ``0.37469998002052307``)."""
    v = float(v)
    single = np.float32(v)
    if np.isfinite(single) and float(single) == v:
        return str(single)  # numpy's shortest repr for float32 (the same in numpy 1 and 2)
    return repr(v)


def sidecar_paths(path: Union[str, os.PathLike]) -> List[Path]:
    """The files written beside an endmember CSV: column types (.csvt) and units (.aux.xml)."""
    path = Path(path)
    return [path.with_suffix(".csvt"), Path(str(path) + ".aux.xml")]


def _comment_xml(comment: str) -> str:
    root = ElementTree.Element("PAMDataset")
    md = ElementTree.SubElement(root, "Metadata", domain=_METADATA_DOMAIN)
    ElementTree.SubElement(md, "MDI", key="comment").text = comment
    return ElementTree.tostring(root, encoding="unicode") + "\n"


def _comment_from_sidecar(path: Path) -> Optional[str]:
    aux = Path(str(path) + ".aux.xml")
    if not aux.is_file():
        return None
    try:
        # accepted: expat resolves no external entities and (>= 2.4.1) caps entity expansion
        root = ElementTree.parse(aux).getroot()  # nosec B314
    except ElementTree.ParseError:
        return None
    for md in root.iter("Metadata"):
        if md.get("domain") == _METADATA_DOMAIN:
            for item in md.iter("MDI"):
                if item.get("key") == "comment":
                    return (item.text or "").strip() or None
    return None


def write_endmembers_csv(
    path: Union[str, os.PathLike],
    E: np.ndarray,
    names: Sequence[str],
    wavelengths: Optional[Sequence[float]] = None,
    bands: Optional[Sequence[int]] = None,
    comment: Optional[str] = None,
) -> Path:
    """Write (L, p) endmembers atomically; ``bands`` defaults to 1..L; ``comment`` goes to the ``.aux.xml``."""
    E = np.asarray(E, dtype=np.float64)
    if E.ndim != 2:
        raise ValueError(f"endmembers must be (bands, p), got shape {E.shape}")
    L, p = E.shape
    names = [spreadsheet_safe(n) for n in names]
    if len(names) != p:
        raise ValueError(f"{len(names)} names for {p} endmembers")
    if bands is None:
        bands = range(1, L + 1)
    bands = [int(b) for b in bands]
    if len(bands) != L or (wavelengths is not None and len(wavelengths) != L):
        raise ValueError(f"bands/wavelengths must have {L} entries")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["band", "wavelength", *names])
    for i in range(L):
        wl = "" if wavelengths is None or not math.isfinite(float(wavelengths[i])) else _fmt(wavelengths[i])
        w.writerow([bands[i], wl, *(_fmt(v) for v in E[i])])
    path = Path(path)
    check_name_length(path.name, path)  # before writing: the sidecars must fit too
    csvt_path, _ = sidecar_paths(path)
    with atomic_output(path) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")
        if comment:  # atomic_output moves <tmp>.aux.xml into place with the table (or removes a stale one)
            text = comment.lstrip("#").strip().replace("\n", " ")
            Path(str(tmp) + ".aux.xml").write_text(_comment_xml(text), encoding="utf-8")
    with atomic_output(csvt_path) as tmp:
        tmp.write_text(",".join(['"Integer"', '"Real"'] + ['"Real"'] * p) + "\n", encoding="utf-8")
    return path


def _number(text: str, line: int, column: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise InputError(f"line {line}, column '{column}': {text!r} is not a number") from None
    if not math.isfinite(v):
        raise InputError(f"line {line}, column '{column}': {text!r} is not a finite number")
    return v


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"))
_BOMS += ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _decode(data: bytes, name: str) -> str:
    """The file's text: UTF-8, or UTF-16/32 with a byte-order mark (spreadsheets' "Unicode text"), else Latin-1
    with a warning; InputError for a binary file."""
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if encoding is None and len(data) % 2 == 0 and data.count(0) * 3 > len(data):  # UTF-16 without a BOM
        encoding = "utf-16-le" if data[1::2].count(0) > data[0::2].count(0) else "utf-16-be"
    try:
        text = data.decode(encoding or "utf-8")
    except UnicodeDecodeError as exc:
        if encoding:
            raise InputError(f"{name} is not readable {encoding} text ({exc.reason})") from None
        text = data.decode("latin-1")
        warnings.warn(f"{name} is not UTF-8 text: read as Latin-1 (names with accents may look wrong)", stacklevel=3)
    if "\x00" in text:
        raise InputError(f"{name} is not a text CSV (it holds NUL bytes: a binary file?)")
    return text


def read_endmembers_csv(path: Union[str, os.PathLike]) -> EndmemberTable:
    """Read and validate an endmember CSV; raises InputError naming the problem and line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"endmember file not found: {path}")
    rows, comment = _rows(path)
    (hline, header), data = rows[0], rows[1:]
    names = _endmember_names(path.name, hline, header)
    if not data:
        raise InputError(f"{path.name}: no data rows")
    ncol = 2 + len(names)
    bands, wls, values = [], [], []
    for n, r in data:
        while len(r) > ncol and not r[-1]:
            r = r[:-1]
        if len(r) != ncol:
            raise InputError(f"{path.name}, line {n}: {len(r)} columns, the header has {ncol}")
        b = _number(r[0], n, "band")
        if b != int(b) or b < 1:
            raise InputError(f"{path.name}, line {n}: band {r[0]!r} is not a positive integer")
        bands.append(int(b))
        wls.append(_number(r[1], n, "wavelength") if r[1] else np.nan)
        values.append([_number(v, n, names[k]) for k, v in enumerate(r[2:])])
    wl = np.asarray(wls, dtype=np.float64)
    return EndmemberTable(
        matrix=np.asarray(values, dtype=np.float64),
        names=names,
        wavelengths=None if np.all(np.isnan(wl)) else wl,
        bands=np.asarray(bands, dtype=int),
        comment=comment,
    )


def _rows(path: Path) -> Tuple[List[Tuple[int, List[str]]], Optional[str]]:
    """The file's non-comment rows as (line number, stripped cells), and its units comment."""
    numbered = [(i + 1, ln) for i, ln in enumerate(_decode(path.read_bytes(), path.name).splitlines()) if ln.strip()]
    if numbered and numbered[0][1].lstrip().startswith("#"):  # the format before the sidecar
        comment = numbered[0][1].lstrip()[1:].strip()
        numbered = numbered[1:]
    else:
        comment = _comment_from_sidecar(path)
    numbered = [(n, ln) for n, ln in numbered if not ln.lstrip().startswith("#")]
    if not numbered:
        raise InputError(f"{path.name}: no header line")
    try:
        return [(n, [c.strip() for c in r]) for (n, ln) in numbered for r in csv.reader([ln])], comment
    except csv.Error as exc:
        raise InputError(f"{path.name} is not a readable CSV table ({exc})") from None


def _endmember_names(name: str, hline: int, header: List[str]) -> List[str]:
    while header and not header[-1]:  # trailing comma(s) in the header
        header = header[:-1]
    low = [h.lower() for h in header]
    if len(header) < 2 or low[0] != "band" or low[1] != "wavelength":
        raise InputError(f"{name}, line {hline}: the header must start with 'band,wavelength', got {header[:2]}")
    names = header[2:]
    if not names:
        raise InputError(f"{name}: no endmember column after 'band,wavelength'")
    empty = [k + 3 for k, n in enumerate(names) if not n]
    if empty:
        raise InputError(f"{name}, line {hline}: column(s) {empty} have no endmember name")
    return names
