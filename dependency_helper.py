"""Offer to install PyTorch into the plugin's own dependency folder.

The classic algorithms never need torch. When it is missing, the plugin says so
once in the message bar and offers a button that runs pip (CPU build by
default) in a background task into ``<profile>/python/deepunmix_deps``; the
folder is added to ``sys.path`` so the deep algorithms work without restarting.
"""
from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from typing import List

from .deps import add_dependency_paths, dependency_folder, torch_available

TORCH_REQUIREMENT = "torch==2.13.0"
# PyTorch's CPU-only wheel index: a few hundred MB instead of several GB of CUDA libraries.
TORCH_CPU_INDEX = os.environ.get("DEEPUNMIX_TORCH_INDEX", "https://download.pytorch.org/whl/cpu")


def python_executable() -> str:
    """The Python interpreter matching QGIS's embedded one (sys.executable is QGIS itself)."""
    exe = "python.exe" if os.name == "nt" else f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (os.path.join(sys.exec_prefix, "bin", exe), os.path.join(sys.exec_prefix, exe), shutil.which(exe),
                      shutil.which("python3")):
        if candidate and os.path.exists(candidate):
            return candidate
    return "python3"


def install_command(target: str) -> List[str]:
    cmd = [python_executable(), "-m", "pip", "install", "--disable-pip-version-check", "--target", target,
           TORCH_REQUIREMENT]
    if TORCH_CPU_INDEX:
        cmd += ["--extra-index-url", TORCH_CPU_INDEX]
    return cmd


def install_torch(target: str = None) -> str:
    """Install torch into ``target`` (the plugin's folder by default); return pip's output. Raises on failure."""
    target = target or dependency_folder()
    os.makedirs(target, exist_ok=True)
    proc = subprocess.run(install_command(target), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pip failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    add_dependency_paths()
    importlib.invalidate_caches()
    return proc.stdout


def offer_install(iface) -> None:
    """Tell the user once, in the message bar, that torch is missing, with an Install button."""
    if iface is None or torch_available():
        return
    from qgis.core import Qgis, QgsApplication, QgsTask
    from qgis.PyQt.QtWidgets import QPushButton

    bar = iface.messageBar()
    widget = bar.createMessage(
        "DeepUnmix",
        "PyTorch is not installed: the deep algorithms (DDICA, BUDDIP, UnDIP, deep ICA) need it; the classic "
        "ones work without it.")
    button = QPushButton("Install PyTorch (CPU)")
    widget.layout().addWidget(button)

    def start():
        bar.clearWidgets()
        task = QgsTask.fromFunction("Installing PyTorch for DeepUnmix", lambda _task: install_torch(),
                                    on_finished=finished)
        QgsApplication.taskManager().addTask(task)
        offer_install.task = task  # keep a reference while it runs

    def finished(exception, result=None):
        if exception is None:
            bar.pushMessage("DeepUnmix", "PyTorch installed: the deep algorithms are ready.", Qgis.Success, 10)
        else:
            bar.pushMessage("DeepUnmix", f"Installing PyTorch failed: {exception}", Qgis.Critical, 0)

    button.clicked.connect(start)
    bar.pushWidget(widget, Qgis.Warning)
