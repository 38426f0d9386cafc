"""Regenerate docs/algorithms.md and README's variant settings tables from the algorithms (run with the venv's
python, headless).

QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/build_docs.py
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "docs" / "algorithms.md"
README = REPO / "README.md"
BEGIN, END = "<!-- variant settings: scripts/build_docs.py -->", "<!-- end of variant settings -->"
sys.path[:0] = [str(REPO / ".build" / "plugins"), "/usr/share/qgis/python/plugins"]


def algorithms(provider):
    """Every algorithm of ``provider`` (registered), in the registry's order."""
    from deepunmix.algorithms.registry import algorithm_classes

    return [provider.algorithm(cls().name()) for cls in algorithm_classes()]


def readme_with_tables(readme: str, tables: str) -> str:
    """``readme`` with the block between BEGIN and END replaced by ``tables``."""
    head, rest = readme.split(BEGIN, 1)
    return f"{head}{BEGIN}\n\n{tables}\n{END}{rest.split(END, 1)[1]}"


def main() -> int:
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    from deepunmix.algorithms.help_page import markdown, settings_tables
    from deepunmix.algorithms.provider import DeepUnmixProvider

    provider = DeepUnmixProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    TARGET.write_text(markdown(algorithms(provider)), encoding="utf-8")
    tables = settings_tables(algorithms(provider))
    README.write_text(readme_with_tables(README.read_text(encoding="utf-8"), tables), encoding="utf-8")
    print(TARGET, README)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
