"""What each algorithm says about itself, kept out of code in ``help.yaml`` (as QGIS keeps its algorithms' help):
the side panel (``help``), the toolbox tooltip (``short``), search tags and parameter tooltips (an algorithm's
own win over ``common``'s)."""

from __future__ import annotations

import os
from functools import lru_cache


@lru_cache(maxsize=1)
def texts() -> dict:
    import yaml  # QGIS's Processing reads its own help with it

    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "help.yaml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def text(algorithm: str, key: str) -> str:
    return texts().get(algorithm, {}).get(key, "")


def tooltip(algorithm: str, parameter: str) -> str:
    own = texts().get(algorithm, {}).get("tooltips", {})
    return own.get(parameter) or texts()["common"]["tooltips"].get(parameter, "")


def tags(algorithm: str = "") -> list:
    """The toolbox's search words: the common ones, unmixing's (unless ``unmixing: false``), the algorithm's."""
    common, own = texts()["common"], texts().get(algorithm, {})
    return common["tags"] + (common["unmixing_tags"] if own.get("unmixing", True) else []) + own.get("tags", [])
