"""Drives the spectra view and the endmember table in QGIS desktop; QGIS runs it with ``--code``.

Job (JSON named by ``DEEPUNMIX_GUI_CONFIG``): ``{"cube", "csv", "out_csv", "pixel", "status", "shots",
"timeout_s"}``. The steps are one generator, ``script``; it yields a pause in ms and is resumed by a
QTimer, so the GUI keeps painting in between:

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
import sys

from qgis.core import QgsApplication, QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import QPoint, Qt, QTimer
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QApplication, QFileDialog, QLineEdit
from qgis.utils import iface, plugins

with open(os.environ["DEEPUNMIX_GUI_CONFIG"], encoding="utf-8") as _f:
    CONFIG = json.load(_f)
sys.path.insert(0, CONFIG["gui_dir"])  # gui_run.py lives beside this file
from gui_run import Run, fields_of


def script(run):
    config = run.config
    registry = QgsApplication.processingRegistry()
    while registry.algorithmById("deepunmix:extract_endmembers") is None or "deepunmix" not in plugins:
        yield 500
    spectra = plugins["deepunmix"].spectra
    iface.mainWindow().setGeometry(QApplication.primaryScreen().availableGeometry())  # no window manager
    layer = iface.addRasterLayer(config["cube"], "scene")
    if layer is None or not layer.isValid():
        raise RuntimeError("QGIS could not load the raster")
    run.note("plugin", menu_actions=[a.text() for a in spectra.actions])
    yield 1000

    # 2. a run, its outputs loaded as the algorithm dialog loads them
    import processing

    processing.runAndLoadResults(
        "deepunmix:extract_endmembers",
        {
            "INPUT": layer,
            "N_ENDMEMBERS": 3,
            "METHOD": 0,
            "SEED": 0,
            "BAD_BANDS": "12-15",
            "OUTPUT_ENDMEMBERS": config["out_csv"],
        },
    )
    dock = spectra.dock
    run.note(
        "run",
        dock_visible=bool(dock and dock.isVisible()),
        dock_path=dock.path if dock else None,
        dock_names=dock.table.names if dock and dock.table else None,
    )
    iface.setActiveLayer(layer)
    iface.zoomToActiveLayer()
    yield 1500
    run.screenshot("spectra_after_run")

    # 3. the endmember CSV as a table, by three routes
    path = config["out_csv"]
    loaded = [
        lyr
        for lyr in QgsProject.instance().mapLayers().values()
        if isinstance(lyr, QgsVectorLayer) and lyr.source().startswith(path)
    ]
    if not loaded:
        raise RuntimeError("the run's endmember CSV was not loaded into the project")
    tables = {
        "processing output": loaded[0],
        "added as a file (drag and drop)": iface.addVectorLayer(path, "dropped endmembers", "ogr"),
        "delimited-text provider": iface.addVectorLayer(
            f"file://{path}?type=csv&detectTypes=yes&geomType=none", "delimited-text endmembers", "delimitedtext"
        ),
    }
    for route, table in tables.items():
        if table is None or not table.isValid():
            raise RuntimeError(f"the CSV did not load ({route})")
        run.status["tables"][route] = {
            "provider": table.providerType(),
            "fields": fields_of(table),
            "features": table.featureCount(),
        }
    run.note("tables")
    for route in ("processing output", "delimited-text provider"):
        dialog = iface.showAttributeTable(tables[route])
        dialog.setGeometry(60, 80, 900, 560)
        yield 1200
        run.screenshot("attribute_table_" + route.split()[0].replace("-", "_"))
        dialog.close()
        yield 500

    # 4. Raster > DeepUnmix > Spectra view...: the file chooser's modal loop runs inside trigger()
    def pick_file():
        chooser = QApplication.activeModalWidget()
        if not isinstance(chooser, QFileDialog):
            raise RuntimeError(f"expected the file chooser, found {type(chooser).__name__}")
        name = chooser.findChild(QLineEdit, "fileNameEdit")  # typed, as a user would
        name.setText(config["csv"])
        QApplication.processEvents()
        run.screenshot("file_chooser")
        run.note("file_chooser", title=chooser.windowTitle(), filters=chooser.nameFilters())
        QTest.keyClick(name, Qt.Key.Key_Return)

    QTimer.singleShot(1500, run.safely(pick_file))
    spectra.view_action.trigger()
    run.note("opened", dock_path=dock.path, dock_names=dock.table.names if dock.table else None)
    yield 800
    run.screenshot("spectra_opened")

    # 5. the pixel tool: a real click on the canvas
    spectra.pixel_action.trigger()
    canvas = iface.mapCanvas()
    row, col = config["pixel"]
    ext = layer.extent()
    device = canvas.getCoordinateTransform().transform(
        ext.xMinimum() + (col + 0.5) * layer.rasterUnitsPerPixelX(),
        ext.yMaximum() - (row + 0.5) * layer.rasterUnitsPerPixelY(),
    )
    QTest.mouseClick(
        canvas.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        QPoint(round(device.x()), round(device.y())),
    )
    pixel = dock.pixel
    run.note(
        "pixel",
        tool_active=canvas.mapTool() is spectra.tool,
        row=getattr(pixel, "row", None),
        col=getattr(pixel, "col", None),
        abundances=None if pixel is None or pixel.abundances is None else pixel.abundances.tolist(),
        rmse=getattr(pixel, "rmse", None),
        info=dock.info.text(),
    )
    yield 1500
    run.screenshot("pixel_tool")


RUN = Run(CONFIG, script)
