"""Regenerate docs/algorithms.md from the algorithms (run with the venv's python, headless).

QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/build_docs.py
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "docs" / "algorithms.md"
sys.path[:0] = [str(REPO / ".build" / "plugins"), "/usr/share/qgis/python/plugins"]


def algorithms(provider):
    """Every algorithm of ``provider`` (registered), in the registry's order."""
    from deepunmix.algorithms.registry import algorithm_classes

    return [provider.algorithm(cls().name()) for cls in algorithm_classes()]


def main() -> int:
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    from deepunmix.algorithms.help_page import markdown
    from deepunmix.algorithms.provider import DeepUnmixProvider

    provider = DeepUnmixProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    TARGET.write_text(markdown(algorithms(provider)), encoding="utf-8")
    print(TARGET)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
