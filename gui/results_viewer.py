"""Results Viewer entries for DeepUnmix reports, and a QGIS batch-mode bug worked around.

``BatchAlgorithmDialog.loadHTMLResults`` calls ``resultsList.addResult`` without the ``timestamp`` it requires
(QGIS 3.22 to 3.44 at least), so a batch run with an HTML output ends in a ``TypeError``. The plugin wraps
``addResult``: a missing timestamp becomes "now" and a DeepUnmix report is listed under its own title.
``uninstall`` restores the original.
"""

from __future__ import annotations

import re
import time
from typing import Optional

_TITLE = re.compile(r"<title>(.*?)</title>", re.S | re.I)
# engine.reporting.report writes this marker in every DeepUnmix HTML report
_GENERATOR = re.compile(r"<meta\s+name=['\"]generator['\"]\s+content=['\"]DeepUnmix", re.I)


def report_title(path: str) -> Optional[str]:
    """The title of a DeepUnmix HTML report, or None for any other file."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except (OSError, TypeError):
        return None
    match = _TITLE.search(head)
    if not match or not _GENERATOR.search(head):
        return None
    import html

    return html.unescape(match.group(1)).strip() or None


def _results_list():
    from processing.core.ProcessingResults import resultsList

    return resultsList


def install() -> bool:
    """Wrap ``resultsList.addResult``; returns False when Processing's Python package is absent."""
    try:
        results = _results_list()
    except ImportError:
        return False
    if getattr(results.addResult, "_deepunmix", False):
        return True
    original = results.addResult

    def add_result(icon, name, timestamp=None, result=None):
        title = report_title(result)
        if title:
            suffix = re.search(r"\[\d+\]$", name or "")  # the batch row number QGIS appends
            name = title + (" " + suffix.group(0) if suffix else "")
        return original(icon, name, timestamp if timestamp is not None else time.localtime(), result)

    add_result._deepunmix = True
    add_result._original = original
    results.addResult = add_result
    return True


def uninstall() -> None:
    try:
        results = _results_list()
    except ImportError:
        return
    if getattr(results.addResult, "_deepunmix", False):
        del results.addResult  # the instance attribute; the class method shows through again
