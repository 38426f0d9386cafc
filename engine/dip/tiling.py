"""Overlapping tiles for the image priors, blended with linear ramps across the overlaps, and the pixel limit
that the device's memory allows."""

from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np

from ..core.torch_support import import_torch
from ..io.memory import available_bytes

Window = Tuple[slice, slice]
CUDA_FREE_FRACTION = 0.8  # of the free device memory: room for the allocator's caching and fragmentation
CPU_AVAILABLE_FRACTION = 0.5  # of what this process can still allocate


def memory_budget_bytes(device, memory_mb: Optional[float] = None) -> int:
    """Bytes a fit may use: CUDA: ``CUDA_FREE_FRACTION`` of the free device memory; CPU:
    ``CPU_AVAILABLE_FRACTION`` of what this process can still allocate (free RAM, an address-space limit;
    :func:`engine.io.memory.available_bytes`), capped by ``memory_mb`` when given (QGIS's MEMORY_MB, a RAM
    budget, so not applied on CUDA)."""
    if getattr(device, "type", str(device)) == "cuda":
        free, _ = import_torch().cuda.mem_get_info(device)
        return int(CUDA_FREE_FRACTION * free)
    avail = available_bytes()
    budget = CPU_AVAILABLE_FRACTION * avail if avail else 2 * 2**30
    if memory_mb:
        budget = min(budget, float(memory_mb) * 2**20)
    return int(budget)


def pixel_limit(max_pixels, device, bytes_per_pixel: float, memory_mb: Optional[float] = None) -> Optional[int]:
    """The largest image (pixels) one network input may have: ``max_pixels`` when an int, none when
    None, else (``'auto'``) the device's memory budget divided by ``bytes_per_pixel``."""
    if max_pixels is None:
        return None
    if not (isinstance(max_pixels, str) and max_pixels == "auto"):
        return int(max_pixels)
    return max(64 * 64, int(memory_budget_bytes(device, memory_mb) // float(bytes_per_pixel)))


def _starts(n: int, size: int, step: int) -> List[int]:
    if size >= n:
        return [0]
    starts = list(range(0, n - size, step))
    return starts + [n - size]


def tile_windows(shape: Tuple[int, int], max_pixels: int, overlap: int) -> Tuple[List[Window], int]:
    """Square-ish windows of at most ``max_pixels`` pixels covering an (H, W) image, and the overlap
    used (``overlap``, reduced to a quarter of the tile side when the tiles are small)."""
    H, W = (int(v) for v in shape)
    if H * W <= max_pixels:
        return [(slice(0, H), slice(0, W))], 0
    side = max(8, int(np.sqrt(max_pixels)))
    th, tw = min(H, side), min(W, max(8, int(max_pixels // min(H, side))))
    ov = int(max(1, min(overlap, min(th, tw) // 4)))
    return [
        (slice(r, r + th), slice(c, c + tw))
        for r in _starts(H, th, max(1, th - ov))
        for c in _starts(W, tw, max(1, tw - ov))
    ], ov


def ramp_weights(window: Window, shape: Tuple[int, int], overlap: int) -> np.ndarray:
    """(h, w) blending weights: linear ramps across ``overlap`` pixels on sides inside the image."""

    def ramp(sl: slice, n: int) -> np.ndarray:
        length = sl.stop - sl.start
        w = np.ones(length)
        k = int(min(overlap, length // 2))
        if k > 0:
            up = (np.arange(k) + 1.0) / (k + 1.0)
            if sl.start > 0:
                w[:k] = np.minimum(w[:k], up)
            if sl.stop < n:
                w[length - k :] = np.minimum(w[length - k :], up[::-1])
        return w

    return np.outer(ramp(window[0], shape[0]), ramp(window[1], shape[1]))


class Blender:
    """Accumulates per-tile (C, h, w) maps with ramp weights; ``result()`` is their weighted mean."""

    def __init__(self, channels: int, shape: Tuple[int, int], overlap: int):
        self.shape = tuple(int(v) for v in shape)
        self.overlap = int(overlap)
        self.total = np.zeros((channels, *self.shape))
        self.weight = np.zeros(self.shape)

    def add(self, window: Window, maps: np.ndarray) -> None:
        w = ramp_weights(window, self.shape, self.overlap)
        self.total[:, window[0], window[1]] += w * maps
        self.weight[window] += w

    def result(self) -> np.ndarray:
        return self.total / np.maximum(self.weight, 1e-12)
