"""Drives QGIS desktop like a user; QGIS runs this file with ``--code`` (not collected by pytest).

Reads its job from the JSON file named by ``DEEPUNMIX_GUI_CONFIG``:
``{"cube", "alg", "params", "out_dir", "status", "shots", "timeout_s"}``. Steps, each scheduled on the
event loop with a QTimer so the GUI keeps painting:

1. wait until the DeepUnmix provider is registered; load the raster as a layer (as a user dropping it);
2. open the Processing Toolbox, type the algorithm's name in its search box, select it, press Enter
   (the toolbox opens the algorithm dialog, modally);
3. fill the dialog's parameters, click its Run button;
4. wait for the run to finish, look at the log, close the dialog;
5. check the abundance layer (and its style), the report, the Results Viewer; zoom to the layer;
6. write the status JSON and quit QGIS.

Screenshots (PNG of the whole X screen) are saved at each step. Any error is written to the status
file and QGIS quits, so the test never hangs on a modal error box.
"""

import json
import os
import time
import traceback

from qgis.core import Qgis, QgsApplication, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QApplication
from qgis.utils import iface, plugins

with open(os.environ["DEEPUNMIX_GUI_CONFIG"], encoding="utf-8") as _f:
    CONFIG = json.load(_f)


class DesktopDriver:
    """A little state machine: each step does its work and schedules the next one."""

    def __init__(self, config):
        self.config = config
        self.started = time.monotonic()
        self.status = {"ok": False, "steps": [], "screenshots": [], "messages": [], "error": None}
        self.dialog = None
        self.deadline = self.started + float(config.get("timeout_s", 150))
        self._done = False
        QgsApplication.messageLog().messageReceived.connect(self._log_message)
        QTimer.singleShot(500, self.guard(self.wait_for_provider))

    # --- plumbing -------------------------------------------------------
    def guard(self, step):
        """Wrap a step: any exception ends the run with the traceback in the status file."""

        def run():
            if self._done:
                return
            try:
                if time.monotonic() > self.deadline:
                    raise TimeoutError(f"gave up in {step.__name__} after {time.monotonic() - self.started:.0f} s")
                step()
            except Exception:  # noqa: BLE001 - everything goes to the status file
                self.status["error"] = traceback.format_exc()
                self.finish()

        return run

    def later(self, step, ms=300):
        QTimer.singleShot(ms, self.guard(step))

    def note(self, name, **details):
        entry = {"step": name, "t": round(time.monotonic() - self.started, 1)}
        entry.update(details)
        self.status["steps"].append(entry)
        self.write_status()

    def _log_message(self, message, tag, level):
        if level >= Qgis.MessageLevel.Warning or tag in ("Processing", "DeepUnmix"):
            self.status["messages"].append(f"[{tag}] {message}"[:500])

    def screenshot(self, name):
        QApplication.processEvents()
        path = os.path.join(self.config["shots"], f"{len(self.status['screenshots']) + 1:02d}_{name}.png")
        pixmap = QApplication.primaryScreen().grabWindow(0)
        if pixmap.isNull() or not pixmap.save(path, "PNG"):
            raise RuntimeError(f"could not save the screenshot {path}")
        self.status["screenshots"].append(path)

    def write_status(self):
        self.status["elapsed_s"] = round(time.monotonic() - self.started, 1)
        tmp = self.config["status"] + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.status, f, indent=1, default=str)
        os.replace(tmp, self.config["status"])

    def finish(self):
        if self._done:
            return
        self._done = True
        try:
            if self.status["error"]:
                self.screenshot("error")
        except Exception:  # noqa: BLE001
            pass
        self.write_status()
        for widget in QApplication.topLevelWidgets():  # a modal dialog would keep its event loop alive
            if widget.isVisible() and widget is not iface.mainWindow() and hasattr(widget, "reject"):
                widget.reject()
        QgsProject.instance().setDirty(False)  # no "save the project?" question on exit
        QTimer.singleShot(200, iface.actionExit().trigger)
        QTimer.singleShot(15000, lambda: os._exit(0))  # exit hangs: the status file is written already

    # --- the steps --------------------------------------------------------
    def wait_for_provider(self):
        registry = QgsApplication.processingRegistry()
        if registry.algorithmById(self.config["alg"]) is None or "processing" not in plugins:
            self.later(self.wait_for_provider, 500)
            return
        import qgis.utils

        self.note("provider", plugin_loaded="deepunmix" in qgis.utils.plugins, qgis_version=Qgis.QGIS_VERSION)
        layer = iface.addRasterLayer(self.config["cube"], "scene")
        if layer is None or not layer.isValid():
            raise RuntimeError("QGIS could not load the input raster")
        self.input_layer_id = layer.id()
        window = iface.mainWindow()  # Xvfb has no window manager to maximise it: fill the screen
        window.setGeometry(QApplication.primaryScreen().availableGeometry())
        self.later(self.run_batch if self.config.get("mode") == "batch" else self.open_toolbox, 1000)

    def open_toolbox(self):
        processing_plugin = plugins["processing"]
        processing_plugin.toolboxAction.setChecked(True)  # Processing > Toolbox
        toolbox = processing_plugin.toolbox
        if not toolbox.isVisible():
            raise RuntimeError("the Processing Toolbox did not open")
        toolbox.searchBox.setFocus()
        QTest.keyClicks(toolbox.searchBox, self.config.get("search", "DDICA"))
        self.toolbox = toolbox
        self.note("toolbox", visible=toolbox.isVisible())
        self.later(self.open_dialog, 800)

    def open_dialog(self):
        tree = self.toolbox.algorithmTree
        selected = tree.selectedAlgorithm()
        if selected is None or selected.id() != self.config["alg"]:
            index = self._find_algorithm(tree)
            if index is None:
                raise RuntimeError(f"{self.config['alg']} is not in the filtered toolbox")
            tree.setCurrentIndex(index)
        self.screenshot("toolbox")
        self.note("toolbox_selected", algorithm=tree.selectedAlgorithm().id())
        # the toolbox runs the dialog's exec_() from Enter: the next step runs inside that modal loop
        self.later(self.fill_dialog, 1500)
        QTest.keyClick(self.toolbox.searchBox, Qt.Key.Key_Return)

    def _find_algorithm(self, tree):
        model = tree.model()
        pending = [model.index(r, 0) for r in range(model.rowCount())]
        while pending:
            index = pending.pop()
            alg = tree.algorithmForIndex(index)
            if alg is not None and alg.id() == self.config["alg"]:
                return index
            pending.extend(model.index(r, 0, index) for r in range(model.rowCount(index)))
        return None

    def fill_dialog(self):
        from qgis.gui import QgsProcessingAlgorithmDialogBase

        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QgsProcessingAlgorithmDialogBase):
            dialogs = [
                w
                for w in QApplication.topLevelWidgets()
                if isinstance(w, QgsProcessingAlgorithmDialogBase) and w.isVisible()
            ]
            if not dialogs:
                raise RuntimeError("the algorithm dialog did not open")
            dialog = dialogs[0]
        self.dialog = dialog
        params = dict(self.config["params"])
        params[self.config.get("input_param", "INPUT")] = QgsProject.instance().mapLayer(self.input_layer_id)
        dialog.setParameters(params)
        filled = dialog.createProcessingParameters()
        self.note(
            "dialog",
            title=dialog.windowTitle(),
            algorithm=dialog.algorithm().id(),
            input=getattr(filled.get("INPUT"), "source", lambda: str(filled.get("INPUT")))(),
        )
        self.screenshot("dialog")
        QTest.mouseClick(dialog.runButton(), Qt.MouseButton.LeftButton)  # Run
        self.run_clicked = time.monotonic()
        self.later(self.wait_for_run, 1000)

    def wait_for_run(self):
        dialog = self.dialog
        if not dialog.wasExecuted() and dialog.cancelButton().isEnabled():
            self.later(self.wait_for_run, 1000)  # still running
            return
        if not dialog.wasExecuted():
            # finished without success (the dialog resets its GUI and stays open)
            if time.monotonic() - self.run_clicked < 3 and not dialog.runButton().isEnabled():
                self.later(self.wait_for_run, 1000)
                return
        self.later(self.after_run, 1000)  # let the layer post-processing and the log settle

    def after_run(self):
        dialog = self.dialog
        log = self._dialog_log(dialog)
        self.status["log_tail"] = log[-3000:]
        self.note(
            "run_finished",
            executed=dialog.wasExecuted(),
            run_s=round(time.monotonic() - self.run_clicked, 1),
            results={k: str(v) for k, v in dialog.results().items()},
        )
        self.screenshot("dialog_log")
        if not dialog.wasExecuted():
            raise RuntimeError("the algorithm failed; log:\n" + log[-2000:])
        self.results = dialog.results()
        dialog.close()  # ends the toolbox's exec_()
        self.later(self.check_project, 800)

    @staticmethod
    def _dialog_log(dialog):
        from qgis.PyQt.QtWidgets import QTextEdit

        texts = [w.toPlainText() for w in dialog.findChildren(QTextEdit)]
        return max(texts, key=len) if texts else ""

    def check_project(self):
        from qgis.core import QgsMultiBandColorRenderer, QgsSingleBandPseudoColorRenderer

        layers = []
        abundance = None
        for layer in QgsProject.instance().mapLayers().values():
            info = {"name": layer.name(), "source": layer.source(), "type": type(layer).__name__}
            if isinstance(layer, QgsRasterLayer):
                info.update(bands=layer.bandCount(), renderer=type(layer.renderer()).__name__)
                if layer.id() != self.input_layer_id and "abundances" in layer.name().lower():
                    abundance = layer
            layers.append(info)
        styled = isinstance(
            getattr(abundance, "renderer", lambda: None)(),
            (QgsMultiBandColorRenderer, QgsSingleBandPseudoColorRenderer),
        )
        band_names = [abundance.bandName(b) for b in range(1, abundance.bandCount() + 1)] if abundance else []
        report = str(self.results.get("OUTPUT_REPORT") or "")
        from processing.core.ProcessingResults import resultsList

        viewer = [{"name": r.name, "filename": r.filename} for r in resultsList.getResults()]
        processing_plugin = plugins["processing"]
        processing_plugin.resultsAction.setChecked(True)  # Processing > Results Viewer
        QApplication.processEvents()
        dock_items = []
        tree = getattr(processing_plugin.resultsDock, "treeResults", None)
        if tree is not None:
            dock_items = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
        if abundance is not None:
            iface.setActiveLayer(abundance)
            iface.zoomToActiveLayer()
            iface.mapCanvas().zoomByFactor(1.15)  # a margin round the layer
        self.status["project"] = {
            "layers": layers,
            "abundance_layer": abundance.name() if abundance else None,
            "abundance_source": abundance.source() if abundance else None,
            "abundance_bands": abundance.bandCount() if abundance else 0,
            "abundance_band_names": band_names,
            "abundance_styled": styled,
            "report": report,
            "report_exists": bool(report) and os.path.isfile(report),
            "report_bytes": os.path.getsize(report) if report and os.path.isfile(report) else 0,
            "results_viewer": viewer,
            "results_dock_items": dock_items,
            "results_dock_visible": processing_plugin.resultsDock.isVisible(),
        }
        self.note("project_checked")
        self.later(self.final_screenshot, 2500)  # let the canvas render

    def final_screenshot(self):
        canvas = iface.mapCanvas()
        if canvas.isDrawing():
            self.later(self.final_screenshot, 500)
            return
        self.screenshot("result")
        self.status["ok"] = True
        self.note("done")
        self.finish()

    # --- batch mode (config "mode": "batch") ------------------------------
    def run_batch(self):
        """Batch dialog with one row per entry of config["batch_rows"], run with its Run button."""
        from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog

        alg = QgsApplication.processingRegistry().createAlgorithmById(self.config["alg"])
        dialog = BatchAlgorithmDialog(alg, parent=iface.mainWindow())
        dialog.show()
        panel = dialog.mainWidget()
        rows = [
            dict(r, **{self.config.get("batch_input", "INPUT"): self.config["cube"]}) for r in self.config["batch_rows"]
        ]
        while panel.batchRowCount() < len(rows):
            panel.addRow()
        context = dialog.processingContext() if hasattr(dialog, "processingContext") else None
        from qgis.core import QgsProcessingContext

        context = context or QgsProcessingContext()
        for row, values in enumerate(rows):
            for name, value in values.items():
                column = panel.parameter_to_column[name]
                definition = alg.parameterDefinition(name)
                if definition.isDestination():
                    panel.tblParameters.cellWidget(row + 1, column).setValue(value)
                else:
                    panel.wrappers[row][column].setParameterValue(value, context)
        self.dialog = dialog
        self.screenshot("batch_dialog")
        self.note("batch_filled", rows=panel.batchRowCount())
        QTest.mouseClick(dialog.runButton(), Qt.MouseButton.LeftButton)  # runs synchronously in 3.22
        self.later(self.after_batch, 1500)

    def after_batch(self):
        from processing.core.ProcessingResults import resultsList

        dialog = self.dialog
        log = self._dialog_log(dialog)
        self.status["log_tail"] = log[-3000:]
        processing_plugin = plugins["processing"]
        processing_plugin.resultsAction.setChecked(True)
        QApplication.processEvents()
        tree = getattr(processing_plugin.resultsDock, "treeResults", None)
        self.status["batch"] = {
            "results_viewer": [{"name": r.name, "filename": r.filename} for r in resultsList.getResults()],
            "results_dock_items": [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
            if tree is not None
            else [],
            "python_errors": [m for m in self.status["messages"] if "Traceback" in m or "Error" in m],
        }
        self.screenshot("batch_log")
        dialog.close()
        self.note("batch_done")
        self.later(self.final_batch_screenshot, 800)

    def final_batch_screenshot(self):
        self.screenshot("batch_result")
        self.status["ok"] = True
        self.note("done")
        self.finish()


DRIVER = DesktopDriver(CONFIG)
