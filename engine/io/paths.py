"""Output paths that would lose data: an output on top of an input, or two outputs on one file.

Paths are compared after resolving links and ``..`` (``os.path.realpath``), so
``./a.tif``, ``dir/../a.tif`` and a symlink to ``a.tif`` are the same file.
"""

from __future__ import annotations

import os
from typing import Dict, Iterable, Mapping, Optional

from ..errors import OutputError

__all__ = ["same_file_key", "check_output_paths"]


def same_file_key(path: str) -> str:
    """A key equal for two spellings of one file (resolved real path, case-folded where the OS ignores case)."""
    return os.path.normcase(os.path.realpath(os.path.abspath(os.path.expanduser(str(path)))))


def check_output_paths(
    outputs: Mapping[str, Optional[str]], inputs: Mapping[str, Optional[str]], raster_outputs: Iterable[str] = ()
) -> None:
    """Raise OutputError when an output path is an input path, or two outputs share a path.

    ``outputs`` / ``inputs`` map parameter names to file paths (None or '' = not given).
    An existing folder given as an output is refused too (the final rename would fail), and so is a
    raster output (names in ``raster_outputs``) whose extension names a format that is not written.
    """
    from .raster import output_driver

    seen: Dict[str, str] = {}
    ins = {same_file_key(p): name for name, p in inputs.items() if p}
    for name, path in outputs.items():
        if not path:
            continue
        key = same_file_key(path)
        if key in ins:
            raise OutputError(
                f"{name} ({path}) is the input {ins[key]}: writing it would destroy the input; "
                "choose another output file"
            )
        if key in seen:
            raise OutputError(
                f"{name} and {seen[key]} are the same file ({path}): one would overwrite the other; "
                "give each output its own file"
            )
        if os.path.isdir(key):
            raise OutputError(f"{name} ({path}) is a folder; give a file name")
        seen[key] = name
    for name in raster_outputs:
        if outputs.get(name):
            output_driver(outputs[name])
