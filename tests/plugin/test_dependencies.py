"""Torch stays out of plugin load; without torch the deep algorithms say how to install it."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

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
        print("HELP_WARNS", help_text.startswith("<p><b>PyTorch is not installed"))
        fcls_help = QgsApplication.processingRegistry().algorithmById("deepunmix:fcls").shortHelpString()
        print("FCLS_HELP_CLEAN", "not installed" not in fcls_help)
        res = processing.run("deepunmix:extract_endmembers", {{"INPUT": {scene["cube"]!r}, "N_ENDMEMBERS": 3,
                             "OUTPUT_ENDMEMBERS": {str(scene["dir"] / "v.csv")!r}}})
        print("CLASSIC_OK", bool(res["OUTPUT_ENDMEMBERS"]))
    """)
    assert "MESSAGE PyTorch is not installed" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "make setup" in proc.stdout and "CLASSIC_OK True" in proc.stdout
    assert "HELP_WARNS True" in proc.stdout and "FCLS_HELP_CLEAN True" in proc.stdout
    assert not (scene["dir"] / "a.tif").exists()


def test_install_command_targets_the_plugin_folder():
    sys.path.insert(0, str(REPO / ".build" / "plugins"))
    from deepunmix.dependency_helper import install_command

    cmd = install_command("/tmp/deps")
    assert cmd[1:4] == ["-m", "pip", "install"] and "--target" in cmd and "/tmp/deps" in cmd
    assert any(c.startswith("torch==") for c in cmd)


def _fake_dist(folder, dist, files):
    info = folder / f"{dist}.dist-info"
    info.mkdir(parents=True)
    for name in files:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("VALUE = 'from the deps folder'\n")
    (info / "RECORD").write_text("".join(f"{n},," + "\n" for n in files) + f"{dist}.dist-info/RECORD,,\n")


def test_installed_folder_never_shadows_what_qgis_has(deepunmix, tmp_path, monkeypatch):
    """pip --target output minus what the system imports already, appended to sys.path (no download)."""
    import jinja2

    from deepunmix import dependency_helper, deps

    target = tmp_path / "deepunmix_deps"
    staging = Path(dependency_helper.staging_folder(str(target)))
    _fake_dist(staging, "Jinja2-3.1.6", ["jinja2/__init__.py"])
    _fake_dist(staging, "torch-2.13.0", ["torch/__init__.py", "functorch/__init__.py"])
    _fake_dist(staging, "brandnew_dep_xyz-1.0", ["brandnew_dep_xyz.py"])
    monkeypatch.setattr(deps, "dependency_folder", lambda: str(target))
    monkeypatch.setattr(sys, "path", list(sys.path))
    removed = dependency_helper.finalize(str(staging), str(target))
    assert removed == ["Jinja2"]
    assert not staging.exists() and not (target / "jinja2").exists()
    assert not (target / "Jinja2-3.1.6.dist-info").exists()
    assert (target / "torch" / "__init__.py").exists() and (target / "brandnew_dep_xyz.py").exists()
    assert sys.path[-1] == str(target)  # appended: the system's packages come first
    import brandnew_dep_xyz

    assert brandnew_dep_xyz.VALUE == "from the deps folder"
    assert not jinja2.__file__.startswith(str(target))
    # a second install replaces the first; a cancel leaves nothing behind
    dependency_helper.discard(str(staging))
    assert not staging.exists()


def test_question_states_size_and_folder():
    sys.path.insert(0, str(REPO / ".build" / "plugins"))
    from deepunmix.dependency_helper import DISK_MB, question_text

    text = question_text("/profile/python/deepunmix_deps")
    assert f"{DISK_MB} MB" in text and "/profile/python/deepunmix_deps" in text and "cancel" in text


def test_torch_works_from_an_appended_folder_with_the_systems_older_packages():
    """What the appended folder means for torch: QGIS's sympy (older) wins, torch still computes gradients."""
    import sysconfig

    site = sysconfig.get_paths()["purelib"]
    if not (Path(site) / "torch").is_dir() or not Path("/usr/bin/python3").exists():
        import pytest

        pytest.skip("needs torch in the venv and the system python")
    code = (
        f"import sys; sys.path.append({site!r}); import torch, sympy; "
        "x = torch.randn(30, 4, requires_grad=True); torch.linalg.eigh(x.T @ x)[0].sum().backward(); "
        "print(sympy.__file__.startswith('/usr/lib'), torch.__file__.startswith(sys.path[-1]))"
    )
    proc = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.split() == ["True", "True"], proc.stderr[-2000:]


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
    return lambda target: [sys.executable, str(script), "--target", target]


def test_installer_dialog_shows_pips_steps_and_installs(deepunmix, qgis_app, tmp_path, monkeypatch):
    from deepunmix import dependency_helper

    monkeypatch.setattr(dependency_helper, "install_command", _fake_command(tmp_path))
    monkeypatch.setattr(dependency_helper, "finalize", lambda staging, target: os.replace(staging, target))
    installer = dependency_helper.Installer(None, target=str(tmp_path / "deps"))
    _run_installer(installer)
    assert installer.output == ["Collecting torch==2.13.0", "Successfully installed fake_torch_xyz-1.0"]
    assert installer.dialog.labelText() == "Successfully installed fake_torch_xyz-1.0"
    assert (tmp_path / "deps" / "fake_torch_xyz" / "__init__.py").exists()
    assert not Path(installer.staging).exists()


def test_installer_cancel_leaves_nothing(deepunmix, qgis_app, tmp_path, monkeypatch):
    from deepunmix import dependency_helper

    monkeypatch.setattr(dependency_helper, "install_command", _fake_command(tmp_path))
    monkeypatch.setenv("FAKE_PIP_SLOW", "1")
    installer = dependency_helper.Installer(None, target=str(tmp_path / "deps"))
    _run_installer(installer, cancel_after_ms=1500)
    assert installer.canceled
    assert not (tmp_path / "deps").exists() and not Path(installer.staging).exists()
