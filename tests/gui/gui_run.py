"""What the generator-style GUI drivers share (``spectra_driver.py``, ``install_driver.py``).

QGIS runs a driver with ``--code`` (no ``__file__``, not on ``sys.path``): a driver finds this module
through its job's ``gui_dir``. Not collected by pytest.
"""

import json
import os
import time
import traceback

from qgis.core import QgsProject
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QApplication
from qgis.utils import iface


def fields_of(layer):
    return [[f.name(), f.typeName(), f.isNumeric()] for f in layer.fields()]


class Run:
    """Runs ``script(run)`` step by step; the status JSON gets notes, screenshots and any traceback."""

    def __init__(self, config, script):
        self.config = config
        self.started = time.monotonic()
        self.status = {"ok": False, "steps": [], "screenshots": [], "error": None, "tables": {}}
        self.steps = script(self)
        self.done = False
        self.watchdog = QTimer()  # also ends a run stuck in a modal dialog, where no step is resumed
        self.watchdog.timeout.connect(self.safely(self.check_time))
        self.watchdog.start(2000)
        QTimer.singleShot(500, self.safely(self.resume))

    def safely(self, callback):
        def call():
            try:
                if not self.done:
                    callback()
            except Exception:  # noqa: BLE001 - everything goes to the status file
                self.status["error"] = self.status["error"] or traceback.format_exc()  # keep the first
                self.end()

        return call

    def check_time(self):
        if time.monotonic() - self.started > float(self.config.get("timeout_s", 150)):
            raise TimeoutError(f"gave up after the steps {[s['step'] for s in self.status['steps']]}")

    def resume(self):
        try:
            pause = next(self.steps)
        except StopIteration:
            self.status["ok"] = True
            self.end()
            return
        QTimer.singleShot(pause, self.safely(self.resume))

    def note(self, name, **details):
        self.status["steps"].append(dict(step=name, t=round(time.monotonic() - self.started, 1), **details))
        with open(self.config["status"], "w", encoding="utf-8") as f:
            json.dump(self.status, f, indent=1, default=str)

    def screenshot(self, name):
        QApplication.processEvents()
        path = os.path.join(self.config["shots"], f"{len(self.status['screenshots']) + 1:02d}_{name}.png")
        if not QApplication.primaryScreen().grabWindow(0).save(path, "PNG"):
            raise RuntimeError(f"could not save {path}")
        self.status["screenshots"].append(path)

    def end(self):
        if self.done:
            return
        self.done = True
        if self.status["error"]:
            try:
                self.screenshot("error")
            except Exception:  # noqa: BLE001
                pass
        self.note("end")
        for widget in QApplication.topLevelWidgets():  # an open modal dialog would keep QGIS alive
            if widget.isVisible() and widget is not iface.mainWindow() and hasattr(widget, "reject"):
                widget.reject()
        QgsProject.instance().setDirty(False)
        QTimer.singleShot(200, iface.actionExit().trigger)
        QTimer.singleShot(15000, lambda: os._exit(0))


def log_of(dialog):
    """The text of an algorithm dialog's Log tab (not the help beside it)."""
    from qgis.PyQt.QtWidgets import QTextEdit

    log = dialog.findChild(QTextEdit, "txtLog")
    return log.toPlainText() if log is not None else ""


def run_in_dialog(run, alg_id, params, shot=None):
    """Open ``alg_id``'s dialog filled with ``params`` (``processing.execAlgorithmDialog``), press Run as a
    user would, wait for the end, close the dialog; return ``{"results", "log", "executed", "title"}``.

    ``shot``: a name for screenshots of the filled dialog and of its log after the run. The dialog's
    modal loop runs inside this call; QTimers drive it.
    """
    import processing
    from qgis.gui import QgsProcessingAlgorithmDialogBase

    seen = {}

    def press_run():
        dialogs = [  # Xvfb has no window manager: activeModalWidget() may not see it
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QgsProcessingAlgorithmDialogBase) and w.isVisible() and w.algorithm().id() == alg_id
        ]
        if not dialogs:
            raise RuntimeError(f"the dialog of {alg_id} did not open")
        dialog = dialogs[0]
        seen.update(dialog=dialog, title=dialog.windowTitle(), clicked=time.monotonic())
        if shot:
            run.screenshot(shot + "_dialog")
        QTest.mouseClick(dialog.runButton(), Qt.MouseButton.LeftButton)
        QTimer.singleShot(800, run.safely(wait))

    def wait():
        dialog = seen["dialog"]
        running = not dialog.wasExecuted() and (
            dialog.cancelButton().isEnabled()
            or time.monotonic() - seen["clicked"] < 3
            and not dialog.runButton().isEnabled()
        )
        if running:
            QTimer.singleShot(500, run.safely(wait))
            return
        QApplication.processEvents()
        seen.update(executed=dialog.wasExecuted(), log=log_of(dialog))
        if shot:
            run.screenshot(shot + "_log")
        dialog.close()  # ends the modal loop

    QTimer.singleShot(1200, run.safely(press_run))
    results = processing.execAlgorithmDialog(alg_id, params)
    if run.done:  # a step inside failed or the time ran out: the status file says why
        raise RuntimeError(f"stopped while running {alg_id}")
    if not seen.get("executed"):
        raise RuntimeError(f"{alg_id} failed in its dialog; log:\n" + seen.get("log", "")[-2000:])
    return {"results": results or {}, "log": seen["log"], "executed": True, "title": seen["title"]}
