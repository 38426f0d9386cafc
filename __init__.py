"""DeepUnmix QGIS plugin entry point."""


def classFactory(iface):  # noqa: N802 - name fixed by QGIS
    """Called by QGIS to create the plugin."""
    from .plugin import DeepUnmixPlugin

    return DeepUnmixPlugin(iface)
