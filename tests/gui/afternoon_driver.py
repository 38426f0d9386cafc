"""A scientist's first afternoon in QGIS desktop (issue 24); QGIS runs this with ``--code``.

Job (JSON named by ``DEEPUNMIX_GUI_CONFIG``): ``{"mat", "truth", "out", "status", "shots", "timeout_s"}``.
Steps (one generator, ``script``, resumed by QTimers so the GUI keeps painting):

1. import the .mat dataset and run FCLS with its reference endmembers, outputs loaded as the dialog loads
   them; the map zoomed to the cube with the abundances over it (screenshot: the overlay);
2. Evaluate against the reference abundances: its scores table in the project, its attribute table open;
3. the FCLS dialog: its side panel;
4. the example model in the graphical modeler.

Layer names, extents, fields and help texts go to the status JSON.
"""

import json
import os
import sys

from qgis.core import QgsApplication, QgsProject, QgsRasterLayer, QgsVectorLayer
from qgis.PyQt.QtWidgets import QApplication, QTextBrowser
from qgis.utils import iface, plugins

with open(os.environ["DEEPUNMIX_GUI_CONFIG"], encoding="utf-8") as _f:
    CONFIG = json.load(_f)
sys.path.insert(0, CONFIG["gui_dir"])  # gui_run.py lives beside this file
from gui_run import Run, fields_of


def _extent(layer):
    e = layer.extent()
    return [e.xMinimum(), e.yMinimum(), e.xMaximum(), e.yMaximum()]


def _layers():
    return {layer.name(): layer for layer in QgsProject.instance().mapLayers().values()}


def script(run):
    import processing

    config, out = run.config, run.config["out"]
    registry = QgsApplication.processingRegistry()
    while registry.algorithmById("deepunmix:estimate_then_ddica") is None or "deepunmix" not in plugins:
        yield 500
    iface.mainWindow().setGeometry(QApplication.primaryScreen().availableGeometry())  # no window manager

    # 1. import, FCLS with the reference endmembers, the overlay
    processing.runAndLoadResults(
        "deepunmix:import_mat",
        {
            "INPUT": config["mat"],
            "TRUTH": config["truth"],
            "OUTPUT_CUBE": f"{out}/cube.tif",
            "OUTPUT_REFERENCE_ABUNDANCES": f"{out}/reference.tif",
            "OUTPUT_REFERENCE_ENDMEMBERS": f"{out}/reference.csv",
        },
    )
    yield 500
    cube = _layers()["jasper_like"]
    processing.runAndLoadResults(
        "deepunmix:fcls",
        {"INPUT": cube, "ENDMEMBERS": f"{out}/reference.csv", "OUTPUT_ABUNDANCES": f"{out}/fcls.tif"},
    )
    processing.runAndLoadResults(  # a second run: its layer needs a name of its own
        "deepunmix:fcls",
        {"INPUT": cube, "ENDMEMBERS": f"{out}/reference.csv", "OUTPUT_ABUNDANCES": f"{out}/fcls2.tif"},
    )
    yield 500
    layers = _layers()
    rasters = {n: _extent(x) for n, x in layers.items() if isinstance(x, QgsRasterLayer)}
    fcls = layers["FCLS abundances (jasper_like)"]
    root = QgsProject.instance().layerTreeRoot()
    for name, layer in layers.items():  # the cube below, the first FCLS result over it, half transparent
        node = root.findLayer(layer.id())
        if node is not None:
            node.setItemVisibilityChecked(name in ("jasper_like", "FCLS abundances (jasper_like)"))
    fcls.renderer().setOpacity(0.5)
    canvas = iface.mapCanvas()
    canvas.setExtent(cube.extent())
    canvas.refresh()
    yield 1500
    run.note(
        "overlay",
        rasters=rasters,
        names=sorted(layers),
        canvas=[
            canvas.extent().xMinimum(),
            canvas.extent().yMinimum(),
            canvas.extent().xMaximum(),
            canvas.extent().yMaximum(),
        ],
    )
    run.screenshot("overlaid_map")

    # 2. Evaluate: the scores table
    processing.runAndLoadResults(
        "deepunmix:evaluate",
        {"ABUNDANCES": fcls, "REFERENCE_ABUNDANCES": f"{out}/reference.tif", "OUTPUT_TABLE": f"{out}/scores.csv"},
    )
    yield 500
    table = _layers()["Scores (FCLS abundances (jasper_like))"]
    if not isinstance(table, QgsVectorLayer) or not table.isValid():
        raise RuntimeError("the scores table was not loaded")
    rows = [[f[n] for n in ("reference", "estimate", "abundance_rmse")] for f in table.getFeatures()]
    run.note("scores", fields=fields_of(table), rows=rows)
    attribute_table = iface.showAttributeTable(table)
    yield 1500
    run.screenshot("scores_table")
    attribute_table.close()
    yield 300

    # 3. a side panel
    dialog = processing.createAlgorithmDialog("deepunmix:fcls", {})
    dialog.setGeometry(100, 60, 1100, 700)
    dialog.show()
    yield 1500
    panels = [w.toPlainText() for w in dialog.findChildren(QTextBrowser) if w.isVisible() and w.toPlainText()]
    run.note("side_panel", texts=panels)
    run.screenshot("side_panel")
    dialog.close()
    yield 300

    # 4. the example model in the modeler
    from processing.modeler.ModelerDialog import ModelerDialog

    model = registry.algorithmById("deepunmix:estimate_then_ddica").create()
    designer = ModelerDialog.create(model)
    designer.setGeometry(40, 40, 1400, 900)
    designer.show()
    yield 2000
    ddica = model.childAlgorithm("ddica")
    run.note(
        "modeler",
        dependencies=[d.childId for d in ddica.dependencies()],
        n_endmembers=[s.expression() for s in ddica.parameterSources()["N_ENDMEMBERS"]],
    )
    run.screenshot("model_in_modeler")
    designer.close()
    yield 300


RUN = Run(CONFIG, script)
