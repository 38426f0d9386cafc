"""Follows the README's "Install in QGIS" in a fresh profile; QGIS runs it with ``--code``.

Job (JSON named by ``DEEPUNMIX_GUI_CONFIG``): ``{"zip", "cube", "out_dir", "searches", "status", "shots",
"timeout_s", "gui_dir"}``. The steps are one generator (``gui_run.Run``):

1. the fresh profile: DeepUnmix neither installed nor enabled;
2. *Install from ZIP*: the code the Plugin Manager's *Install Plugin* button runs,
   ``pyplugin_installer.instance().installFromZipFile(r'<zip>')`` through ``QgsPythonRunner`` (the dialog's
   security question is the only part left out); then what is installed, enabled and registered;
3. the Processing Toolbox's search box: which algorithms each word leaves in the toolbox;
4. a first run, each in its algorithm dialog with Run pressed: *Estimate number of endmembers*, then
   *Extract endmembers* with that count, then *FCLS* with the extracted CSV;
5. the project's layers, the spectra view and the Results Viewer;
6. the message bar's *Install PyTorch…* offer (present since step 2): its button pressed, the
   question's text and choices read and answered *Cancel* (nothing is downloaded); write the status JSON and quit.
"""

import faulthandler
import importlib.util
import json
import os
import sys

from qgis.core import QgsApplication, QgsProject, QgsPythonRunner, QgsRasterLayer, QgsSettings, QgsVectorLayer
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QApplication, QMessageBox, QPushButton
from qgis.utils import iface

with open(os.environ["DEEPUNMIX_GUI_CONFIG"], encoding="utf-8") as _f:
    CONFIG = json.load(_f)
sys.path.insert(0, CONFIG["gui_dir"])  # gui_run.py lives beside this file
from gui_run import Run, fields_of, run_in_dialog

faulthandler.enable()  # a crash prints the Python stack into QGIS's output


def message_bar_items():
    """The main window's message bar: title, text, level and buttons of each message."""
    items = []
    for item in iface.messageBar().items():
        items.append(
            {
                "title": item.title(),
                "text": item.text(),
                "level": int(item.level()),
                "buttons": [b.text() for b in item.findChildren(QPushButton)],
            }
        )
    return items


def toolbox_algorithms(tree):
    """Ids of the algorithms the (filtered) toolbox tree shows."""
    model = tree.model()
    pending = [model.index(r, 0) for r in range(model.rowCount())]
    found = set()
    while pending:
        index = pending.pop()
        alg = tree.algorithmForIndex(index)
        if alg is not None:
            found.add(alg.id())
        pending.extend(model.index(r, 0, index) for r in range(model.rowCount(index)))
    return sorted(found)


