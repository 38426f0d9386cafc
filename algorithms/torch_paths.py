"""Where the plugin finds Python packages QGIS's Python lacks (PyTorch).

1. each folder in ``DEEPUNMIX_DEPS`` (os.pathsep separated): first on ``sys.path``, or appended when it holds
   its own numpy, so QGIS's numpy (which GDAL is built against) always wins;
2. ``<QGIS profile>/python/deepunmix_deps``, which the installer fills, always appended, so it never changes
   what other plugins import (its ``torch_private`` copies are on the path only while torch imports).
"""

from __future__ import annotations

import os
import sys
from typing import List


def dependency_folder() -> str:
    """The folder the plugin owns for installed dependencies (in the active QGIS profile)."""
    from qgis.core import QgsApplication

    return os.path.join(QgsApplication.qgisSettingsDirPath(), "python", "deepunmix_deps")


def add_dependency_paths() -> List[str]:
    """Add existing dependency folders to sys.path; return the ones added."""
    try:
        owned = dependency_folder()
    except ImportError:  # outside QGIS there is no profile
        owned = None
    paths = [p for p in os.environ.get("DEEPUNMIX_DEPS", "").split(os.pathsep) if p] + ([owned] if owned else [])
    added = []
    front = 0
    for path in paths:
        if os.path.isdir(path) and path not in sys.path:
            if path == owned or os.path.isdir(os.path.join(path, "numpy")):
                sys.path.append(path)
            else:
                sys.path.insert(front, path)
                front += 1
            added.append(path)
    return added


def torch_available() -> bool:
    import importlib.util

    add_dependency_paths()
    return importlib.util.find_spec("torch") is not None
