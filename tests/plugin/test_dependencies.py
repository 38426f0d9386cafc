"""Torch stays out of plugin load; without torch the deep algorithms say how to install it."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PRELUDE = textwrap.dedent(f"""
    import sys
    sys.path[:0] = [{str(REPO / ".build" / "plugins")!r}, '/usr/share/qgis/python/plugins']
    from qgis.core import QgsApplication
    app = QgsApplication([], False); app.initQgis()
    from processing.core.Processing import Processing
    Processing.initialize()
    import deepunmix
    from deepunmix.algorithms.provider import DeepUnmixProvider
    provider = DeepUnmixProvider()
    QgsApplication.processingRegistry().addProvider(provider)
""")


def _python(code):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=120
    )


def test_loading_the_plugin_does_not_import_torch(deepunmix):
    proc = _python("""
        assert len(provider.algorithms()) >= 9
        print("TORCH_LOADED", "torch" in sys.modules)
    """)
    assert "TORCH_LOADED False" in proc.stdout, proc.stderr[-2000:]


def test_without_torch_deep_algorithms_explain_and_classic_ones_work(deepunmix, scene):
    proc = _python(f"""
        sys.modules["torch"] = None  # what a missing install looks like to import
        import processing
        from qgis.core import QgsProcessingException
        try:
            processing.run("deepunmix:ddica", {{"INPUT": {scene["cube"]!r}, "N_ENDMEMBERS": 3,
                           "OUTPUT_ABUNDANCES": {str(scene["dir"] / "a.tif")!r},
                           "OUTPUT_ENDMEMBERS": {str(scene["dir"] / "e.csv")!r}}})
        except QgsProcessingException as exc:
            print("MESSAGE", exc)
        help_text = QgsApplication.processingRegistry().algorithmById("deepunmix:ddica").shortHelpString()
        print("HELP_WARNS", help_text.startswith("PyTorch is not installed"))
        fcls_help = QgsApplication.processingRegistry().algorithmById("deepunmix:fcls").shortHelpString()
        print("FCLS_HELP_CLEAN", "not installed" not in fcls_help)
        res = processing.run("deepunmix:extract_endmembers", {{"INPUT": {scene["cube"]!r}, "N_ENDMEMBERS": 3,
                             "OUTPUT_ENDMEMBERS": {str(scene["dir"] / "v.csv")!r}}})
        print("CLASSIC_OK", bool(res["OUTPUT_ENDMEMBERS"]))
    """)
    assert "MESSAGE PyTorch is not installed" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Raster → DeepUnmix → Install / repair / remove PyTorch…" in proc.stdout and "CLASSIC_OK True" in proc.stdout
    assert "HELP_WARNS True" in proc.stdout and "FCLS_HELP_CLEAN True" in proc.stdout
    assert not (scene["dir"] / "a.tif").exists()


def test_install_command_targets_the_plugin_folder(monkeypatch):
    sys.path.insert(0, str(REPO / ".build" / "plugins"))
    from deepunmix.gui import torch_installer as dependency_helper

    monkeypatch.delenv(dependency_helper.WHEELS_ENV, raising=False)
    cpu, cuda = (dependency_helper.install_command("/tmp/deps", v) for v in ("cpu", "cuda"))
    assert cpu[1:4] == ["-m", "pip", "install"] and cpu[cpu.index("--target") + 1] == "/tmp/deps"
    assert any(c.startswith("torch==") for c in cpu)
    assert cpu[-2:] == ["--extra-index-url", dependency_helper.INDEXES["cpu"]]
    assert "--extra-index-url" not in cuda or dependency_helper.INDEXES["cuda"]  # the registry's default wheel
    monkeypatch.setenv(dependency_helper.WHEELS_ENV, "/srv/wheels")
    local = dependency_helper.install_command("/tmp/deps", "cpu")
    assert local[-3:] == ["--no-index", "--find-links", "/srv/wheels"] and "--extra-index-url" not in local


def _fake_dist(folder, dist, files):
    info = folder / f"{dist}.dist-info"
    info.mkdir(parents=True)
    for name in files:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("VALUE = 'from the deps folder'\n")
    (info / "RECORD").write_text("".join(f"{n},," + "\n" for n in files) + f"{dist}.dist-info/RECORD,,\n")


def test_installed_folder_never_shadows_what_qgis_has(deepunmix, tmp_path, monkeypatch):
    """pip --target output: what the system imports already goes to torch_private; appended to sys.path."""
    import jinja2

    from deepunmix.gui import torch_installer as dependency_helper
    from deepunmix.gui import torch_paths as deps

    target = tmp_path / "deepunmix_deps"
    _fake_dist(target, "brandnew_dep_xyz-0.9", ["brandnew_dep_xyz.py"])  # an earlier install, on the path
    (target / "old_file").write_text("")
    staging = Path(dependency_helper.prepare(str(target)))
    _fake_dist(staging, "Jinja2-3.1.6", ["jinja2/__init__.py"])
    _fake_dist(staging, "torch-2.13.0", ["torch/__init__.py", "functorch/__init__.py"])
    _fake_dist(staging, "brandnew_dep_xyz-1.0", ["brandnew_dep_xyz.py"])  # the earlier one is not "elsewhere"
    monkeypatch.setattr(deps, "dependency_folder", lambda: str(target))
    monkeypatch.setattr(sys, "path", [*sys.path, str(target)])
    moved = dependency_helper.finalize(str(staging), str(target))
    assert moved == ["Jinja2"]
    assert not staging.exists() and not (target / "old_file").exists()
    private = target / "torch_private"
    assert (private / "jinja2" / "__init__.py").exists() and (private / "Jinja2-3.1.6.dist-info").is_dir()
    assert not (target / "jinja2").exists()
    assert (target / "torch" / "__init__.py").exists() and (target / "brandnew_dep_xyz.py").exists()
    assert sys.path[-1] == str(target)  # appended: the system's packages come first
    import brandnew_dep_xyz

    assert brandnew_dep_xyz.VALUE == "from the deps folder"
    assert not jinja2.__file__.startswith(str(target))
    dependency_helper.remove(str(target))
    assert not target.exists()


def test_question_states_size_and_folder():
    sys.path.insert(0, str(REPO / ".build" / "plugins"))
    from deepunmix.gui.torch_installer import DISK_MB, question_text

    text = question_text("/profile/python/deepunmix_deps")
    assert f"{DISK_MB} MB" in text and "/profile/python/deepunmix_deps" in text and "cancel" in text
    assert "CUDA" in text and "Install it now?" in text


TORCH_CLOSURE = (
    "torch",
    "filelock",
    "typing_extensions",
    "sympy",
    "mpmath",
    "networkx",
    "jinja2",
    "markupsafe",
    "fsspec",
)


def _venv_staging(staging: Path) -> None:
    """A pip --target folder of the venv's torch and its dependencies, as links (no download)."""
    import importlib.metadata
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    for name in TORCH_CLOSURE:
        dist = importlib.metadata.distribution(name)
        records = [f for f in dist.files or [] if f.name == "RECORD"]
        info = Path(dist.locate_file(records[0])).parent if records else None
        if info is None or info.parent != site:  # the venv takes it from the system (jinja2 on Debian 12)
            continue
        (staging / info.name).symlink_to(info)
        for top in {f.parts[0] for f in dist.files} - {info.name, "..", "__pycache__", "bin"}:
            if (site / top).exists() and not (staging / top).exists():
                (staging / top).symlink_to(site / top)


