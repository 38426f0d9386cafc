"""Install, repair or remove the PyTorch the deep algorithms use, in the plugin's own folder.

pip installs ``TORCH_REQUIREMENT`` with ``--target`` into a staging folder; ``finalize`` moves what QGIS's
Python already imports (Debian 12: sympy, jinja2, ...) into ``torch_private``, which only torch sees
(``engine.core.torch_support.import_torch``), and makes the staging folder the dependency folder. A cancel or
a failure removes the staging folder: nothing is left half-installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import sys
from typing import Dict, List, Optional, Set

from ..algorithms.torch_paths import add_dependency_paths, dependency_folder, torch_available
from ..engine.core.torch_support import INSTALL_ACTION, MENU_PATH, PRIVATE_FOLDER


def _torch_requirement() -> str:
    """The torch pin of requirements.txt (shipped in the plugin ZIP): the one place it is written."""
    with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "requirements.txt")) as fh:
        for line in fh:
            if line.strip().startswith("torch"):
                return line.strip()
    raise RuntimeError("requirements.txt names no torch version")


TORCH_REQUIREMENT = _torch_requirement()
# CPU: PyTorch's CPU-only wheel index (a few hundred MB instead of several GB); CUDA: the registry's default.
INDEXES = {
    "cpu": os.environ.get("DEEPUNMIX_TORCH_INDEX", "https://download.pytorch.org/whl/cpu"),
    "cuda": os.environ.get("DEEPUNMIX_TORCH_CUDA_INDEX", ""),
}
VARIANT_LABELS = {"cpu": "CPU build", "cuda": "CUDA build (NVIDIA GPU)"}
# A folder of wheels to install from instead of the registry (offline sites, CI).
WHEELS_ENV = "DEEPUNMIX_TORCH_WHEELS"
# What a user's install of the CPU build took (issue 15: 878 MB in the profile folder).
DISK_MB = 880
# torch's own top-level packages: never moved, even if something of that name exists elsewhere
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


def variants() -> List[str]:
    """The builds this platform can use (no CUDA on macOS)."""
    return ["cpu"] if sys.platform == "darwin" else ["cpu", "cuda"]


def install_command(target: str, variant: str = "cpu") -> List[str]:
    cmd = [python_executable(), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    cmd += ["--progress-bar", "off", "--target", target, TORCH_REQUIREMENT]
    wheels = os.environ.get(WHEELS_ENV)
    if wheels:
        return cmd + ["--no-index", "--find-links", wheels]
    return cmd + (["--extra-index-url", INDEXES[variant]] if INDEXES[variant] else [])


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


def provided_elsewhere(name: str, *folders: str) -> bool:
    """True when ``import name`` works from outside ``folders`` (QGIS's Python has it)."""
    inside = [os.path.realpath(f) + os.sep for f in folders]
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
    return all(not os.path.realpath(loc).startswith(tuple(inside)) for loc in locations)


def make_private(folder: str, also_ignore: str = "") -> List[str]:
    """Move into ``folder/torch_private`` every distribution QGIS's Python already imports (outside ``folder`` and
    ``also_ignore``, an older install) and that is not torch's own; return their names."""
    private = os.path.join(folder, PRIVATE_FOLDER)
    moved = []
    for dist, tops in distributions(folder).items():
        modules = {m: t for m, t in ((_module_name(t), t) for t in tops) if m}
        if not modules or set(modules) & OWN_PACKAGES:
            continue
        if all(provided_elsewhere(m, folder, *filter(None, [also_ignore])) for m in modules):
            os.makedirs(private, exist_ok=True)
            for entry in [*modules.values(), dist]:  # not bin/, share/, __pycache__/: other packages' too
                if os.path.lexists(os.path.join(folder, entry)):
                    os.replace(os.path.join(folder, entry), os.path.join(private, entry))
            moved.append(dist.split("-")[0])
    return moved


def prepare(target: str) -> str:
    """An empty staging folder for ``target``; return it."""
    staging = staging_folder(target)
    discard(staging)
    os.makedirs(staging)
    return staging


def finalize(staging: str, target: str) -> List[str]:
    """Make ``staging`` the dependency folder, on sys.path; return what went to ``torch_private``."""
    moved = make_private(staging, also_ignore=target)
    remove(target)
    os.replace(staging, target)
    add_dependency_paths()
    importlib.invalidate_caches()
    return moved


def discard(staging: str) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def remove(target: str) -> None:
    """Delete the dependency folder (torch and what only it uses)."""
    if os.path.isdir(target):
        shutil.rmtree(target)


def question_text(target: str) -> str:
    installed = os.path.isdir(os.path.join(target, "torch"))
    state = (
        "PyTorch is installed for DeepUnmix; install it again (repair) or remove it?"
        if installed
        else "DeepUnmix's deep algorithms (DDICA, BUDDIP, UnDIP, deep ICA) need PyTorch. Install it now?"
    )
    return (
        f"{state}\n\n{TORCH_REQUIREMENT} with pip, in\n{target}\n(a folder only DeepUnmix uses). The CPU build "
        f"downloads a few hundred MB and takes about {DISK_MB} MB on disk; the CUDA build, for an NVIDIA GPU, "
        "several GB. QGIS's own packages are not replaced. It takes a few minutes; you can cancel."
    )


def offer_install(iface) -> None:
    """Tell the user once, in the message bar, that torch is missing, with a button to the installer."""
    if iface is None or torch_available():
        return
    offer_install.offer = InstallOffer(iface)  # a module-level reference keeps the slot's object alive


class InstallOffer:
    """The message-bar message with its *Install PyTorch…* button. The slot is a bound method of this kept
    object: a closure crashed QGIS when pressed after many QGIS objects were wrapped (test_install_from_zip)."""

    def __init__(self, iface):
        from qgis.core import Qgis
        from qgis.PyQt.QtWidgets import QPushButton

        self.iface = iface
        self.bar = iface.messageBar()
        self.widget = self.bar.createMessage(
            "DeepUnmix",
            "PyTorch is not installed: the deep algorithms (DDICA, BUDDIP, UnDIP, deep ICA) need it; the classic "
            f"ones work without it. Later: {MENU_PATH}.",
        )
        self.button = QPushButton("Install PyTorch…")
        self.widget.layout().addWidget(self.button)
        self.button.clicked.connect(self.clicked)
        self.bar.pushWidget(self.widget, Qgis.MessageLevel.Warning)

    def clicked(self):
        from qgis.PyQt.QtCore import QTimer

        # not inside the button's own signal: removing the message deletes the button
        QTimer.singleShot(0, self.ask)

    def ask(self):
        if ask_and_run(self.iface):  # on Cancel the offer stays in the message bar
            self.bar.popWidget(self.widget)


class PyTorchMenu:
    """The lasting route: *Raster → DeepUnmix → Install / repair / remove PyTorch…*."""

    def __init__(self, iface):
        from .spectra_gui import MENU, QAction  # QAction from QtGui first (Qt6)

        self.iface = iface
        self.menu = MENU
        self.action = QAction(INSTALL_ACTION, iface.mainWindow())
        self.action.triggered.connect(self.triggered)
        iface.addPluginToRasterMenu(MENU, self.action)

    def triggered(self, _checked=False):
        ask_and_run(self.iface)

    def unload(self):
        self.iface.removePluginRasterMenu(self.menu, self.action)


def ask_and_run(iface, target: Optional[str] = None) -> bool:
    """The question (CPU, CUDA, remove, cancel), then that; False when the user cancels."""
    from qgis.PyQt.QtWidgets import QMessageBox

    target = target or dependency_folder()
    box = QMessageBox(iface.mainWindow() if iface is not None else None)
    box.setWindowTitle("PyTorch for DeepUnmix")
    box.setIcon(QMessageBox.Icon.Question)
    box.setText(question_text(target))
    choices = {
        box.addButton(f"Install the {VARIANT_LABELS[v]}", QMessageBox.ButtonRole.AcceptRole): v for v in variants()
    }
    if os.path.isdir(target):
        choices[box.addButton("Remove PyTorch", QMessageBox.ButtonRole.DestructiveRole)] = "remove"
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    choice = choices.get(box.clickedButton())
    if choice is None:
        return False
    if choice == "remove":
        remove(target)
        say(iface, "PyTorch removed from DeepUnmix's folder; restart QGIS if a deep algorithm already used it.", "Info")
        return True
    ask_and_run.installer = Installer(iface, target, choice)  # kept while it runs
    ask_and_run.installer.run()
    return True


def say(iface, text: str, level: str, duration: int = 10) -> None:
    """``text`` in QGIS's message bar at ``level`` (a ``Qgis.MessageLevel`` name); nothing without a desktop."""
    from qgis.core import Qgis

    if iface is not None:
        iface.messageBar().pushMessage("DeepUnmix", text, getattr(Qgis.MessageLevel, level), duration)


class Installer:
    """The pip process and its progress dialog."""

    def __init__(self, iface, target: Optional[str] = None, variant: str = "cpu"):
        self.iface = iface
        self.target = target or dependency_folder()
        self.variant = variant
        self.staging = staging_folder(self.target)
        self.process = None
        self.dialog = None
        self.canceled = False
        self.output: List[str] = []

    def run(self) -> None:
        from qgis.PyQt.QtCore import QProcess, Qt
        from qgis.PyQt.QtWidgets import QProgressDialog

        prepare(self.target)
        parent = self.iface.mainWindow() if self.iface is not None else None
        self.dialog = QProgressDialog("Starting pip…", "Cancel", 0, 0, parent)
        self.dialog.setWindowTitle(f"Installing PyTorch ({VARIANT_LABELS[self.variant]}) for DeepUnmix")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.dialog.setMinimumWidth(520)
        self.dialog.canceled.connect(self.cancel)
        cmd = install_command(self.staging, self.variant)
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
        if self.dialog is not None:
            self.dialog.reset()
        if self.canceled or exit_code != 0:
            discard(self.staging)
            if self.canceled:
                return say(self.iface, "PyTorch installation canceled: nothing was installed.", "Info")
            return say(self.iface, "Installing PyTorch failed: " + " / ".join(self.output[-3:]), "Critical", 0)
        try:
            finalize(self.staging, self.target)
        except OSError as exc:
            discard(self.staging)
            return say(self.iface, f"Installing PyTorch failed: {exc}", "Critical", 0)
        ready = "restart QGIS to use it" if "torch" in sys.modules else "the deep algorithms are ready"
        say(self.iface, f"PyTorch installed: {ready}.", "Success")


def status_line(line: str) -> str:
    """pip's output line as the progress dialog shows it (long lines shortened)."""
    return line if len(line) <= 110 else line[:107] + "…"
