"""Memory checks made before allocating: against the user's budget and the free memory (``MemAvailable``,
capped by ``RLIMIT_AS``)."""

from __future__ import annotations

import os
from typing import Optional

from ..core.errors import MemoryBudgetError, ParameterError
from ..core.params import positive

__all__ = [
    "available_bytes",
    "total_bytes",
    "check_budget",
    "check_allocation",
    "check_address_space",
    "MiB",
    "DEFAULT_MEMORY_MB",
    "MEMORY_MB",
]

MiB = 2**20
#: The memory budget in megabytes (MEMORY_MB in QGIS, ``memory_mb`` in the engine): any positive number.
MEMORY_MB = positive()
DEFAULT_MEMORY_MB = 1024


def _meminfo(key: str) -> Optional[int]:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def total_bytes() -> Optional[int]:
    """Physical memory of the machine, or None when unknown."""
    total = _meminfo("MemTotal")
    if total is None and hasattr(os, "sysconf"):
        try:
            total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            total = None
    return total


def _address_space_left() -> Optional[int]:
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return None
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/status") as fh:
            size = next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError):
        return soft
    return max(0, soft - size)


def available_bytes() -> Optional[int]:
    """Memory this process can still allocate (free RAM, capped by an address-space limit), or None when unknown."""
    values = [v for v in (_meminfo("MemAvailable"), _address_space_left()) if v is not None]
    return min(values) if values else None


def check_budget(memory_mb: float) -> int:
    """The budget in bytes; ParameterError when it is not positive or exceeds the machine's memory."""
    if not memory_mb or not MEMORY_MB.is_satisfied_by(memory_mb):
        raise ParameterError(f"MEMORY_MB must be a positive number of megabytes, got {memory_mb}")
    total = total_bytes()
    if total is not None and memory_mb * MiB > total:
        raise ParameterError(
            f"MEMORY_MB = {memory_mb:g} is more than this machine's {total / MiB:.0f} MB of memory; "
            f"give at most {total / MiB:.0f} (the default {DEFAULT_MEMORY_MB} suits most scenes)"
        )
    return int(memory_mb * MiB)


def check_allocation(nbytes: float, what: str, budget_bytes: Optional[float] = None, hint: str = "") -> None:
    """Raise MemoryBudgetError, with ``hint``, if ``what`` needing ``nbytes`` is over the budget or free memory."""
    tail = f": {hint}" if hint else ""
    if budget_bytes is not None and nbytes > budget_bytes:
        raise MemoryBudgetError(
            f"{what} needs about {nbytes / MiB:,.0f} MB, over the memory budget of "
            f"{budget_bytes / MiB:,.0f} MB (MEMORY_MB){tail}"
        )
    free = available_bytes()
    if free is not None and nbytes > free:
        raise MemoryBudgetError(
            f"{what} needs about {nbytes / MiB:,.0f} MB but only {free / MiB:,.0f} MB are free on this machine{tail}"
        )


def check_address_space(nbytes: float, what: str, hint: str = "") -> Optional[int]:
    """Under an address-space limit (``ulimit -v`` / RLIMIT_AS): MemoryBudgetError when less than ``nbytes`` of
    address space is left, else the bytes left. Without a limit: None."""
    left = _address_space_left()
    if left is not None and left < nbytes:
        tail = f": {hint}" if hint else ""
        raise MemoryBudgetError(
            f"{what} needs about {nbytes / MiB:,.0f} MB of address space but the address-space limit "
            f"(ulimit -v) leaves {left / MiB:,.0f} MB{tail}"
        )
    return left
