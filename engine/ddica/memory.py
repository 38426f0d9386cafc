"""Memory that DDICA training asks for, estimated before any tensor is allocated.

Per step every restart holds, in float32: its network weights with gradients and
Adam's two moments (4 copies), the batch's activations (forward and backward, ~3
copies) and one batch x batch Gram matrix per output unit plus the joint one,
with their eigen-decomposition workspace and gradients (~2 copies). The cost grows
with restarts x batch^2: batch 3000 with 32 restarts asks for several GB.
"""
from __future__ import annotations

from typing import Optional, Sequence

__all__ = ["training_bytes"]

FLOAT = 4


def training_bytes(n_bands: int, n_fit: int, n_endmembers: int, batch_size: int = 128, n_restarts: int = 32,
                   n_units: Optional[int] = None, hidden_units: Sequence[int] = (128, 128), **_ignored) -> int:
    """Bytes DDICA's training needs for ``n_fit`` pixels of ``n_bands`` bands (keyword names as ``DDICA``)."""
    T = int(n_restarts)
    K = int(n_units or n_endmembers)
    B = int(min(batch_size, n_fit))
    sizes = [int(n_bands), *map(int, hidden_units), K]
    weights = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    per_restart = 4 * weights + 3 * B * sum(sizes) + 2 * (K + 1) * B * B
    return FLOAT * (T * per_restart + n_fit * n_bands)
