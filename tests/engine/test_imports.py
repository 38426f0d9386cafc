"""The engine's imports: `import deepunmix.engine` stays light (neither qgis nor torch), no engine module imports the plugin,
optional packages are imported lazily, and the installed-package route (`deepunmix.engine`) works without qgis."""

import ast
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _modules_after(code: str) -> set:
    out = subprocess.run(
        [sys.executable, "-c", code + "; import sys; print(' '.join(sys.modules))"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {m.split(".")[0] for m in out.split()}


def test_import_engine_loads_neither_qgis_nor_torch():
    mods = _modules_after(
        "import deepunmix.engine as engine; engine.VCA; engine.FCLS; engine.DDICA; engine.BUDDIP; engine.UnDIP"
    )
    assert "qgis" not in mods
    assert "torch" not in mods
    assert "numpy" in mods  # sanity: the probe really ran


# --- layering, read from the source (every module, not only what `import engine` loads) ---------------------

PLUGIN_ONLY = {"qgis", "PyQt5", "PyQt6", "sip", "processing"}  # never in the engine
LAZY_ONLY = {"torch", "dask", "distributed", "matplotlib"}  # optional: imported inside the functions that need them
SKIP_DIRS = {".venv", ".build", "build", "dist", ".git", "__pycache__", "demo-output"}


def _imports(path: Path, package=None):
    """(module-level?, absolute top name or None, relative level, resolved room) of every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module_level = set()
    for node in tree.body:  # statements at module level, also under module-level if/try (TYPE_CHECKING, fallbacks)
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            module_level.add(id(n))
            stack.extend(ast.iter_child_nodes(n))
    package = path.relative_to(REPO).parent.parts if package is None else package
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            for alias in n.names:
                yield id(n) in module_level, alias.name.split(".")[0], 0, None
        elif isinstance(n, ast.ImportFrom):
            if n.level:
                base = package[: len(package) - (n.level - 1)] if n.level > 1 else package
                target = (*base, *(n.module.split(".") if n.module else ()))
                yield id(n) in module_level, None, n.level, target[0] if target else "<root>"
            else:
                yield id(n) in module_level, n.module.split(".")[0], 0, None


def _py_files(*rooms):
    for room in rooms:
        for path in sorted((REPO / room).rglob("*.py")):
            if not SKIP_DIRS & set(path.relative_to(REPO).parts):
                yield path


def test_engine_modules_import_nothing_of_the_plugin():
    bad = []
    for path in _py_files("engine"):
        for module_level, name, level, room in _imports(path):
            where = str(path.relative_to(REPO))
            if name in PLUGIN_ONLY:
                bad.append(f"{where}: imports {name}")
            if name in {"engine", "deepunmix", "algorithms", "gui", "plugin"}:
                bad.append(f"{where}: absolute import of {name} (use a relative import)")
            if level and room != "engine":
                bad.append(f"{where}: relative import leaves engine/ (to {room})")
            if module_level and name in LAZY_ONLY:
                bad.append(f"{where}: imports {name} at module level")
    assert bad == []


def test_algorithms_and_gui_keep_their_side():
    bad = []
    for path in _py_files("algorithms", "gui"):
        for module_level, name, level, room in _imports(path):
            where = str(path.relative_to(REPO))
            if module_level and name == "torch":
                bad.append(f"{where}: imports torch at module level (the provider loads every algorithm)")
            if name in {"engine", "deepunmix"}:
                bad.append(f"{where}: absolute import of {name} (use ..engine)")
            if path.parts[-2] == "algorithms" and room == "gui":
                bad.append(f"{where}: algorithms import gui/")
    assert bad == []


def test_layering_scanner_sees_violations(tmp_path):
    fake = tmp_path / "probe.py"
    fake.write_text(
        "import torch\nfrom qgis.core import QgsRasterLayer\nfrom ..deps import x\ndef f():\n    import dask\n"
    )
    found = list(_imports(fake, package=("engine",)))
    assert (True, "torch", 0, None) in found and (True, "qgis", 0, None) in found
    assert (True, None, 2, "deps") in found and (False, "dask", 0, None) in found


def _modules_in_package_route(code: str, site: Path) -> set:
    out = subprocess.run(
        [sys.executable, "-c", code + "; import sys; print(' '.join(sys.modules))"],
        cwd=site.parent,
        env=dict(os.environ, PYTHONPATH=str(site)),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_package_route_is_light_and_qgis_free(package_site):
    mods = _modules_in_package_route("import deepunmix", package_site)
    assert "deepunmix" in mods and not {"numpy", "qgis", "torch"} & {m.split(".")[0] for m in mods}
    mods = _modules_in_package_route(
        "import deepunmix.engine.abundances.fcls as f, numpy as np; E = np.eye(3)[:, :2] + 0.1; "
        "assert np.allclose(f.fcls(E @ np.array([[0.3], [0.7]]), E), [[0.3], [0.7]])",
        package_site,
    )
    tops = {m.split(".")[0] for m in mods}
    assert "deepunmix.engine.abundances.fcls" in mods and "qgis" not in tops and "torch" not in tops
    assert "engine" not in tops  # one name for the engine in this route


def test_nothing_imports_the_bare_engine_name():
    # the engine has one importable name, deepunmix.engine: a bare `engine` import is a second copy of every
    # module (and a second Cancelled class) beside the one the algorithms use
    bad = []
    for path in _py_files("."):
        for _, name, _, _ in _imports(path):
            if name == "engine":
                bad.append(str(path.relative_to(REPO)))
    assert sorted(set(bad)) == []
