"""Drives the spectra view and the endmember table in QGIS desktop; QGIS runs it with ``--code``.

Job (JSON named by ``DEEPUNMIX_GUI_CONFIG``): ``{"cube", "csv", "out_csv", "pixel", "status", "shots",
"timeout_s"}``. Steps, each on the event loop (QTimer) so the GUI keeps painting:

1. wait for the plugin; load the raster;
2. run ``deepunmix:extract_endmembers`` with its outputs loaded (as the algorithm dialog does): the
   spectra view must open with the run's CSV;
3. the run's CSV table, the same file added as a user dropping it (OGR) and through the delimited-text
   provider: their fields, and the attribute tables on screen;
4. Raster > DeepUnmix > Spectra view…: the file chooser, pick ``csv``;
5. the pixel tool: a real mouse click on ``pixel`` (row, col) of the raster;
6. write the status JSON and quit.

Screenshots of the whole X screen are saved at each step; any error goes to the status file.
"""
import json
import os
import time
import traceback

from qgis.core import QgsApplication, QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import QPoint, Qt, QTimer
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QApplication, QFileDialog, QLineEdit
from qgis.utils import iface, plugins

with open(os.environ["DEEPUNMIX_GUI_CONFIG"], encoding="utf-8") as _f:
    CONFIG = json.load(_f)


def fields_of(layer):
    return [[f.name(), f.typeName(), f.isNumeric()] for f in layer.fields()]


