"""Atomic outputs: every file is written to a temporary path beside it and moved into place with
``os.replace``, so a failed write never leaves a file that looks finished; ``output_transaction`` makes
all outputs of a run appear together, or none."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union

from ..core.errors import OutputError
from .write_checks import clean_stale, gdal_errors, name_max, temp_path

PathLike = Union[str, os.PathLike]
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

    An exception deletes every pending temporary file; per thread, nested blocks commit with the outermost.
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
    """Yield a temporary path beside ``path``; on success move it (and a GDAL .aux.xml) into place, on an
    exception delete it."""
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
