"""The spectra view and the pixel tool in headless QGIS: plots, dock, map tool, auto-open after a run."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")


def _figure():
    from matplotlib.figure import Figure

    return Figure(figsize=(6, 3.2))


def _labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_endmember_plot_is_labelled_and_breaks_at_dropped_bands(deepunmix, tmp_path):
    from deepunmix.engine.io.endmember_csv import read_endmembers_csv, write_endmembers_csv
    from deepunmix.engine.io.scaling import units_comment
    from deepunmix.gui.spectra_plot import draw_endmembers

    bands = [1, 2, 3, 7, 8]  # 4-6 dropped (bad bands)
    csv = write_endmembers_csv(
        tmp_path / "e.csv",
        np.random.default_rng(0).random((5, 2)),
        ["Soil", "Water"],
        wavelengths=[400.0, 410.0, 420.0, 460.0, 470.0],
        bands=bands,
        comment=units_comment(1e-4, "detected"),
    )
    fig = _figure()
    draw_endmembers(fig, read_endmembers_csv(csv), str(csv))
    (ax,) = fig.axes
    assert ax.get_xlabel() == "Wavelength (nm)"
    assert ax.get_ylabel() == "Reflectance (raster value / 10000)"
    assert _labels(ax) == ["Soil", "Water"]
    assert "e.csv" in ax.get_title()
    x = ax.get_lines()[0].get_xdata()
    assert np.isnan(x[3]) and np.count_nonzero(np.isnan(x)) == 1  # one break, between bands 3 and 7

    nowl = write_endmembers_csv(tmp_path / "n.csv", np.ones((3, 1)), ["a"])
    draw_endmembers(fig, read_endmembers_csv(nowl))
    assert fig.axes[0].get_xlabel() == "Band number"
    assert fig.axes[0].get_ylabel() == "Value (units of the raster)"


def _gui(qgis_iface, scene):
    from qgis.core import QgsProject, QgsRasterLayer

    from deepunmix.gui.spectra_gui import SpectraViewGui

    layer = QgsRasterLayer(scene["cube"], "scene")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    canvas = qgis_iface.mapCanvas()
    canvas.resize(400, 400)
    canvas.setDestinationCrs(layer.crs())
    canvas.setLayers([layer])
    canvas.setExtent(layer.extent())
    canvas.refresh()
    gui = SpectraViewGui(qgis_iface)
    gui.init_gui()
    return gui, layer, canvas


def _click(canvas, tool, x, y):
    from qgis.gui import QgsMapMouseEvent
    from qgis.PyQt.QtCore import QEvent, QPoint, Qt

    device = canvas.getCoordinateTransform().transform(x, y)
    event = QgsMapMouseEvent(
        canvas,
        QEvent.Type.MouseButtonRelease,
        QPoint(round(device.x()), round(device.y())),
        Qt.MouseButton.LeftButton,
        Qt.MouseButton.LeftButton,
    )
    tool.canvasReleaseEvent(event)


def test_pixel_tool_unmixes_the_clicked_pixel(deepunmix, scene, qgis_iface):
    gui, layer, canvas = _gui(qgis_iface, scene)
    try:
        gui.show_csv(scene["endmembers"])  # what a finished run triggers
        dock = gui.dock
        assert dock.table.names == list(scene["scene"].names)
        assert "truth_endmembers.csv" in dock.file_label.text()
        gui.pixel_action.trigger()
        assert canvas.mapTool() is gui.tool and gui.pixel_action.isChecked()

        row, col = 4, 7  # the centre of that 30 m pixel, in map units
        ext = layer.extent()
        _click(canvas, gui.tool, ext.xMinimum() + 30 * (col + 0.5), ext.yMaximum() - 30 * (row + 0.5))
        pixel = dock.pixel
        assert (pixel.row, pixel.col) == (row, col)
        np.testing.assert_allclose(pixel.abundances, scene["scene"].abundances[:, row, col], atol=1e-5)
        assert pixel.rmse < 1e-5
        assert "RMSE" in dock.info.text() and "scene: row 5, column 8" in dock.info.text()
        spectra_ax, bars_ax = dock.figure.axes
        assert {"Pixel", "Reconstruction (FCLS)"} <= set(_labels(spectra_ax))
        assert len(bars_ax.patches) == 3 and bars_ax.get_xlabel() == "Abundance (fraction)"
        outline = gui.tool.outline.asGeometry().boundingBox()
        assert outline.width() == pytest.approx(30) and outline.xMinimum() == pytest.approx(ext.xMinimum() + 30 * col)

        _click(canvas, gui.tool, ext.xMaximum() + 100, ext.yMaximum() + 100)  # off the raster
        assert "No multiband raster here" in dock.info.text()
    finally:
        gui.unload()
    assert gui.dock is None and canvas.mapTool() is None


def test_pixel_tool_without_endmembers_and_with_mismatched_ones(deepunmix, scene, qgis_iface, tmp_path):
    from deepunmix.engine.io.endmember_csv import write_endmembers_csv

    gui, layer, canvas = _gui(qgis_iface, scene)
    try:
        gui.pixel_action.trigger()
        ext = layer.extent()
        _click(canvas, gui.tool, ext.xMinimum() + 15, ext.yMaximum() - 15)
        assert gui.dock.pixel.abundances is None and "open an endmember CSV" in gui.dock.info.text()
        assert len(gui.dock.figure.axes) == 1

        other = write_endmembers_csv(tmp_path / "other.csv", np.ones((50, 2)), ["a", "b"])  # 50 bands, raster 20
        assert gui.dock.open_csv(str(other))
        _click(canvas, gui.tool, ext.xMinimum() + 15, ext.yMaximum() - 15)
        assert "the endmember CSV names bands 21, 22" in gui.dock.info.text()

        bad = tmp_path / "bad.csv"
        bad.write_text("a,b\n1,2\n")
        assert not gui.dock.open_csv(str(bad)) and "Could not open bad.csv" in gui.dock.info.text()
        assert gui.dock.path == str(other)  # the previous table stays
    finally:
        gui.unload()


def test_pixel_tool_prefers_the_raster_whose_bands_match_the_csv(deepunmix, scene, qgis_iface):
    """A just-made abundance raster, active and on top of the cube, is skipped for the cube the CSV fits."""
    from qgis.core import QgsProject, QgsRasterLayer

    gui, layer, canvas = _gui(qgis_iface, scene)
    abundances = QgsRasterLayer(scene["truth"], "FCLS abundances")
    QgsProject.instance().addMapLayer(abundances)
    canvas.setLayers([abundances, layer])
    try:
        gui.show_csv(scene["endmembers"])
        gui.pixel_action.trigger()
        gui.tool.active_layer = lambda: abundances
        ext = layer.extent()
        _click(canvas, gui.tool, ext.xMinimum() + 15, ext.yMaximum() - 15)
        assert "scene: row 1, column 1" in gui.dock.info.text(), gui.dock.info.text()
        assert gui.dock.pixel.abundances is not None and gui.dock.pixel.rmse < 1e-5
    finally:
        gui.unload()
        QgsProject.instance().removeMapLayer(abundances.id())


def test_a_runs_endmember_csv_opens_in_the_view(deepunmix, scene, qgis_iface, tmp_path, monkeypatch):
    """processing.runAndLoadResults is what the algorithm dialog does: the CSV's post-processor tells the view."""
    import processing
    from qgis.core import QgsLayerTreeModel, QgsProject
    from qgis.gui import QgsLayerTreeView

    # a real layer tree view, as in the desktop: QGIS 3.44's post-processing passes it to a typed C++ call
    view = QgsLayerTreeView()
    view.setModel(QgsLayerTreeModel(QgsProject.instance().layerTreeRoot(), view))
    monkeypatch.setattr(qgis_iface, "layerTreeView", lambda: view)
    gui, _, _ = _gui(qgis_iface, scene)
    try:
        out = tmp_path / "vca.csv"
        processing.runAndLoadResults(
            "deepunmix:extract_endmembers",
            {"INPUT": scene["cube"], "N_ENDMEMBERS": 3, "METHOD": 0, "SEED": 0, "OUTPUT_ENDMEMBERS": str(out)},
        )
        assert gui.dock is not None and gui.dock.path == str(out)
        assert gui.dock.table.names == ["VCA_1", "VCA_2", "VCA_3"]
        assert gui.dock.figure.axes[0].get_xlabel() == "Wavelength (nm)"
    finally:
        gui.unload()
    from deepunmix.algorithms.loaded_tables import NOTIFIER

    assert NOTIFIER.receivers(NOTIFIER.endmembers_loaded) == 0  # unload disconnected the view


