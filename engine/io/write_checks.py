"""What makes a written file complete or absent: GDAL's write errors raised, temporary names that fit and are
this process's own, stale temporaries cleaned, and the Erdas Imagine size that GDAL would split off.

``gdal_errors`` raises ``OutputError`` for a failure GDAL reported only to its error handler.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import re
import socket
import threading
import time
import uuid
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

from ..core.errors import OutputError

__all__ = ["gdal_errors", "temp_path", "clean_stale", "name_max", "check_name_length", "check_hfa_size"]

_CE_FAILURE = 3  # CPLErr: CE_Failure; CE_Fatal = 4
_trap = threading.local()
_lib_state: dict = {}


def _gdal_library():
    """The GDAL library rasterio uses (its C error API), or None when it cannot be found."""
    if "lib" in _lib_state:
        return _lib_state["lib"]
    import rasterio
    import rasterio._err

    here = Path(rasterio.__file__).parent
    candidates = [rasterio._err.__file__]  # Linux/macOS: dlsym searches the extension's dependencies
    candidates += sorted(glob.glob(str(here / "*gdal*"))) + sorted(
        glob.glob(str(here.parent / "rasterio.libs" / "*gdal*"))
    )
    for folder in os.environ.get("PATH", "").split(os.pathsep) if os.name == "nt" else ():
        candidates += sorted(glob.glob(os.path.join(folder, "gdal*.dll")))
    found = ctypes.util.find_library("gdal")
    candidates += [found] if found else []
    lib = None
    for name in candidates:
        try:
            candidate = ctypes.CDLL(name)
            candidate.CPLPushErrorHandlerEx, candidate.CPLPopErrorHandler  # both must exist
        except (OSError, AttributeError):
            continue
        lib = candidate
        break
    if lib is not None:
        factory = ctypes.WINFUNCTYPE if os.name == "nt" else ctypes.CFUNCTYPE  # CPL_STDCALL on Windows
        _lib_state["handler"] = factory(None, ctypes.c_int, ctypes.c_int, ctypes.c_char_p)(_record)
        lib.CPLPushErrorHandlerEx.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    _lib_state["lib"] = lib
    return lib


def _record(err_class: int, err_no: int, message: bytes) -> None:
    stack = getattr(_trap, "stack", None)
    if stack and err_class >= _CE_FAILURE:
        stack[-1].append((message or b"").decode("utf-8", "replace"))


@contextmanager
def gdal_errors(path, shown=None) -> Iterator[None]:
    """Raise OutputError naming ``shown`` (default ``path``) when GDAL reports a failure (e.g. no space left)
    inside the block. Where the GDAL library cannot be found, ``path`` is read back whole instead."""
    lib = _gdal_library()
    if lib is None:
        yield
        _read_back(path, shown)
        if _free_bytes(Path(path).parent) < FULL_BYTES:
            raise _failed(shown or path, ["the disk is full (less than 1 MiB left), so the file may be cut short"])
        return
    failures: List[str] = []
    _trap.stack = getattr(_trap, "stack", None) or []
    _trap.stack.append(failures)
    lib.CPLPushErrorHandlerEx(ctypes.cast(_lib_state["handler"], ctypes.c_void_p), None)
    try:
        yield
    except OSError as exc:  # rasterio's I/O error names only GDAL's last message ("writing a dirty block")
        if not failures and _free_bytes(Path(path).parent) < FULL_BYTES:
            failures.append(f"no space left on the disk ({exc})")
        if failures:
            raise _failed(shown or path, failures) from exc
        raise
    finally:
        lib.CPLPopErrorHandler()
        _trap.stack.pop()
    if not failures and _free_bytes(Path(path).parent) < FULL_BYTES:
        # a write that ran out of space in a buffer flushed at close fails without any report (libtiff ignores
        # the close's result), so a disk left full counts as a failed write
        failures.append("the disk is full (less than 1 MiB left), so the file may be cut short; free some space")
    if failures:
        raise _failed(shown or path, failures)


#: Free space under which a failed write is reported as a full disk (GDAL's own message can be a generic one).
FULL_BYTES = 2**20


def _free_bytes(folder: Path) -> float:
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):  # Windows has no statvfs
        try:
            import shutil

            return shutil.disk_usage(folder).free
        except OSError:
            return float("inf")
    return st.f_bavail * st.f_frsize


def _failed(path, failures: List[str]) -> OutputError:
    text = "; ".join(list(dict.fromkeys(failures))[:3])
    return OutputError(f"{Path(path).name} could not be written completely: {text}")


def _read_back(path, shown=None) -> None:
    """Read every block of a raster just written (a failed write leaves blocks GDAL cannot read)."""
    path = Path(path)
    if not path.is_file() or path.suffix.lower() in (".csv", ".csvt", ".html", ".htm"):
        return
    from rasterio.errors import RasterioError

    from .read import open_raster

    try:
        with open_raster(path) as ds:
            for _, window in ds.block_windows(1):
                ds.read(window=window)
    except (RasterioError, OSError) as exc:  # RasterioIOError is an OSError
        raise OutputError(f"{Path(shown or path).name} could not be written completely: {exc}") from exc


# ---------------------------------------------------------------- temporary names
_TAG = ".partial"
_HOST = f"{zlib.crc32(socket.gethostname().encode()) & 0xFFFF:04x}"
_SIDECAR = len(".aux.xml")  # GDAL may write <temporary>.aux.xml beside a temporary raster


def name_max(folder) -> int:
    """The longest file name (bytes) the folder's file system allows (255 where unknown)."""
    try:
        return int(os.pathconf(str(folder), "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _prefix(path: Path, room: int) -> str:
    """``path``'s name cut (on a character boundary) to at most ``room`` bytes: a temporary name's start."""
    name = path.name
    while len(name.encode("utf-8")) > room:
        name = name[:-1]
    return name


def temp_path(path) -> Path:
    """A hidden temporary name beside ``path``, unique to this process and call, no longer than ``path``'s
    folder allows (with room for a GDAL ``.aux.xml``): ``.<name>~<pid>-<host><random>.partial``."""
    path = Path(path)
    token = f"~{os.getpid()}-{_HOST}{uuid.uuid4().hex[:8]}{_TAG}"
    room = name_max(path.parent) - _SIDECAR - 1 - len(token)
    return path.with_name(f".{_prefix(path, room)}{token}")


_OURS = re.compile(r"~(\d+)-([0-9a-f]{4})[0-9a-f]{8}\.partial(\.aux\.xml)?$")
_OLD = re.compile(r"\.[0-9a-f]{8}\.partial(\.aux\.xml)?$")  # before 2026-12: no process id; stale after a day
OLD_STALE_SECONDS = 24 * 3600


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_stale(path) -> List[Path]:
    """Delete the temporaries in ``path``'s folder that killed runs left: made on this machine by a process
    that no longer exists (another machine's, on a shared folder, are left alone; so are older-style ones of
    other outputs, and those of ``path`` younger than a day). Returns what was deleted."""
    path = Path(path)
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(".") or not name.endswith((_TAG, _TAG + ".aux.xml")):
            continue
        ours, old = _OURS.search(name), _OLD.search(name)
        if ours:
            stale = ours.group(2) == _HOST and not _alive(int(ours.group(1)))
        elif old and name[: old.start()] == f".{path.name}":
            try:
                stale = time.time() - entry.stat().st_mtime > OLD_STALE_SECONDS
            except OSError:
                stale = False
        else:
            continue
        if stale:
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


def check_name_length(name: str, path) -> None:
    """OutputError when ``path``'s name (with the sidecars written beside it) is longer than its folder allows."""
    path = Path(path)
    longest = name_max(path.parent if path.parent.is_dir() else Path.cwd())
    extra = _SIDECAR if path.suffix.lower() == ".csv" else 0  # the units sidecar <name>.csv.aux.xml
    size = len(path.name.encode("utf-8")) + extra
    if size > longest:
        what = " with its units sidecar (.aux.xml)" if extra else ""
        raise OutputError(
            f"{name}: the file name is {size} bytes{what}, longer than the {longest} this file system allows; "
            "give a shorter name"
        )


# ---------------------------------------------------------------- Erdas Imagine
#: Largest pixel data (bytes, whole 64 x 64 blocks) GDAL's HFA driver keeps in the .img itself; above it the
#: pixels go to a separate .ige spill file that a rename or move of the .img leaves behind.
HFA_MAX_BYTES = 2**31 - 16 * 2**20


def hfa_bytes(count: int, height: int, width: int, itemsize: int) -> int:
    """Bytes of pixel data in an HFA file (64 x 64 blocks, partly filled ones whole)."""
    blocks = -(-int(height) // 64) * -(-int(width) // 64)
    return blocks * 64 * 64 * int(count) * int(itemsize)


def check_hfa_size(count: int, height: int, width: int, itemsize: int = 4, name: Optional[str] = None) -> None:
    """OutputError when an Erdas Imagine output this size would be split into a .img and an .ige spill file."""
    need = hfa_bytes(count, height, width, itemsize)
    if need > HFA_MAX_BYTES:
        raise OutputError(
            f"{name or 'the output'}: {count} bands x {height} x {width} is {need / 2**30:.2f} GiB, over the "
            f"{HFA_MAX_BYTES / 2**30:.2f} GiB an Erdas Imagine (.img) file holds in one piece (GDAL would put the "
            "pixels in a separate .ige file); write it as .tif"
        )
