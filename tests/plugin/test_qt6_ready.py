"""QGIS 4 (Qt6) readiness, read from the source: every Python file must run on Qt5 and Qt6.

Under PyQt6 (and QGIS 4's bindings) an enum member exists only under its enum (``Qt.AlignmentFlag.AlignLeft``,
``Qgis.MessageLevel.Warning``), ``exec_()`` is gone, and Qt is imported through ``qgis.PyQt``. Which names are
enum members is asked of the installed bindings, so a member reached directly on its class is found whatever the
class; the scoped spelling works on every QGIS this plugin supports (3.22 included).
"""

import ast
import configparser
import enum
import importlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", ".build", "build", "dist", ".git", "__pycache__", "demo-output"}
BINDINGS = ("qgis.PyQt.", "qgis.core", "qgis.gui", "qgis.analysis")
REMOVED_MODULES = {"QtWebKit", "QtWebKitWidgets", "QtXmlPatterns", "QtScript"}
REMOVED_CLASSES = {"QRegExp", "QRegExpValidator", "QDesktopWidget", "QGLWidget"}
MOVED_TO_QTGUI = {"QAction", "QActionGroup", "QShortcut", "QUndoCommand", "QUndoStack", "QFileSystemModel"}


def _sources():
    for path in sorted(REPO.rglob("*.py")):
        if not SKIP_DIRS.intersection(path.relative_to(REPO).parts):
            yield path


def _is_enum_member(value) -> bool:
    return type(type(value)).__name__ == "enumtype" or isinstance(value, enum.Enum)  # sip (PyQt5) or Python enum


def qt5_only(source: str, name: str = "<source>") -> list:
    """``file:line: what`` for each Qt5-only construct in ``source``."""
    tree = ast.parse(source)
    bound = {}  # local name -> the bindings' object it names
    found = []

    def say(node, what):
        found.append(f"{name}:{node.lineno}: {what}")

    qt5_fallbacks = {  # imports in an `except ImportError:` block: the Qt5 branch of a Qt6-first import
        id(n) for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) for s in h.body for n in ast.walk(s)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("PyQt5", "PyQt6", "sip"):
                    say(node, f"import {alias.name}: import Qt through qgis.PyQt")
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in ("PyQt5", "PyQt6", "sip"):
                say(node, f"from {node.module}: import Qt through qgis.PyQt")
            elif node.module == "qgis.PyQt" or node.module.startswith(BINDINGS):
                for alias in node.names:
                    if (
                        alias.name in MOVED_TO_QTGUI
                        and node.module.endswith("QtWidgets")
                        and id(node) not in qt5_fallbacks
                    ):
                        say(node, f"{alias.name} from QtWidgets: Qt6 has it in QtGui (import it from there first)")
                    if alias.name in REMOVED_MODULES | REMOVED_CLASSES or node.module.split(".")[-1] in REMOVED_MODULES:
                        say(node, f"{alias.name} from {node.module}: removed in Qt6")
                        continue
                    try:
                        bound[alias.asname or alias.name] = getattr(importlib.import_module(node.module), alias.name)
                    except (ImportError, AttributeError):
                        pass
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        if node.attr in ("exec_", "print_"):
            say(node, f".{node.attr}: use .{node.attr[:-1]}() (Qt6 has no {node.attr})")
            continue
        chain, inner = [], node.value
        while isinstance(inner, ast.Attribute):
            chain.insert(0, inner.attr)
            inner = inner.value
        if not isinstance(inner, ast.Name) or inner.id not in bound:
            continue
        owner = bound[inner.id]
        try:
            for part in chain:
                owner = getattr(owner, part)
            value = getattr(owner, node.attr)
        except AttributeError:
            continue
        if isinstance(owner, type) and _is_enum_member(value) and type(value).__name__ != node.attr:
            if getattr(getattr(owner, type(value).__name__, None), node.attr, None) is not None:
                scoped = ".".join([inner.id, *chain, type(value).__name__, node.attr])
                say(node, f"{ast.unparse(node)}: unscoped enum member, write {scoped}")
    return found


def test_the_check_finds_each_qt5_only_construct():
    source = (
        "from qgis.PyQt.QtCore import Qt\n"
        "from qgis.PyQt.QtWidgets import QMessageBox\n"
        "from qgis.PyQt.QtCore import QRegExp\n"
        "from qgis.core import Qgis\n"
        "from PyQt5.QtCore import QTimer\n"
        "from qgis.PyQt.QtWidgets import QAction\n"
        "a = Qt.AlignLeft\n"
        "b = QMessageBox.Yes\n"
        "c = Qgis.Warning\n"
        "dialog.exec_()\n"
        "ok = Qt.AlignmentFlag.AlignLeft, QMessageBox.StandardButton.Yes, Qgis.MessageLevel.Warning, dialog.exec()\n"
    )
    lines = sorted(int(f.split(":")[1]) for f in qt5_only(source))
    assert lines == [3, 5, 6, 7, 8, 9, 10]


def test_every_source_runs_on_qt5_and_qt6():
    found = [f for path in _sources() for f in qt5_only(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))]
    assert not found, f"{len(found)} Qt5-only constructs:\n" + "\n".join(found)


def test_metadata_offers_the_plugin_to_qgis_4():
    """The plugin repository lists a plugin for QGIS 4 only when qgisMaximumVersion is 4.0 or more."""
    parser = configparser.ConfigParser()
    parser.read(REPO / "metadata.txt", encoding="utf-8")
    general = parser["general"]
    assert float(general["qgisMinimumVersion"]) <= 3.22 and float(general["qgisMaximumVersion"]) >= 4.0
