"""Torch stays out of plugin load; without torch the deep algorithms say how to install it."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PRELUDE = textwrap.dedent(f"""
    import sys
    sys.path[:0] = [{str(REPO / '.build' / 'plugins')!r}, '/usr/share/qgis/python/plugins']
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
    return subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, timeout=120)


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
            processing.run("deepunmix:ddica", {{"INPUT": {scene['cube']!r}, "N_ENDMEMBERS": 3,
                           "OUTPUT_ABUNDANCES": {str(scene['dir'] / 'a.tif')!r},
                           "OUTPUT_ENDMEMBERS": {str(scene['dir'] / 'e.csv')!r}}})
        except QgsProcessingException as exc:
            print("MESSAGE", exc)
        help_text = QgsApplication.processingRegistry().algorithmById("deepunmix:ddica").shortHelpString()
        print("HELP_WARNS", help_text.startswith("<p><b>PyTorch is not installed"))
        fcls_help = QgsApplication.processingRegistry().algorithmById("deepunmix:fcls").shortHelpString()
        print("FCLS_HELP_CLEAN", "not installed" not in fcls_help)
        res = processing.run("deepunmix:extract_endmembers", {{"INPUT": {scene['cube']!r}, "N_ENDMEMBERS": 3,
                             "OUTPUT_ENDMEMBERS": {str(scene['dir'] / 'v.csv')!r}}})
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
