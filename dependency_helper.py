"""Offer to install PyTorch into the plugin's own dependency folder.

The classic algorithms never need torch. When it is missing, the plugin says so once in the
message bar and offers a button. Pressing it asks first (what, how big, where); pip then runs in a
``QProcess`` behind a progress dialog that shows pip's current step and has a Cancel button. pip
installs into a staging folder beside ``<profile>/python/deepunmix_deps``; on success the
packages QGIS's Python already provides (jinja2, markupsafe, sympy, ...) are deleted from it and it
replaces the dependency folder, which ``deps`` appends to ``sys.path`` (so it can never shadow what
QGIS has). A cancel or a failure removes the staging folder: nothing is left half-installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import sys
from typing import Dict, List, Optional, Set

from .deps import add_dependency_paths, dependency_folder, torch_available


def _torch_requirement() -> str:
    """The torch pin of requirements.txt (shipped in the plugin ZIP): the one place it is written."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "requirements.txt")) as fh:
        for line in fh:
            if line.strip().startswith("torch"):
                return line.strip()
    raise RuntimeError("requirements.txt names no torch version")


TORCH_REQUIREMENT = _torch_requirement()
# PyTorch's CPU-only wheel index: a few hundred MB instead of several GB of CUDA libraries.
TORCH_CPU_INDEX = os.environ.get("DEEPUNMIX_TORCH_INDEX", "https://download.pytorch.org/whl/cpu")
# What a user's install of the CPU build took (issue 15: 878 MB in the profile folder).
DISK_MB = 880
# torch's own top-level packages: never deleted, even if something of that name exists elsewhere
OWN_PACKAGES = frozenset({"torch", "functorch", "torchgen"})


