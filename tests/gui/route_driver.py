"""The user's steps that run inside QGIS's own Python, for ``test_user_route.py`` (not collected by pytest).

    python3 route_driver.py install PLUGIN_ZIP   # Install from ZIP's unzip, then the plugin's PyTorch installer
    python3 route_driver.py run JOB_JSON         # processing.run of each job, as the README's standalone script

The profile is the one ``QGIS_CUSTOM_CONFIG_PATH`` names. Prints one JSON line last.
"""

import json
import os
import subprocess  # nosec B404
import sys
import time

from qgis.core import QgsApplication


def install(plugin_zip):
    sys.path.append(os.path.join(QgsApplication.pkgDataPath(), "python"))
    from pyplugin_installer.unzip import unzip  # what the Plugin Manager's Install from ZIP runs

    plugins = os.path.join(QgsApplication.qgisSettingsDirPath(), "python", "plugins")
    os.makedirs(plugins, exist_ok=True)
    unzip(plugin_zip, plugins)
    sys.path.insert(0, plugins)
    from deepunmix.algorithms import torch_paths
    from deepunmix.gui import torch_installer

    started = time.monotonic()
    target = torch_paths.dependency_folder()
    staging = torch_installer.prepare(target)  # the Installer's steps, its pip run without the dialog
    subprocess.run(torch_installer.install_command(staging, "cpu"), check=True)  # nosec B603
    moved = torch_installer.finalize(staging, target)
    install_s = time.monotonic() - started
    from deepunmix.engine.core.torch_support import import_torch

    torch = import_torch()  # in the same session, as the README promises (no restart)
    torch.optim.Adam([torch.zeros(2, requires_grad=True)])
    return {
        "plugin": os.path.join(plugins, "deepunmix"),
        "target": torch_paths.dependency_folder(),
        "moved": moved,
        "install_s": round(install_s, 1),
        "same_session_torch": torch.__file__,
    }


def run(job_path):
    with open(job_path, encoding="utf-8") as f:
        jobs = json.load(f)
    sys.path.append(os.path.join(QgsApplication.prefixPath(), "share", "qgis", "python", "plugins"))
    import processing
    from processing.core.Processing import Processing

    Processing.initialize()
    sys.path.insert(0, os.path.join(QgsApplication.qgisSettingsDirPath(), "python", "plugins"))
    import deepunmix

    plugin = deepunmix.classFactory(None)
    plugin.initProcessing()
    try:
        import sympy  # another plugin's, loaded before the deep fits (qgis_process runs have none)
    except ImportError:
        sympy = None
    results = {}
    for alg, params in jobs.items():
        results[alg] = processing.run(alg, params)
    plugin.unload()
    return {
        "results": results,
        "torch": sys.modules["torch"].__file__,
        "sympy_for_others": getattr(sympy, "__file__", None),
        "sympy_kept": sys.modules.get("sympy") is sympy,
    }


if __name__ == "__main__":
    QgsApplication.setPrefixPath(os.environ.get("QGIS_PREFIX_PATH", "/usr"), True)
    APP = QgsApplication([], False)
    APP.initQgis()
    try:
        out = install(sys.argv[2]) if sys.argv[1] == "install" else run(sys.argv[2])
        print(json.dumps(out, default=str))
    finally:
        APP.exitQgis()
