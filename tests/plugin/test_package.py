"""The release ZIP installs like any QGIS plugin and its algorithms run."""

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

from plugin_helpers import build_zip

REPO = Path(__file__).resolve().parents[2]


def test_zip_holds_one_plugin_folder_without_dev_files(tmp_path):
    names = zipfile.ZipFile(build_zip(tmp_path)).namelist()
    assert {n.split("/")[0] for n in names} == {"deepunmix"}
    for required in (
        "metadata.txt",
        "__init__.py",
        "LICENSE",
        "icons/deepunmix.svg",
        "engine/abundances/fcls.py",
        "algorithms/provider.py",
        "models/estimate_then_ddica.model3",
        "gui/spectra_dock.py",
        "gui/results_viewer.py",
        "gui/torch_installer.py",
        "gui/cancel_display.py",
        "requirements.txt",
    ):
        assert f"deepunmix/{required}" in names, required
    assert not [
        n
        for n in names
        if n.startswith(("deepunmix/tests/", "deepunmix/benchmarks/", "deepunmix/.ci"))
        or "__pycache__" in n
        or n.endswith(".pyc")
    ]


def test_zip_installs_into_a_fresh_profile_and_runs(tmp_path, scene):
    plugins = tmp_path / "profile" / "python" / "plugins"
    plugins.mkdir(parents=True)
    zipfile.ZipFile(build_zip(tmp_path / "dist")).extractall(plugins)
    code = textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{str(plugins)!r}, '/usr/share/qgis/python/plugins']
        from qgis.core import QgsApplication
        app = QgsApplication([], False); app.initQgis()
        from processing.core.Processing import Processing
        Processing.initialize()
        import qgis.utils
        assert qgis.utils.loadPlugin('deepunmix'), 'loadPlugin failed'
        assert qgis.utils.startPlugin('deepunmix'), 'startPlugin failed'
        import deepunmix, processing
        assert deepunmix.__file__.startswith({str(plugins)!r}), deepunmix.__file__
        res = processing.run('deepunmix:extract_endmembers', {{'INPUT': {scene["cube"]!r}, 'N_ENDMEMBERS': 3,
                             'OUTPUT_ENDMEMBERS': {str(tmp_path / "e.csv")!r}}})
        print('RAN', res['OUTPUT_ENDMEMBERS'])
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert f"RAN {tmp_path / 'e.csv'}" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert (tmp_path / "e.csv").read_text().startswith("band,wavelength,")
