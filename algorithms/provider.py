"""The DeepUnmix Processing provider (id ``deepunmix``)."""

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .provider_icon import ICON_PATH as ICON
from .registry import algorithm_classes


class DeepUnmixProvider(QgsProcessingProvider):
    def id(self):
        return "deepunmix"

    def name(self):
        return "DeepUnmix"

    def longName(self):  # noqa: N802 - QGIS API
        return "DeepUnmix hyperspectral unmixing"

    def icon(self):
        return QIcon(ICON)

    def svgIconPath(self):  # noqa: N802 - QGIS API
        return ICON

    def loadAlgorithms(self):  # noqa: N802 - QGIS API
        for cls in algorithm_classes():
            self.addAlgorithm(cls())
