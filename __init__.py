"""DeepUnmix QGIS plugin entry point."""

import configparser
import os


def _version() -> str:
    metadata = configparser.ConfigParser()
    metadata.read(os.path.join(os.path.dirname(__file__), "metadata.txt"), encoding="utf-8")
    return metadata["general"]["version"]


__version__ = _version()


def classFactory(iface):
    """Called by QGIS to create the plugin."""
    from .plugin import DeepUnmixPlugin

    return DeepUnmixPlugin(iface)
