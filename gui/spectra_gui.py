"""The spectra view's place in QGIS desktop: menu and toolbar actions, the dock, the pixel tool, and auto-open
after a run whose endmember CSV is loaded (``algorithms.loaded_tables.NOTIFIER``)."""

from __future__ import annotations

import os

from qgis.core import Qgis
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon

try:
    from qgis.PyQt.QtGui import QAction  # Qt6 moved it here
except ImportError:
    from qgis.PyQt.QtWidgets import QAction

from ..algorithms.loaded_tables import NOTIFIER
from ..engine.reporting.pixel_spectrum import explain_pixel
from .pixel_tool import PixelSpectrumTool

MENU = "&DeepUnmix"
ICONS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "icons")


class SpectraViewGui:
    """Owns the actions, the dock (created on first use) and the map tool; ``unload`` removes them all."""

    def __init__(self, iface):
        self.iface = iface
        self.dock = None
        self.tool = None
        self.toolbar = None
        self.actions = []

    def init_gui(self) -> None:
        if self.iface is None:  # a standalone script started the plugin: no desktop to add to
            return
        window = self.iface.mainWindow()
        self.view_action = QAction(QIcon(os.path.join(ICONS, "spectra_view.svg")), "Spectra view…", window)
        self.view_action.setToolTip("DeepUnmix spectra view: plot an endmember CSV against wavelength")
        self.view_action.triggered.connect(self.open_view)
        self.pixel_action = QAction(QIcon(os.path.join(ICONS, "pixel_spectrum.svg")), "Pixel spectrum tool", window)
        self.pixel_action.setToolTip(
            "Click a pixel of a hyperspectral raster: its spectrum, its reconstruction "
            "from the open endmembers and its abundances"
        )
        self.pixel_action.setCheckable(True)
        self.pixel_action.toggled.connect(self._tool_toggled)
        self.actions = [self.view_action, self.pixel_action]
        self.toolbar = self.iface.addToolBar("DeepUnmix")
        self.toolbar.setObjectName("DeepUnmixToolbar")
        for action in self.actions:
            self.iface.addPluginToRasterMenu(MENU, action)
            self.toolbar.addAction(action)
        NOTIFIER.endmembers_loaded.connect(self.show_csv)

    def unload(self) -> None:
        if not self.actions:
            return
        NOTIFIER.endmembers_loaded.disconnect(self.show_csv)
        if self.tool is not None:
            if self.iface.mapCanvas().mapTool() is self.tool:
                self.iface.mapCanvas().unsetMapTool(self.tool)
            self.tool.remove_outline()
            self.tool = None
        for action in self.actions:
            self.iface.removePluginRasterMenu(MENU, action)
        if self.toolbar is not None:
            self.toolbar.deleteLater()
            self.toolbar = None
        if self.dock is not None:
            self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
        self.actions = []

    def ensure_dock(self):
        if self.dock is None:
            from .spectra_dock import SpectraDock  # matplotlib is imported on first use only

            self.dock = SpectraDock(self.iface.mainWindow(), pixel_action=self.pixel_action)
            self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.show()
        self.dock.raise_()
        return self.dock

    def open_view(self) -> None:
        """Menu action: show the dock and ask for a CSV."""
        self.ensure_dock().choose_csv()

    def show_csv(self, path: str) -> None:
        """A run's endmember CSV was loaded: show it."""
        self.ensure_dock().open_csv(path)

    def _tool_toggled(self, on: bool) -> None:
        canvas = self.iface.mapCanvas()
        if on:
            if self.tool is None:
                self.tool = PixelSpectrumTool(
                    canvas, self.show_pixel, self._missed, self.iface.activeLayer, lambda: self.ensure_dock().table
                )
                self.tool.setAction(self.pixel_action)  # QGIS unchecks the action when another tool takes over
            self.ensure_dock()
            canvas.setMapTool(self.tool)
        elif self.tool is not None and canvas.mapTool() is self.tool:
            canvas.unsetMapTool(self.tool)

    def show_pixel(self, layer, row: int, col: int) -> None:
        dock = self.ensure_dock()
        try:
            pixel = explain_pixel(layer.source(), row, col, dock.table)
        except (ValueError, OSError) as exc:
            dock.show_message(f"{layer.name()}: {exc}")
            self.iface.messageBar().pushMessage("DeepUnmix", f"{layer.name()}: {exc}", Qgis.MessageLevel.Warning, 8)
            return
        dock.show_pixel(pixel, layer.name())

    def _missed(self, text: str) -> None:
        self.ensure_dock().show_message(text)
