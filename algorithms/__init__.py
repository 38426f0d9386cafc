"""QGIS Processing algorithms of the DeepUnmix provider (one per file)."""
