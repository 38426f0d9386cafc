"""The provider registers with every algorithm, named and documented."""
from qgis.core import QgsApplication

_KEEP_ALIVE = []
EXPECTED = {"extract_endmembers", "estimate_n_endmembers", "fcls", "undip", "ddica", "buddip", "minvol_nmf", "ica",
            "evaluate", "import_mat"}


def test_provider_registers(deepunmix):
    provider = QgsApplication.processingRegistry().providerById("deepunmix")
    assert provider is not None
    ids = {alg.name() for alg in provider.algorithms()}
    assert EXPECTED <= ids


def test_every_algorithm_has_help_and_fresh_instances(deepunmix):
    provider = QgsApplication.processingRegistry().providerById("deepunmix")
    for alg in provider.algorithms():
        assert len(alg.shortHelpString()) > 100, alg.id()
        assert alg.displayName() and alg.group()
        twin = alg.createInstance()
        assert twin is not alg and type(twin) is type(alg)


def test_plugin_class_factory_registers_and_unloads(deepunmix):
    registry = QgsApplication.processingRegistry()
    provider = registry.providerById("deepunmix")
    registry.removeProvider(provider)
    plugin = deepunmix.classFactory(None)
    plugin.initProcessing()
    assert registry.providerById("deepunmix") is not None
    plugin.unload()
    assert registry.providerById("deepunmix") is None
    plugin.initProcessing()  # leave it registered for the other tests, and alive:
    _KEEP_ALIVE.append(plugin)  # the registry does not own the Python side of the provider
