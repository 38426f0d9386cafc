"""Exception types for problems the user can fix (bad input, parameter, output path, memory).

They subclass ``ValueError`` so code that caught ``ValueError`` keeps working. The QGIS
algorithms turn these (and ordinary I/O errors) into a message; anything else is a bug
and is shown as one.
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
