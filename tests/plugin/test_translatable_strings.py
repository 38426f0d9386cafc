"""Every message the plugin passes to ``tr``/``translate`` is a constant that translators can catch: values go in with
``.format`` after the lookup, never through an f-string or a concatenation inside it."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOMS = ("algorithms", "gui")
TOP_LEVEL = ("plugin.py", "cancel_display.py", "results_viewer.py", "dependency_helper.py", "deps.py")


def _message(call: ast.Call):
    name = getattr(call.func, "attr", None) or getattr(call.func, "id", None)
    if name == "tr" and call.args:
        return call.args[0]
    if name == "translate" and len(call.args) >= 2:
        return call.args[1]
    return None


def _built_at_run_time(node) -> bool:
    """An f-string, or a ``+`` whose parts are not all string literals."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        parts = [node.left, node.right]
        return any(_built_at_run_time(p) or not isinstance(p, (ast.Constant, ast.BinOp)) for p in parts)
    return False


def _offenders(source: str, where: str):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            message = _message(node)
            if message is not None and _built_at_run_time(message):
                yield f"{where}:{node.lineno}"


def test_no_message_is_built_inside_tr():
    files = [p for room in ROOMS for p in sorted((REPO / room).rglob("*.py"))]
    files += [REPO / name for name in TOP_LEVEL if (REPO / name).exists()]
    assert len(files) > 10  # sanity: the plugin's sources were found
    bad = [o for p in files for o in _offenders(p.read_text(encoding="utf-8"), str(p.relative_to(REPO)))]
    assert bad == []


def test_the_check_catches_f_strings_and_concatenations():
    source = 'self.tr(f"{n} endmembers")\nself.tr("a: " + x)\nQCoreApplication.translate("C", f"{x}")\n'
    assert len(list(_offenders(source, "s"))) == 3
    assert list(_offenders('self.tr("{n} endmembers").format(n=n)\nself.tr("a" "b" + "c")\n', "s")) == []
