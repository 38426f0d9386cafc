"""Band selection: user drop ranges (``1-3,108-112``, 1-based inclusive) and the ENVI bad-band list; band
numbers stay the file's throughout."""

from __future__ import annotations

import re
from typing import List, Optional, Sequence

import numpy as np

from ..core.errors import InputError, ParameterError

__all__ = ["parse_band_ranges", "select_bands", "format_band_ranges", "describe_band_selection"]

_RANGE = re.compile(r"^(\d+)\s*(?:-\s*(\d+))?$")


def parse_band_ranges(text: Optional[str], n_bands: int) -> List[int]:
    """Sorted unique 1-based band numbers named by ``text`` (e.g. ``"1-3, 108-112;220"``), to drop.

    Items ``N`` or ``A-B`` (A <= B), separated by commas, semicolons or spaces; ValueError names a bad item.
    """
    if n_bands < 1:
        raise ValueError(f"n_bands must be at least 1, got {n_bands}")
    if text is None or not str(text).strip():
        return []
    # normalise "1 - 3" to "1-3" so whitespace can also separate items
    norm = re.sub(r"\s*-\s*", "-", str(text).strip())
    items = [t for t in re.split(r"[,;\s]+", norm) if t]
    out = set()
    for item in items:
        m = _RANGE.match(item)
        if m is None:
            raise ParameterError(
                f"band ranges: {item!r} is not a band number or a range like 108-112 (in {str(text)!r})"
            )
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) is not None else a
        if a > b:
            raise ParameterError(f"band ranges: {item!r} runs backwards (write {b}-{a})")
        if a < 1:
            raise ParameterError(f"band ranges: {item!r}: band numbers start at 1")
        if b > n_bands:
            raise ParameterError(f"band ranges: {item!r} is beyond the last band ({n_bands})")
        out.update(range(a, b + 1))
    return sorted(out)


def select_bands(
    n_bands: int, drop_text: Optional[str] = None, bad_bands: Optional[Sequence[bool]] = None
) -> List[int]:
    """1-based band numbers kept after dropping ``drop_text`` and ``bad_bands`` (True = bad); at least 2."""
    drop = set(parse_band_ranges(drop_text, n_bands))
    if bad_bands is not None:
        bb = np.asarray(bad_bands, dtype=bool).ravel()
        if bb.size != n_bands:
            raise InputError(f"bad-band list has {bb.size} entries for {n_bands} bands")
        drop.update(int(i) + 1 for i in np.flatnonzero(bb))
    kept = [b for b in range(1, n_bands + 1) if b not in drop]
    if len(kept) < 2:
        raise ParameterError(
            f"only {len(kept)} of {n_bands} bands remain after dropping bad bands; unmixing needs at least 2"
        )
    return kept


def format_band_ranges(numbers: Sequence[int]) -> str:
    """Compact text of band numbers: [1, 2, 3, 7] -> ``"1-3,7"`` (inverse of ``parse_band_ranges``)."""
    nums = sorted(set(int(n) for n in numbers))
    parts = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        parts.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ",".join(parts)


def describe_band_selection(
    n_bands: int, drop_text: Optional[str] = None, bad_bands: Optional[Sequence[bool]] = None
) -> str:
    """One log line: which bands are dropped and why (user ranges, ENVI bad-band list)."""
    kept = select_bands(n_bands, drop_text, bad_bands)
    if len(kept) == n_bands:
        return f"using all {n_bands} bands"
    user = parse_band_ranges(drop_text, n_bands)
    parts = []
    if user:
        parts.append(f"{format_band_ranges(user)} (requested)")
    if bad_bands is not None:
        bbl = [int(i) + 1 for i in np.flatnonzero(np.asarray(bad_bands, dtype=bool))]
        if bbl:
            parts.append(f"{format_band_ranges(bbl)} (bad-band list of the file)")
    return f"using {len(kept)} of {n_bands} bands; dropped " + "; ".join(parts)
