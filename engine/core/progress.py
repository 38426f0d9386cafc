"""Progress reporting and cancellation shared by every estimator."""

from __future__ import annotations

from typing import Callable, Optional

ProgressCallback = Optional[Callable[[float, str], None]]


class Cancelled(Exception):
    """Raised (usually by a progress callback) to stop a fit early."""


def report(callback: ProgressCallback, fraction: float, message: str = "") -> None:
    """Call ``callback(fraction, message)`` if one was given (it may raise :class:`Cancelled`)."""
    if callback is not None:
        callback(min(max(float(fraction), 0.0), 1.0), message)


def sub_progress(callback: ProgressCallback, start: float, end: float) -> ProgressCallback:
    """A callback mapping a sub-task's 0..1 onto ``start``..``end`` of ``callback`` (None stays None)."""
    if callback is None:
        return None
    return lambda fraction, message="": callback(start + (end - start) * fraction, message)
