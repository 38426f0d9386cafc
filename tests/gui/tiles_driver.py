"""Runs an image prior over and under its memory budget in QGIS desktop; QGIS runs it with ``--code``.

Job (JSON named by ``DEEPUNMIX_GUI_CONFIG``): ``{"cube", "runs", "status", "shots", "timeout_s", "gui_dir"}``;
each run is ``{"name", "alg", "label", "params"}``. For each run, in order: the algorithm's dialog, filled with
``params`` (outputs opened after running, as the dialog does), Run pressed; then what was loaded on the canvas
(the abundance layer: valid, bands, band names, nodata, renderer; the endmember table; the log), and a
screenshot of the canvas showing that run's abundance layer alone. Any error goes to the status file.
"""

import json
import os
import sys

from qgis.core import QgsApplication, QgsProject, QgsRasterLayer, QgsVectorLayer
from qgis.PyQt.QtWidgets import QApplication
from qgis.utils import iface, plugins

with open(os.environ["DEEPUNMIX_GUI_CONFIG"], encoding="utf-8") as _f:
    CONFIG = json.load(_f)
sys.path.insert(0, CONFIG["gui_dir"])  # gui_run.py lives beside this file
from gui_run import Run, run_in_dialog


def _layers_from(path):
    return [lyr for lyr in QgsProject.instance().mapLayers().values() if lyr.source().split("|")[0] == path]


def _raster_info(layer):
    provider = layer.dataProvider()
    return {
        "name": layer.name(),
        "valid": layer.isValid(),
        "bands": layer.bandCount(),
        "band_names": [layer.bandName(b) for b in range(1, layer.bandCount() + 1)],
        "has_nodata": [provider.sourceHasNoDataValue(b) for b in range(1, layer.bandCount() + 1)],
        "nodata": [provider.sourceNoDataValue(b) for b in range(1, layer.bandCount() + 1)],
        "renderer": type(layer.renderer()).__name__,
        "width": layer.width(),
        "height": layer.height(),
    }


def _show_only(layer):
    """Tick ``layer`` alone in the layer tree (the canvas then draws only it)."""
    root = QgsProject.instance().layerTreeRoot()
    for node in root.findLayers():
        node.setItemVisibilityChecked(node.layerId() == layer.id())
    for group in root.findGroups():
        group.setItemVisibilityChecked(False)


def script(run):
    config = run.config
    registry = QgsApplication.processingRegistry()
    while "deepunmix" not in plugins or any(registry.algorithmById(r["alg"]) is None for r in config["runs"]):
        yield 500
    iface.mainWindow().setGeometry(QApplication.primaryScreen().availableGeometry())  # no window manager
    scene = iface.addRasterLayer(config["cube"], "scene")
    if scene is None or not scene.isValid():
        raise RuntimeError("QGIS could not load the raster")
    run.note("plugin")
    yield 500

    for job in config["runs"]:
        params = dict(job["params"], INPUT=scene)
        done = run_in_dialog(run, job["alg"], params, shot=job["name"])
        abundance_path = job["params"]["OUTPUT_ABUNDANCES"]
        rasters = [lyr for lyr in _layers_from(abundance_path) if isinstance(lyr, QgsRasterLayer)]
        tables = [lyr for lyr in _layers_from(job["params"]["OUTPUT_ENDMEMBERS"]) if isinstance(lyr, QgsVectorLayer)]
        run.status["tables"][job["name"]] = {
            "abundance": [_raster_info(lyr) for lyr in rasters],
            "endmember_tables": [
                {"name": t.name(), "valid": t.isValid(), "features": t.featureCount(), "fields": t.fields().names()}
                for t in tables
            ],
            "log": done["log"],
        }
        run.note("ran_" + job["name"], executed=done["executed"], title=done["title"])
        if not rasters:
            raise RuntimeError(f"{job['name']}: the abundance layer was not loaded")
        _show_only(rasters[0])
        iface.setActiveLayer(rasters[0])
        iface.zoomToActiveLayer()
        canvas = iface.mapCanvas()
        canvas.refreshAllLayers()
        yield 1500
        while canvas.isDrawing():
            yield 300
        run.screenshot(job["name"] + "_map")


RUN = Run(CONFIG, script)
