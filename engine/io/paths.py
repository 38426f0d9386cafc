"""Output paths that would lose data: an output on an input (any of its files), or two outputs on one file.
Paths are compared after ``os.path.realpath``."""

from __future__ import annotations

import os
from typing import Dict, Iterable, List, Mapping, Optional

from ..core.errors import OutputError

__all__ = ["same_file_key", "check_output_paths", "input_files"]


def same_file_key(path: str) -> str:
    """A key equal for two spellings of one file (resolved real path, case-folded where the OS ignores case)."""
    return os.path.normcase(os.path.realpath(os.path.abspath(os.path.expanduser(str(path)))))


def input_files(path: str) -> List[str]:
    """Every file an input consists of: itself, GDAL's file list for a raster (an ENVI header, a VRT's sources),
    and the sidecars GDAL or DeepUnmix read beside it when present (``.aux.xml``, world files, ``.prj``,
    ``.ovr``, ``.msk``, an endmember CSV's ``.csvt``)."""
    files = [str(path), str(path) + ".aux.xml"]
    root, ext = os.path.splitext(str(path))
    if ext.lower() == ".csv":
        return files + [root + ".csvt"]
    if len(ext) > 2:  # sidecars GDAL reads when present: world files (.tfw, .tifw, .wld), .prj, overviews, mask
        files += [root + "." + ext[1] + ext[-1] + "w", root + ext + "w", root + ".wld", root + ".prj"]
    files += [str(path) + ".ovr", str(path) + ".msk"]
    try:
        import rasterio
        from rasterio.errors import RasterioError

        with rasterio.Env(CPL_LOG="OFF"), rasterio.open(str(path)) as ds:
            files += [str(f) for f in ds.files]
    except (ImportError, RasterioError, OSError, ValueError):  # not a raster (a .mat), or not readable: itself
        pass
    return files


def check_output_paths(
    outputs: Mapping[str, Optional[str]], inputs: Mapping[str, Optional[str]], raster_outputs: Iterable[str] = ()
) -> None:
    """Raise OutputError when an output is an input, two outputs share a path, an output is a folder, or a
    raster output (``raster_outputs``) has an extension not written; ``outputs``/``inputs``: name -> path."""
    from .write import output_driver
    from .write_checks import check_name_length

    seen: Dict[str, str] = {}
    # the input's own path last: it names the input best
    ins = {same_file_key(f): (name, f) for name, p in inputs.items() if p for f in reversed(input_files(p))}
    for name, path in outputs.items():
        if not path:
            continue
        key = same_file_key(path)
        if key in ins:
            what, f = ins[key]
            part = "" if key == same_file_key(inputs[what]) else f" (its file {os.path.basename(f)})"
            raise OutputError(
                f"{name} ({path}) is the input {what}{part}: writing it would destroy the input; "
                "choose another output file"
            )
        if key in seen:
            raise OutputError(
                f"{name} and {seen[key]} are the same file ({path}): one would overwrite the other; "
                "give each output its own file"
            )
        if os.path.isdir(key):
            raise OutputError(f"{name} ({path}) is a folder; give a file name")
        check_name_length(name, path)
        seen[key] = name
    for name in raster_outputs:
        if outputs.get(name):
            output_driver(outputs[name])
