"""Memory that DDICA training asks for, estimated before any tensor is allocated.

Restarts train in groups whose step fits in ``TRAIN_GROUP_BYTES``; the peak is one group's step plus every
restart's unit maps. The constants beyond the estimate are measured by tests/engine/ddica/test_memory_peak.py.
"""

from __future__ import annotations

from typing import Optional, Sequence

__all__ = ["training_bytes", "restart_bytes", "restarts_per_group", "TRAIN_GROUP_BYTES"]

FLOAT = 4
TRAIN_GROUP_BYTES = 2 << 30  # restarts are trained in groups whose step fits in this
RUNTIME_BYTES = 16 << 20  # torch's own buffers in a fit, measured (tests/engine/ddica/test_memory_peak.py)
DATA_COPIES = 8  # float32-sized copies of the fit pixels a fit holds, measured there too


def restart_bytes(n_bands: int, batch: int, n_units: int, hidden_units: Sequence[int]) -> int:
    """Bytes one restart holds during a training step on a batch of ``batch`` pixels."""
    K, B = int(n_units), int(batch)
    sizes = [int(n_bands), *map(int, hidden_units), K]
    weights = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    return FLOAT * (4 * weights + 3 * B * sum(sizes) + 2 * (K + 1) * B * B)


def restarts_per_group(per_restart: int, n_restarts: int, budget: Optional[int] = None) -> int:
    """How many restarts train together (at least one); ``budget`` defaults to ``TRAIN_GROUP_BYTES``."""
    budget = TRAIN_GROUP_BYTES if budget is None else int(budget)
    return int(max(1, min(int(n_restarts), budget // max(int(per_restart), 1))))


def training_bytes(
    n_bands: int,
    n_fit: int,
    n_endmembers: int,
    batch_size: int = 128,
    n_restarts: int = 32,
    n_units: Optional[int] = None,
    hidden_units: Sequence[int] = (128, 128),
    **_ignored,
) -> int:
    """Bytes DDICA's training needs for ``n_fit`` pixels of ``n_bands`` bands (keyword names as ``DDICA``)."""
    K, B = int(n_units or n_endmembers), min(int(batch_size), int(n_fit))
    per_restart = restart_bytes(n_bands, B, K, hidden_units)
    # measured beyond restart_bytes (which sizes the groups, so it stays as it is): the Gram matrices' eigen and
    # autograd workspace (up to 10 copies per matrix, not 2) and each restart's forward pass over the fit pixels
    measured = FLOAT * (8 * (K + 1) * B * B + int(n_fit) * (int(n_bands) + sum(map(int, hidden_units)) + K))
    maps = FLOAT * int(n_restarts) * K * int(n_fit)  # every restart's unit maps, kept for the consensus
    group = restarts_per_group(per_restart, n_restarts)
    data = DATA_COPIES * FLOAT * int(n_fit) * int(n_bands)  # the fit pixels, float64 and float32 working copies
    return group * (per_restart + measured) + maps + data + RUNTIME_BYTES
