"""The DeepUnmix Processing provider (id ``deepunmix``)."""

import glob
import os

from qgis.core import QgsApplication, QgsProcessingModelAlgorithm, QgsProcessingProvider

from .provider_icon import WithIcon
from .registry import algorithm_classes

MODELS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models")


class DeepUnmixProvider(WithIcon, QgsProcessingProvider):
    def id(self):
        return "deepunmix"

    def name(self):
        return "DeepUnmix"

    def longName(self):
        return "DeepUnmix hyperspectral unmixing"

    def loadAlgorithms(self):
        for cls in algorithm_classes():
            self.addAlgorithm(cls())
        registry = QgsApplication.processingRegistry()
        if registry.providerById(self.id()) is None:
            # The example models call this provider's algorithms, which only resolve once the
            # provider is registered: load them on a refresh right after registration.
            registry.providerAdded.connect(self._load_models_once_registered)
            return
        for path in sorted(glob.glob(os.path.join(MODELS, "*.model3"))):
            model = ShippedModel(path)
            if model.loaded:
                self.addAlgorithm(model)

    def _load_models_once_registered(self, provider_id):
        if provider_id == self.id():
            QgsApplication.processingRegistry().providerAdded.disconnect(self._load_models_once_registered)
            self.refreshAlgorithms()


class ShippedModel(WithIcon, QgsProcessingModelAlgorithm):
    """A model from models/: its name (the id) has no spaces; its title comes from the help's ALG_DISPLAY_NAME."""

    def __init__(self, path):
        super().__init__()
        self.path = path
        self.loaded = self.fromFile(path)

    def displayName(self):
        return self.helpContent().get("ALG_DISPLAY_NAME") or super().displayName()

    def tags(self):
        """The toolbox's search matches tags: "hyperspectral", "unmixing", ... find the model too."""
        from .texts import tags

        return tags()

    def createInstance(self):
        return ShippedModel(self.path)
