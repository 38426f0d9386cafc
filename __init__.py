"""DeepUnmix QGIS plugin entry point."""


def classFactory(iface):
    """Called by QGIS to create the plugin."""
    from .plugin import DeepUnmixPlugin

    return DeepUnmixPlugin(iface)
