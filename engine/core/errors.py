"""Exception types for problems the user can fix (input, parameter, output path, memory); all ``ValueError``s.

The QGIS algorithms show these (and I/O errors) as a message; anything else is a bug.
"""

from __future__ import annotations

__all__ = [
    "DeepUnmixError",
    "InputError",
    "ParameterError",
    "OutputError",
    "MemoryBudgetError",
    "DependencyError",
    "DeviceError",
]


class DeepUnmixError(ValueError):
    """A problem with what the user gave, stated so they can fix it."""


class InputError(DeepUnmixError):
    """An input file (raster, endmember CSV, .mat) cannot be used as given."""


class ParameterError(DeepUnmixError):
    """A parameter value is out of range or inconsistent with the data."""


class OutputError(DeepUnmixError):
    """An output path cannot be written without losing data (or at all)."""


class MemoryBudgetError(DeepUnmixError):
    """A step would need more memory than the budget or the machine has free."""


class DependencyError(DeepUnmixError, ImportError):
    """An optional dependency (PyTorch) is missing; the message says how to install it."""


class DeviceError(ParameterError, RuntimeError):
    """The requested compute device (e.g. CUDA) is not available."""
