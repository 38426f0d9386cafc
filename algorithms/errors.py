"""What a run shows the user: engine problems as messages, engine warnings in the log, bugs as bugs.

``user_message`` turns an exception the user can fix (``DeepUnmixError``, I/O errors, out of memory) into one
line and returns None for anything else, so a bug shows its traceback. ``warnings_to(feedback)`` sends the
engine's warnings of this thread's run to the QGIS log.
"""

from __future__ import annotations

import threading
import warnings
from contextlib import contextmanager
from typing import Optional

from ..engine.core.errors import DeepUnmixError
from ..engine.core.progress import Cancelled

_run = threading.local()
_installed = []


def _io_errors() -> tuple:
    errors = [OSError]
    try:
        from rasterio.errors import RasterioError

        errors.append(RasterioError)
    except ImportError:  # pragma: no cover - rasterio is a dependency
        pass
    return tuple(errors)


# what torch raises instead of MemoryError when an allocation fails (CPU allocator, oneDNN, CUDA)
_TORCH_OOM = ("can't allocate memory", "could not create a primitive", "out of memory")  # the last: CUDA's


def _torch_out_of_memory(exc: BaseException) -> bool:
    if type(exc).__name__ == "OutOfMemoryError":  # torch.cuda.OutOfMemoryError, without importing torch
        return True
    return isinstance(exc, RuntimeError) and any(text in str(exc) for text in _TORCH_OOM)


def user_message(exc: BaseException) -> Optional[str]:
    """The message to show for ``exc``, or None when it is a bug (to be shown as one)."""
    if isinstance(exc, DeepUnmixError):
        return str(exc)
    if isinstance(exc, MemoryError) or _torch_out_of_memory(exc):
        return (
            "Out of memory: lower MEMORY_MB (advanced parameters) so the raster is processed in smaller blocks "
            "and sampled for fitting, lower BATCH_SIZE/RESTARTS of deep methods, or crop the raster"
        )
    if isinstance(exc, _io_errors()):
        text = str(exc) or type(exc).__name__
        filename = getattr(exc, "filename", None)
        return text if not filename or str(filename) in text else f"{text}: {filename}"
    return None


def _show(message, category, filename, lineno, file=None, line=None):
    feedback = getattr(_run, "feedback", None)
    if feedback is not None:
        feedback.pushWarning(f"{category.__name__}: {message}")
    else:
        _installed[0](message, category, filename, lineno, file, line)


@contextmanager
def warnings_to(feedback):
    """During the block, warnings raised in this thread go to ``feedback.pushWarning`` (not stderr)."""
    if warnings.showwarning is not _show:  # first run, or something (warnings.catch_warnings) restored another
        _installed[:] = [warnings.showwarning]
        warnings.showwarning = _show
        # engine warnings are shown every time (not once per process), so each run's log gets its own
        warnings.filterwarnings("always", module=r"(deepunmix\.)?engine(\.|$)")
    previous = getattr(_run, "feedback", None)
    _run.feedback = feedback
    try:
        yield
    finally:
        _run.feedback = previous


def progress_callback(feedback, start: float = 0.0, end: float = 100.0):
    """An engine progress callback that drives ``feedback`` and raises Cancelled on cancel."""
    last = {"message": None}

    def callback(fraction: float, message: str = "") -> None:
        if feedback.isCanceled():
            raise Cancelled()
        feedback.setProgress(start + (end - start) * fraction)
        if message and message != last["message"]:
            last["message"] = message
            feedback.pushDebugInfo(message)

    return callback
