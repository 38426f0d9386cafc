"""Map tool: a click on a hyperspectral raster gives the pixel (layer, row, column) to the spectra view."""

from __future__ import annotations

from qgis.core import QgsCoordinateTransform, QgsGeometry, QgsProject, QgsRasterLayer, QgsRectangle, QgsWkbTypes
from qgis.gui import QgsMapToolEmitPoint, QgsRubberBand
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor

from ..engine.reporting.pixel_spectrum import pixel_at, table_fits


def is_spectral_raster(layer) -> bool:
    """A file-based (GDAL) raster with at least two bands."""
    return isinstance(layer, QgsRasterLayer) and layer.providerType() == "gdal" and layer.bandCount() >= 2


class PixelSpectrumTool(QgsMapToolEmitPoint):
    """On click, calls ``on_pixel(layer, row, col)`` for the raster under the cursor, or ``on_miss(text)``: of
    the multiband GDAL rasters there, one whose bands match ``table()`` first, then the active layer, then the
    visible layers from the top. The clicked pixel is outlined on the map.
    """

    def __init__(self, canvas, on_pixel, on_miss, active_layer=lambda: None, table=lambda: None):
        super().__init__(canvas)
        self.on_pixel, self.on_miss, self.active_layer, self.table = on_pixel, on_miss, active_layer, table
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.outline = QgsRubberBand(canvas, QgsWkbTypes.GeometryType.PolygonGeometry)
        self.outline.setStrokeColor(QColor(255, 0, 255))
        self.outline.setFillColor(QColor(255, 0, 255, 40))
        self.outline.setWidth(2)

    def canvasReleaseEvent(self, event):
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self.pick(self.toMapCoordinates(event.pos()))

    def pick(self, map_point) -> None:
        """Find the raster and pixel at ``map_point`` (canvas CRS) and report it."""
        hits = []
        for layer in [self.active_layer()] + list(self.canvas().layers()):
            if not is_spectral_raster(layer) or any(layer is h[0] for h in hits):
                continue
            point = self._to_layer(map_point, layer)
            extent = layer.extent()
            hit = pixel_at(
                point.x(),
                point.y(),
                extent.xMinimum(),
                extent.yMaximum(),
                layer.rasterUnitsPerPixelX(),
                layer.rasterUnitsPerPixelY(),
                layer.width(),
                layer.height(),
            )
            if hit is not None:
                hits.append((layer, hit))
        table = self.table()
        if table is not None:  # stable: the active layer, then the top, among those that fit the table
            hits.sort(key=lambda h: not table_fits(h[0].source(), table))
        if hits:
            layer, hit = hits[0]
            self._outline(layer, *hit)
            self.on_pixel(layer, *hit)
            return
        self.outline.reset(QgsWkbTypes.GeometryType.PolygonGeometry)
        self.on_miss("No multiband raster here: click a pixel of a hyperspectral raster layer.")

    def _to_layer(self, map_point, layer):
        canvas_crs = self.canvas().mapSettings().destinationCrs()
        if not layer.crs().isValid() or layer.crs() == canvas_crs:
            return map_point
        return QgsCoordinateTransform(canvas_crs, layer.crs(), QgsProject.instance()).transform(map_point)

    def _outline(self, layer, row: int, col: int) -> None:
        extent = layer.extent()
        dx, dy = layer.rasterUnitsPerPixelX(), layer.rasterUnitsPerPixelY()
        x0, y1 = extent.xMinimum() + col * dx, extent.yMaximum() - row * dy
        self.outline.setToGeometry(QgsGeometry.fromRect(QgsRectangle(x0, y1 - dy, x0 + dx, y1)), layer.crs())

    def deactivate(self):
        self.outline.reset(QgsWkbTypes.GeometryType.PolygonGeometry)
        super().deactivate()

    def remove_outline(self) -> None:
        """Take the outline off the canvas for good (plugin unload)."""
        self.canvas().scene().removeItem(self.outline)