class SpectraDriver:
    def __init__(self, config):
        self.config = config
        self.started = time.monotonic()
        self.deadline = self.started + float(config.get("timeout_s", 150))
        self.status = {"ok": False, "steps": [], "screenshots": [], "error": None, "tables": {}}
        self._done = False
        QTimer.singleShot(500, self.guard(self.wait_for_plugin))
        self.watchdog = QTimer()  # a step stuck in a modal loop schedules nothing: end the run anyway
        self.watchdog.timeout.connect(self.guard(lambda: None))
        self.watchdog.start(2000)

    # --- plumbing -------------------------------------------------------
    def guard(self, step):
        def run():
            if self._done:
                return
            try:
                if time.monotonic() > self.deadline:
                    raise TimeoutError(f"gave up in {step.__name__}")
                step()
            except Exception:  # noqa: BLE001 - everything goes to the status file
                self.status["error"] = traceback.format_exc()
                self.finish()

        return run

    def later(self, step, ms=300):
        QTimer.singleShot(ms, self.guard(step))

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

    def finish(self):
        if self._done:
            return
        self._done = True
        try:
            if self.status["error"]:
                self.screenshot("error")
        except Exception:  # noqa: BLE001
            pass
        self.note("finish")
        for widget in QApplication.topLevelWidgets():
            if widget.isVisible() and widget is not iface.mainWindow() and hasattr(widget, "reject"):
                widget.reject()
        QgsProject.instance().setDirty(False)
        QTimer.singleShot(200, iface.actionExit().trigger)
        QTimer.singleShot(15000, lambda: os._exit(0))

    @property
    def spectra(self):
        return plugins["deepunmix"].spectra

    # --- the steps --------------------------------------------------------
    def wait_for_plugin(self):
        registry = QgsApplication.processingRegistry()
        if registry.algorithmById("deepunmix:extract_endmembers") is None or "deepunmix" not in plugins:
            self.later(self.wait_for_plugin, 500)
            return
        window = iface.mainWindow()
        window.setGeometry(QApplication.primaryScreen().availableGeometry())
        self.layer = iface.addRasterLayer(self.config["cube"], "scene")
        if self.layer is None or not self.layer.isValid():
            raise RuntimeError("QGIS could not load the raster")
        self.note("plugin", menu_actions=[a.text() for a in self.spectra.actions])
        self.later(self.run_algorithm, 1000)

    def run_algorithm(self):
        import processing

        processing.runAndLoadResults("deepunmix:extract_endmembers", {
            "INPUT": self.layer, "N_ENDMEMBERS": 3, "METHOD": 0, "SEED": 0, "BAD_BANDS": "12-15",
            "OUTPUT_ENDMEMBERS": self.config["out_csv"]})
        dock = self.spectra.dock
        self.note("run", dock_visible=bool(dock and dock.isVisible()), dock_path=dock.path if dock else None,
                  dock_names=dock.table.names if dock and dock.table else None)
        iface.setActiveLayer(self.layer)
        iface.zoomToActiveLayer()
        self.later(self.shot_after_run, 1500)

    def shot_after_run(self):
        self.screenshot("spectra_after_run")
        run_layer = [layer for layer in QgsProject.instance().mapLayers().values()
                     if isinstance(layer, QgsVectorLayer) and layer.source().startswith(self.config["out_csv"])]
        if not run_layer:
            raise RuntimeError("the run's endmember CSV was not loaded into the project")
        self.tables = {"processing output": run_layer[0]}
        path = self.config["out_csv"]
        self.tables["added as a file (drag and drop)"] = iface.addVectorLayer(path, "dropped endmembers", "ogr")
        uri = f"file://{path}?type=csv&detectTypes=yes&geomType=none"
        self.tables["delimited-text provider"] = iface.addVectorLayer(uri, "delimited-text endmembers",
                                                                      "delimitedtext")
        for route, layer in self.tables.items():
            if layer is None or not layer.isValid():
                raise RuntimeError(f"the CSV did not load ({route})")
            self.status["tables"][route] = {"provider": layer.providerType(), "fields": fields_of(layer),
                                            "features": layer.featureCount()}
        self.note("tables")
        self.table_queue = ["processing output", "delimited-text provider"]
        self.later(self.show_table, 300)

    def show_table(self):
        route = self.table_queue.pop(0)
        self.dialog = iface.showAttributeTable(self.tables[route])
        self.dialog.setGeometry(60, 80, 900, 560)
        self.dialog.setWindowTitle(f"{self.dialog.windowTitle()} [{route}]")
        self.later(lambda: self.shot_table(route), 1200)

    def shot_table(self, route):
        self.screenshot("attribute_table_" + route.split()[0].replace("-", "_"))
        self.dialog.close()
        self.later(self.show_table if self.table_queue else self.open_from_menu, 500)

    def open_from_menu(self):
        self.later(self.pick_file, 1500)
        self.spectra.view_action.trigger()  # runs the file dialog's own event loop until pick_file accepts it
        dock = self.spectra.dock
        self.note("opened", dock_path=dock.path, dock_names=dock.table.names if dock.table else None)
        self.later(self.click_pixel, 800)

    def pick_file(self):
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            raise RuntimeError(f"expected the file chooser, found {type(dialog).__name__}")
        name = dialog.findChild(QLineEdit, "fileNameEdit")  # typed, as a user would
        name.setText(self.config["csv"])
        QApplication.processEvents()
        self.screenshot("file_chooser")
        self.note("file_chooser", title=dialog.windowTitle(), filters=dialog.nameFilters())
        QTest.keyClick(name, Qt.Key_Return)

    def click_pixel(self):
        self.screenshot("spectra_opened")
        self.spectra.pixel_action.trigger()
        canvas = iface.mapCanvas()
        row, col = self.config["pixel"]
        ext = self.layer.extent()
        x = ext.xMinimum() + (col + 0.5) * self.layer.rasterUnitsPerPixelX()
        y = ext.yMaximum() - (row + 0.5) * self.layer.rasterUnitsPerPixelY()
        device = canvas.getCoordinateTransform().transform(x, y)
        QTest.mouseClick(canvas.viewport(), Qt.LeftButton, Qt.NoModifier, QPoint(round(device.x()), round(device.y())))
        pixel = self.spectra.dock.pixel
        self.note("pixel", tool_active=canvas.mapTool() is self.spectra.tool,
                  row=getattr(pixel, "row", None), col=getattr(pixel, "col", None),
                  abundances=None if pixel is None or pixel.abundances is None else pixel.abundances.tolist(),
                  rmse=getattr(pixel, "rmse", None), info=self.spectra.dock.info.text())
        self.later(self.last_shot, 1500)

    def last_shot(self):
        self.screenshot("pixel_tool")
        self.status["ok"] = True
        self.finish()


DRIVER = SpectraDriver(CONFIG)