def python_executable() -> str:
    """The Python interpreter matching QGIS's embedded one (sys.executable is QGIS itself)."""
    exe = "python.exe" if os.name == "nt" else f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (
        os.path.join(sys.exec_prefix, "bin", exe),
        os.path.join(sys.exec_prefix, exe),
        shutil.which(exe),
        shutil.which("python3"),
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    return "python3"


def install_command(target: str) -> List[str]:
    cmd = [
        python_executable(),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        "--target",
        target,
        TORCH_REQUIREMENT,
    ]
    if TORCH_CPU_INDEX:
        cmd += ["--extra-index-url", TORCH_CPU_INDEX]
    return cmd


def staging_folder(target: str) -> str:
    return target.rstrip(os.sep) + ".partial"


def distributions(folder: str) -> Dict[str, Set[str]]:
    """{dist-info folder name: the top-level entries (packages, modules, scripts) it installed} in ``folder``."""
    result = {}
    for entry in sorted(os.listdir(folder)):
        if not entry.endswith(".dist-info"):
            continue
        tops = set()
        record = os.path.join(folder, entry, "RECORD")
        if os.path.isfile(record):
            with open(record, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    first = line.split(",", 1)[0].strip().replace("\\", "/").split("/", 1)[0]
                    if first and first != entry and not first.startswith(".."):
                        tops.add(first)
        result[entry] = tops
    return result


def _module_name(entry: str) -> Optional[str]:
    if entry.endswith(".py"):
        return entry[:-3]
    if entry.endswith((".so", ".pyd")):
        return entry.split(".", 1)[0]
    if entry in ("bin", "__pycache__", "share", "include") or entry.endswith((".data", ".pth")) or "." in entry:
        return None
    return entry


def provided_elsewhere(name: str, folder: str) -> bool:
    """True when ``import name`` already works without ``folder`` (QGIS's Python has it)."""
    folder = os.path.realpath(folder)
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    locations = [spec.origin] if spec.origin and spec.origin not in ("built-in", "frozen") else []
    locations += list(spec.submodule_search_locations or [])
    if not locations:
        return spec.origin in ("built-in", "frozen")
    return all(not os.path.realpath(loc).startswith(folder + os.sep) for loc in locations)


def prune_shadowing(folder: str, keep=OWN_PACKAGES) -> List[str]:
    """Delete from ``folder`` every distribution whose modules QGIS's Python already imports; return their names.

    A distribution is kept when any of its modules is in ``keep`` or is missing elsewhere.
    """
    removed = []
    for dist, tops in distributions(folder).items():
        modules = {m for m in (_module_name(t) for t in tops) if m}
        if not modules or modules & set(keep):
            continue
        if all(provided_elsewhere(m, folder) for m in modules):
            for entry in tops | {dist}:
                path = os.path.join(folder, entry)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                elif os.path.lexists(path):
                    os.remove(path)
            removed.append(dist.split("-")[0])
    return removed


def finalize(staging: str, target: str) -> List[str]:
    """Prune ``staging``, make it the dependency folder, put it on sys.path; return what was pruned."""
    removed = prune_shadowing(staging)
    if os.path.isdir(target):
        shutil.rmtree(target)
    os.replace(staging, target)
    add_dependency_paths()
    importlib.invalidate_caches()
    return removed


def discard(staging: str) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def question_text(target: str) -> str:
    return (
        f"DeepUnmix's deep algorithms (DDICA, BUDDIP, UnDIP, deep ICA) need PyTorch.\n\n"
        f"Install PyTorch ({TORCH_REQUIREMENT}, CPU build) with pip now? It downloads a few hundred MB and "
        f"takes about {DISK_MB} MB on disk, in\n{target}\n(a folder only DeepUnmix uses; delete it to "
        "uninstall). Packages QGIS already has are not replaced. It takes a few minutes; you can cancel."
    )


def offer_install(iface) -> None:
    """Tell the user once, in the message bar, that torch is missing, with an Install button."""
    if iface is None or torch_available():
        return
    offer_install.offer = InstallOffer(iface)  # a module-level reference keeps the slot's object alive


class InstallOffer:
    """The message-bar message with its *Install PyTorch (CPU)* button.

    The button calls a bound method of this object, which ``offer_install`` keeps: with a closure as
    the slot, QGIS crashed (segfault) when the button was pressed after other Python code had
    wrapped many QGIS objects (tests/gui/test_install_from_zip.py).
    """

    def __init__(self, iface):
        from qgis.core import Qgis
        from qgis.PyQt.QtWidgets import QPushButton

        self.iface = iface
        self.installer = None
        self.bar = iface.messageBar()
        self.widget = self.bar.createMessage(
            "DeepUnmix",
            "PyTorch is not installed: the deep algorithms (DDICA, BUDDIP, UnDIP, deep ICA) need it; the classic "
            "ones work without it.",
        )
        self.button = QPushButton("Install PyTorch (CPU)…")
        self.widget.layout().addWidget(self.button)
        self.button.clicked.connect(self.clicked)
        self.bar.pushWidget(self.widget, Qgis.MessageLevel.Warning)

    def clicked(self):
        from qgis.PyQt.QtCore import QTimer

        # not inside the button's own signal: removing the message deletes the button
        QTimer.singleShot(0, self.ask)

    def ask(self):
        installer = Installer(self.iface)
        if installer.confirm():  # on No the offer stays in the message bar
            self.bar.popWidget(self.widget)
            self.installer = installer  # kept while it runs
            installer.run()


class Installer:
    """The confirmation, the pip process and its progress dialog."""

    def __init__(self, iface, target: Optional[str] = None):
        self.iface = iface
        self.target = target or dependency_folder()
        self.staging = staging_folder(self.target)
        self.process = None
        self.dialog = None
        self.canceled = False
        self.output: List[str] = []

    def confirm(self) -> bool:
        """Ask the user (what, how big, where); True on Yes."""
        from qgis.PyQt.QtWidgets import QMessageBox

        parent = self.iface.mainWindow() if self.iface is not None else None
        answer = QMessageBox.question(
            parent,
            "Install PyTorch for DeepUnmix",
            question_text(self.target),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def run(self) -> None:
        from qgis.PyQt.QtCore import QProcess, Qt
        from qgis.PyQt.QtWidgets import QProgressDialog

        discard(self.staging)
        os.makedirs(self.staging, exist_ok=True)
        parent = self.iface.mainWindow() if self.iface is not None else None
        self.dialog = QProgressDialog("Starting pip…", "Cancel", 0, 0, parent)
        self.dialog.setWindowTitle("Installing PyTorch for DeepUnmix")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.dialog.setMinimumWidth(520)
        self.dialog.canceled.connect(self.cancel)
        cmd = install_command(self.staging)
        self.process = QProcess()
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        self.process.readyReadStandardOutput.connect(self._read)
        self.process.finished.connect(self._finished)
        self.process.start(cmd[0], cmd[1:])
        self.dialog.show()

    def _read(self) -> None:
        text = bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        self.output += lines
        if lines and self.dialog is not None:
            self.dialog.setLabelText(status_line(lines[-1]))

    def cancel(self) -> None:
        self.canceled = True
        if self.process is not None:
            self.process.kill()

    def _finished(self, exit_code, _status=None) -> None:
        from qgis.core import Qgis

        if self.dialog is not None:
            self.dialog.reset()
        bar = self.iface.messageBar() if self.iface is not None else None
        if self.canceled:
            discard(self.staging)
            if bar:
                bar.pushMessage(
                    "DeepUnmix", "PyTorch installation canceled: nothing was installed.", Qgis.MessageLevel.Info, 10
                )
            return
        if exit_code != 0:
            discard(self.staging)
            if bar:
                bar.pushMessage(
                    "DeepUnmix",
                    "Installing PyTorch failed: " + " / ".join(self.output[-3:]),
                    Qgis.MessageLevel.Critical,
                    0,
                )
            return
        try:
            finalize(self.staging, self.target)
        except OSError as exc:
            discard(self.staging)
            if bar:
                bar.pushMessage("DeepUnmix", f"Installing PyTorch failed: {exc}", Qgis.MessageLevel.Critical, 0)
            return
        if bar:
            bar.pushMessage(
                "DeepUnmix", "PyTorch installed: the deep algorithms are ready.", Qgis.MessageLevel.Success, 10
            )


def status_line(line: str) -> str:
    """pip's output line as the progress dialog shows it (long lines shortened)."""
    return line if len(line) <= 110 else line[:107] + "…"


def install_torch(target: str = None) -> str:
    """Install torch without a GUI (blocking) into ``target``; return pip's output. Raises on failure."""
    import subprocess  # runs pip, see below  # nosec B404

    target = target or dependency_folder()
    staging = staging_folder(target)
    discard(staging)
    os.makedirs(staging)
    # accepted: install_command is this Python's pip with fixed arguments, no shell
    proc = subprocess.run(install_command(staging), capture_output=True, text=True)  # nosec B603
    if proc.returncode != 0:
        discard(staging)
        raise RuntimeError(f"pip failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    finalize(staging, target)
    return proc.stdout
