"""Outputs loaded into the project under names of their own (" [2]", " [3]", ... on repeated runs); the
spectra view told of a run's endmember CSV. QGIS runs these post-processors in the main thread."""

from __future__ import annotations

from qgis.core import QgsProcessingContext, QgsProcessingLayerPostProcessorInterface
from qgis.PyQt.QtCore import QObject, pyqtSignal


class _Notifier(QObject):
    endmembers_loaded = pyqtSignal(str)  # path of the endmember CSV


NOTIFIER = _Notifier()


def make_name_unique(layer, project) -> None:
    """Rename ``layer`` to "<name> [n]" when another layer of ``project`` has its name (or that one)."""
    if project is None:
        return
    taken = {other.name() for other in project.mapLayers().values() if other is not layer}
    name, n = layer.name(), 2
    if name not in taken:
        return
    while f"{name} [{n}]" in taken:
        n += 1
    layer.setName(f"{name} [{n}]")


class UniquelyNamed(QgsProcessingLayerPostProcessorInterface):
    """Post-processor of an output layer: a name no other layer of the project has."""

    _instances = []  # QGIS does not own Python post-processors: keep them alive

    def postProcessLayer(self, layer, context, feedback):
        make_name_unique(layer, layer.project() or context.project())

    @classmethod
    def create(cls, *args):
        processor = cls(*args)
        UniquelyNamed._instances.append(processor)
        return processor


class EndmemberTableLoaded(UniquelyNamed):
    """Post-processor of an endmember-CSV layer: emits ``NOTIFIER.endmembers_loaded(path)``."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def postProcessLayer(self, layer, context, feedback):
        super().postProcessLayer(layer, context, feedback)
        NOTIFIER.endmembers_loaded.emit(self.path)


def load_output(context: QgsProcessingContext, path: str, name: str, processor=None) -> None:
    """Load ``path`` into the project as ``name`` (made unique) when the run finishes; for a raster output
    that is already to be loaded, only its name and post-processor are set."""
    if context.willLoadLayerOnCompletion(path):
        details = context.layerToLoadOnCompletionDetails(path)
        details.name = name
    else:
        details = QgsProcessingContext.LayerDetails(name, context.project(), path)
    details.setPostProcessor(processor or UniquelyNamed.create())
    if not context.willLoadLayerOnCompletion(path):
        context.addLayerToLoadOnCompletion(path, details)


def load_endmember_table(context: QgsProcessingContext, path: str, name: str) -> None:
    """Load the endmember CSV ``path`` into the project as table ``name`` when the run finishes."""
    load_output(context, path, name, EndmemberTableLoaded.create(path))
