"""Tells whoever listens (the plugin's spectra view) that a run's endmember CSV was loaded into the project.

QGIS calls the post-processor in the main thread once the algorithm has finished and its outputs are
loaded, so ``processAlgorithm`` stays free of GUI calls; without a listener (qgis_process, scripts)
nothing happens.
"""

from __future__ import annotations

from qgis.core import QgsProcessingContext, QgsProcessingLayerPostProcessorInterface
from qgis.PyQt.QtCore import QObject, pyqtSignal


class _Notifier(QObject):
    endmembers_loaded = pyqtSignal(str)  # path of the endmember CSV


NOTIFIER = _Notifier()


class EndmemberTableLoaded(QgsProcessingLayerPostProcessorInterface):
    """Post-processor of an endmember-CSV layer: emits ``NOTIFIER.endmembers_loaded(path)``."""

    _instances = []  # QGIS does not own Python post-processors: keep them alive

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def postProcessLayer(self, layer, context, feedback):
        NOTIFIER.endmembers_loaded.emit(self.path)

    @classmethod
    def create(cls, path: str) -> "EndmemberTableLoaded":
        processor = cls(path)
        cls._instances.append(processor)
        return processor


def load_endmember_table(context: QgsProcessingContext, path: str, name: str) -> None:
    """Load the endmember CSV ``path`` into the project as table ``name`` when the run finishes."""
    details = QgsProcessingContext.LayerDetails(name, context.project(), path)
    details.setPostProcessor(EndmemberTableLoaded.create(path))
    context.addLayerToLoadOnCompletion(path, details)