def test_torch_from_the_plugins_folder_trains_and_leaves_the_systems_sympy(deepunmix, tmp_path):
    """The installer's layout in QGIS's Python: an optimiser works (torch sees its sympy), QGIS keeps its own.

    Before issue 22 the installer deleted torch's sympy: torch.optim.Adam failed with
    "cannot import name 'equal_valued' from 'sympy.core.numbers'" on Debian 12's sympy 1.11.
    """
    import sysconfig

    if not (Path(sysconfig.get_paths()["purelib"]) / "torch").is_dir() or not Path("/usr/bin/python3").exists():
        pytest.skip("needs torch in the venv and the system python")
    staging = tmp_path / "deepunmix_deps.partial"
    staging.mkdir()
    _venv_staging(staging)
    staged_sympy = (staging / "sympy").exists()
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO / ".build" / "plugins")!r})
        from deepunmix.gui import torch_installer as dependency_helper
        print("MOVED", dependency_helper.finalize({str(staging)!r}, {str(tmp_path / "deepunmix_deps")!r}))
        sys.path.append({str(tmp_path / "deepunmix_deps")!r})  # what deps does in QGIS
        from deepunmix.engine.core.torch_support import import_torch
        torch = import_torch()
        x = torch.zeros(3, requires_grad=True)
        opt = torch.optim.Adam([x], lr=0.1)
        ((x - 1) ** 2).sum().backward()
        opt.step()
        print("STEPPED", float(x.sum()) > 0)
        import sympy, jinja2
        print("SYSTEM", sympy.__file__.startswith("/usr/lib"), jinja2.__file__.startswith("/usr/lib"))
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DEEPUNMIX_DEPS", "VIRTUAL_ENV")}
    proc = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True, timeout=180, env=env)
    out = proc.stdout + proc.stderr[-3000:]
    assert "STEPPED True" in proc.stdout, out
    assert "SYSTEM True True" in proc.stdout, out
    # pip's sympy goes private exactly when QGIS's Python has its own (Debian 12: 1.11; sid's venv reuses the system's)
    system_sympy = subprocess.run(["/usr/bin/python3", "-c", "import sympy"], env=env).returncode == 0
    moved = "'sympy'" in proc.stdout.split("MOVED", 1)[1].splitlines()[0]
    assert moved == (system_sympy and staged_sympy), out