def test_without_a_desktop_the_view_adds_nothing(deepunmix):
    """Standalone scripts start the plugin with iface None (see test_package)."""
    from deepunmix.gui.spectra_gui import SpectraViewGui

    gui = SpectraViewGui(None)
    gui.init_gui()
    assert gui.actions == [] and gui.dock is None
    gui.unload()


def test_pixel_tool_in_a_project_of_another_crs(deepunmix, scene, qgis_iface):
    """The click is in the canvas CRS (WGS 84 here); the tool finds the pixel in the raster's own CRS."""
    from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsPointXY, QgsProject

    gui, layer, canvas = _gui(qgis_iface, scene)
    try:
        wgs84 = QgsCoordinateReferenceSystem("EPSG:4326")
        to_wgs84 = QgsCoordinateTransform(layer.crs(), wgs84, QgsProject.instance())
        canvas.setDestinationCrs(wgs84)
        canvas.setExtent(to_wgs84.transformBoundingBox(layer.extent()))
        gui.show_csv(scene["endmembers"])
        gui.pixel_action.trigger()
        ext = layer.extent()
        row, col = 2, 9
        point = to_wgs84.transform(QgsPointXY(ext.xMinimum() + 30 * (col + 0.5), ext.yMaximum() - 30 * (row + 0.5)))
        _click(canvas, gui.tool, point.x(), point.y())
        assert (gui.dock.pixel.row, gui.dock.pixel.col) == (row, col)
        np.testing.assert_allclose(gui.dock.pixel.abundances, scene["scene"].abundances[:, row, col], atol=1e-5)
    finally:
        gui.unload()
