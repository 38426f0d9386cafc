"""The spectra view: a dock widget plotting an endmember CSV, or a clicked pixel unmixed with it."""

from __future__ import annotations

import os
from typing import Optional

from qgis.gui import QgsDockWidget
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from ..engine.io.endmember_csv import EndmemberTable, read_endmembers_csv
from ..engine.reporting.pixel_spectrum import PixelExplanation
from . import spectra_plot

CSV_FILTER = "Endmember CSV (*.csv);;All files (*)"


class SpectraDock(QgsDockWidget):
    """Shows ``table`` (the open endmember CSV) or the last clicked pixel; ``open_csv`` loads a file."""

    def __init__(self, parent=None, pixel_action=None):
        super().__init__("DeepUnmix spectra", parent)
        self.setObjectName("DeepUnmixSpectraDock")
        self.table: Optional[EndmemberTable] = None
        self.path: Optional[str] = None
        self.pixel: Optional[PixelExplanation] = None
        self.figure = self.canvas = None

        body = QWidget(self)
        layout = QVBoxLayout(body)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open endmember CSV…", body)
        self.open_button.clicked.connect(self.choose_csv)
        row.addWidget(self.open_button)
        if pixel_action is not None:  # the map tool's toggle, also in the toolbar
            from qgis.PyQt.QtWidgets import QToolButton

            tool_button = QToolButton(body)
            tool_button.setDefaultAction(pixel_action)
            tool_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            row.addWidget(tool_button)
        self.file_label = QLabel("No endmember CSV open", body)
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.file_label, 1)
        layout.addLayout(row)
        try:
            from matplotlib.backends.backend_qt5agg import FigureCanvasQTAgg
            from matplotlib.figure import Figure
        except ImportError as exc:  # the view needs matplotlib; say so instead of failing
            layout.addWidget(QLabel(f"The spectra view needs matplotlib ({exc}); install python3-matplotlib.", body))
        else:
            self.figure = Figure(figsize=(6, 3.2), dpi=96)
            self.canvas = FigureCanvasQTAgg(self.figure)
            self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            self.canvas.setMinimumHeight(220)
            layout.addWidget(self.canvas, 1)
        self.info = QLabel("Open an endmember CSV, or use the pixel tool on a hyperspectral raster.", body)
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.info)
        self.setWidget(body)

    def choose_csv(self) -> None:
        start = os.path.dirname(self.path) if self.path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open endmember CSV", start, CSV_FILTER)
        if path:
            self.open_csv(path)

    def open_csv(self, path: str) -> bool:
        """Load and plot an endmember CSV; on a bad file keep the previous one and say why."""
        try:
            table = read_endmembers_csv(path)
        except ValueError as exc:
            self.info.setText(f"Could not open {os.path.basename(path)}: {exc}")
            return False
        self.table, self.path, self.pixel = table, path, None
        self.file_label.setText(
            f"Endmembers: {os.path.basename(path)} ({len(table.names)} endmembers, {table.matrix.shape[0]} bands)"
        )
        self.file_label.setToolTip(path)
        self.info.setText(
            "Click a pixel of a hyperspectral raster with the pixel tool to unmix it with these endmembers."
        )
        if self.figure is not None:
            spectra_plot.draw_endmembers(self.figure, table, path)
            self.canvas.draw_idle()
        return True

    def show_pixel(self, pixel: PixelExplanation, layer_name: str = "") -> None:
        self.pixel = pixel
        self.info.setText(spectra_plot.summary_text(pixel, layer_name))
        if self.figure is not None:
            spectra_plot.draw_pixel(self.figure, pixel, layer_name, self.table.comment if self.table else None)
            self.canvas.draw_idle()

    def show_message(self, text: str) -> None:
        self.info.setText(text)