def script(run):
    import qgis.utils

    config = run.config
    registry = QgsApplication.processingRegistry()
    while "processing" not in qgis.utils.plugins:
        yield 500
    iface.mainWindow().setGeometry(QApplication.primaryScreen().availableGeometry())  # no window manager
    settings = QgsSettings()
    home = os.path.join(QgsApplication.qgisSettingsDirPath(), "python", "plugins")  # the profile's plugin folder
    run.note(
        "fresh",
        profile=QgsApplication.qgisSettingsDirPath(),
        available="deepunmix" in qgis.utils.available_plugins,
        active="deepunmix" in qgis.utils.active_plugins,
        setting=settings.contains("PythonPlugins/deepunmix"),
        provider=registry.providerById("deepunmix") is not None,
        plugin_folder=os.path.exists(os.path.join(home, "deepunmix")),
    )
    yield 500

    # 2. Install from ZIP: what the Plugin Manager's button runs
    ran = []

    def install():  # from the event loop, as the button's click would run it
        ran.append(QgsPythonRunner.run(f"pyplugin_installer.instance().installFromZipFile(r'{config['zip']}')"))

    QTimer.singleShot(0, run.safely(install))
    while not ran:
        yield 200
    yield 1000
    plugin = qgis.utils.plugins.get("deepunmix")
    folder = os.path.join(home, "deepunmix")
    run.note(
        "installed",
        runner_ok=bool(ran[0]),
        active="deepunmix" in qgis.utils.active_plugins,
        setting=settings.value("PythonPlugins/deepunmix", False, bool),
        provider=registry.providerById("deepunmix") is not None,
        algorithms=sorted(a.id() for a in registry.algorithms() if a.provider().id() == "deepunmix"),
        folder_is_copy=os.path.isdir(folder) and not os.path.islink(folder),
        module_file=sys.modules[type(plugin).__module__].__file__ if plugin is not None else None,
        menu_actions=[a.text() for a in plugin.spectra.actions] if plugin is not None and plugin.spectra else [],
        torch_menu=plugin.torch_menu.action.text() if plugin is not None and plugin.torch_menu else None,
        message_bar=message_bar_items(),
        torch_importable=importlib.util.find_spec("torch") is not None,
    )
    run.screenshot("installed")

    # 3. the toolbox's search box
    processing_plugin = qgis.utils.plugins["processing"]
    processing_plugin.toolboxAction.setChecked(True)  # Processing > Toolbox
    toolbox = processing_plugin.toolbox
    found = {}
    for word in config["searches"]:
        toolbox.searchBox.clear()
        toolbox.searchBox.setFocus()
        QTest.keyClicks(toolbox.searchBox, word)
        yield 700
        found[word] = toolbox_algorithms(toolbox.algorithmTree)
        if word == config["searches"][0]:
            run.screenshot("toolbox_" + word)
    run.note("toolbox", found=found)
    toolbox.searchBox.clear()

    # 4. a first run: load the raster (as dropping it), count, extract, FCLS
    layer = iface.addRasterLayer(config["cube"], "scene")
    if layer is None or not layer.isValid():
        raise RuntimeError("QGIS could not load the raster")
    yield 500
    out = config["out_dir"]
    count = run_in_dialog(run, "deepunmix:estimate_n_endmembers", {"INPUT": layer})
    n = int(count["results"]["N_ENDMEMBERS"])
    run.note("count", n=n, title=count["title"], log_tail=count["log"][-800:])
    yield 300
    extract = run_in_dialog(
        run,
        "deepunmix:extract_endmembers",
        {"INPUT": layer, "N_ENDMEMBERS": n, "OUTPUT_ENDMEMBERS": os.path.join(out, "endmembers.csv")},
    )
    csv = extract["results"]["OUTPUT_ENDMEMBERS"]
    run.note("extract", title=extract["title"], csv=csv, log_tail=extract["log"][-800:])
    yield 300
    fcls = run_in_dialog(
        run,
        "deepunmix:fcls",
        {"INPUT": layer, "ENDMEMBERS": csv, "OUTPUT_ABUNDANCES": os.path.join(out, "abundances.tif")},
        shot="fcls",
    )
    run.note("fcls", title=fcls["title"], results={k: str(v) for k, v in fcls["results"].items()})
    yield 1000

    # 5. what the project holds now
    from processing.core.ProcessingResults import resultsList

    layers = []
    for lyr in QgsProject.instance().mapLayers().values():
        info = {"name": lyr.name(), "source": lyr.source(), "provider": lyr.providerType()}
        if isinstance(lyr, QgsRasterLayer):
            info.update(kind="raster", bands=lyr.bandCount(), renderer=type(lyr.renderer()).__name__)
        elif isinstance(lyr, QgsVectorLayer):
            info.update(kind="table" if not lyr.isSpatial() else "vector", fields=fields_of(lyr))
            info["features"] = lyr.featureCount()
        layers.append(info)
    dock = plugin.spectra.dock
    run.note(
        "project",
        layers=layers,
        spectra_dock_visible=bool(dock and dock.isVisible()),
        spectra_dock_path=dock.path if dock else None,
        results_viewer=[r.name for r in resultsList.getResults()],
        help_url=registry.algorithmById("deepunmix:fcls").helpUrl(),
    )
    abundance = [lyr for lyr in QgsProject.instance().mapLayers().values() if "abundances" in lyr.name()]
    if abundance:
        iface.setActiveLayer(abundance[0])
        iface.zoomToActiveLayer()
    processing_plugin.toolboxAction.setChecked(False)
    yield 2000
    run.screenshot("result")

    # 6. the PyTorch offer, as a user wanting DDICA next: press it, read the question, answer No
    offer = [
        b
        for b in iface.messageBar().findChildren(QPushButton)
        if b.text().startswith("Install PyTorch") and b.isVisible()
    ]
    if not offer:
        raise RuntimeError(f"no Install PyTorch button in the message bar: {message_bar_items()}")

    answered = []

    def answer_no():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            raise RuntimeError(f"expected a question, found {type(box).__name__}")
        run.screenshot("torch_question")
        run.note("torch_question", title=box.windowTitle(), text=box.text(), buttons=[b.text() for b in box.buttons()])
        box.button(QMessageBox.StandardButton.Cancel).click()
        answered.append(True)

    QTimer.singleShot(1000, run.safely(answer_no))
    offer[0].click()  # the question opens from the event loop, modal
    while not answered:
        yield 200
    yield 500
    run.note(
        "torch_declined",
        folder_exists=os.path.exists(os.path.join(QgsApplication.qgisSettingsDirPath(), "python", "deepunmix_deps")),
        message_bar=message_bar_items(),
    )


RUN = Run(CONFIG, script)
