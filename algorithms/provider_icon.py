"""The plugin icon, shared by the provider, its models and the algorithms."""

import os

from qgis.PyQt.QtGui import QIcon

ICON_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "icons", "deepunmix.svg")


class WithIcon:
    """``icon`` and ``svgIconPath`` of a Processing provider or algorithm: the plugin's."""

    def icon(self):
        return QIcon(ICON_PATH)

    def svgIconPath(self):
        return ICON_PATH