def _run_installer(installer, cancel_after_ms=None, timeout_ms=60000):
    from qgis.PyQt.QtCore import QEventLoop, QTimer
    from qgis.PyQt.QtWidgets import QPushButton

    loop = QEventLoop()
    installer.run()
    installer.process.finished.connect(lambda *a: QTimer.singleShot(0, loop.quit))
    if cancel_after_ms is not None:
        QTimer.singleShot(cancel_after_ms, installer.dialog.findChild(QPushButton).click)  # the Cancel button
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


FAKE_PIP = """
import os, sys, time
target = sys.argv[sys.argv.index("--target") + 1]
print("Collecting torch==2.13.0", flush=True)
if os.environ.get("FAKE_PIP_SLOW"):
    time.sleep(60)
os.makedirs(os.path.join(target, "fake_torch_xyz"))
open(os.path.join(target, "fake_torch_xyz", "__init__.py"), "w").close()
print("Successfully installed fake_torch_xyz-1.0", flush=True)
"""


def _fake_command(tmp_path):
    script = tmp_path / "fake_pip.py"
    script.write_text(FAKE_PIP)
    return lambda target, variant="cpu": [sys.executable, str(script), "--target", target]


def test_installer_dialog_shows_pips_steps_and_installs(deepunmix, qgis_app, tmp_path, monkeypatch):
    from deepunmix.gui import torch_installer as dependency_helper

    monkeypatch.setattr(dependency_helper, "install_command", _fake_command(tmp_path))
    monkeypatch.setattr(dependency_helper, "finalize", lambda staging, target: os.replace(staging, target))
    installer = dependency_helper.Installer(None, target=str(tmp_path / "deps"))
    _run_installer(installer)
    assert installer.output == ["Collecting torch==2.13.0", "Successfully installed fake_torch_xyz-1.0"]
    assert installer.dialog.labelText() == "Successfully installed fake_torch_xyz-1.0"
    assert (tmp_path / "deps" / "fake_torch_xyz" / "__init__.py").exists()
    assert not Path(installer.staging).exists()


def test_installer_cancel_leaves_nothing(deepunmix, qgis_app, tmp_path, monkeypatch):
    from deepunmix.gui import torch_installer as dependency_helper

    monkeypatch.setattr(dependency_helper, "install_command", _fake_command(tmp_path))
    monkeypatch.setenv("FAKE_PIP_SLOW", "1")
    installer = dependency_helper.Installer(None, target=str(tmp_path / "deps"))
    _run_installer(installer, cancel_after_ms=1500)
    assert installer.canceled
    assert not (tmp_path / "deps").exists() and not Path(installer.staging).exists()


def _answer(text_start):
    """Press the modal question's button whose text starts with ``text_start`` once it is shown."""
    from qgis.PyQt.QtCore import QTimer
    from qgis.PyQt.QtWidgets import QApplication

    seen = []

    def press():
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(50, press)
            return
        seen.extend(b.text() for b in box.buttons())
        next(b for b in box.buttons() if b.text().startswith(text_start)).click()

    QTimer.singleShot(0, press)
    return seen


def test_menu_question_removes_or_leaves_the_folder(deepunmix, qgis_app, tmp_path):
    from deepunmix.gui import torch_installer as dependency_helper

    target = tmp_path / "deepunmix_deps"
    (target / "torch").mkdir(parents=True)
    seen = _answer("Cancel")
    assert dependency_helper.ask_and_run(None, str(target)) is False and target.is_dir()
    assert set(seen) == {"Install the CPU build", "Install the CUDA build (NVIDIA GPU)", "Remove PyTorch", "Cancel"}
    _answer("Remove PyTorch")
    assert dependency_helper.ask_and_run(None, str(target)) is True and not target.exists()
