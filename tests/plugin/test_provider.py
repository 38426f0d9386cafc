"""The provider registers with every algorithm, named and documented."""

from pathlib import Path

from qgis.core import QgsApplication

_KEEP_ALIVE = []
EXPECTED = {
    "extract_endmembers",
    "estimate_n_endmembers",
    "fcls",
    "undip",
    "ddica",
    "buddip",
    "minvol_nmf",
    "ica",
    "evaluate",
    "import_mat",
}


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


def test_every_algorithm_has_tags_short_description_and_help_page(deepunmix):
    from pathlib import Path

    from qgis.PyQt.QtCore import QUrl

    from deepunmix.algorithms.base import DeepUnmixAlgorithm

    provider = QgsApplication.processingRegistry().providerById("deepunmix")
    algorithms = [a for a in provider.algorithms() if isinstance(a, DeepUnmixAlgorithm)]
    assert len(algorithms) >= 10
    for alg in algorithms:
        for definition in alg.parameterDefinitions():
            assert definition.help() in definition.toolTip()  # a tooltip, where there is one, is what it shows
        assert {"hyperspectral", "spectral"} <= set(alg.tags()), alg.id()
        assert alg.shortDescription(), alg.id()
        page = Path(QUrl(alg.helpUrl()).toLocalFile())
        text = page.read_text(encoding="utf-8")
        assert alg.displayName() in text and all(d.name() in text for d in alg.parameterDefinitions())
        if alg.name() in ("ddica", "buddip", "undip", "ica"):  # the engine's variant table, rendered
            assert "<h2>Variant settings</h2>" in text and "learning_rate" in text, alg.id()
    unmixing = {a.id() for a in algorithms if "unmixing" in a.tags()}
    assert {"deepunmix:ddica", "deepunmix:fcls", "deepunmix:buddip"} <= unmixing


def test_toolbox_search_finds_hyperspectral(deepunmix):
    """The toolbox filter matches displayName, id and tags (QgsProcessingToolboxProxyModel)."""
    from qgis.gui import QgsProcessingToolboxModel, QgsProcessingToolboxProxyModel

    model = QgsProcessingToolboxProxyModel(None, QgsApplication.processingRegistry())
    model.setFilterString("hyperspectral")
    found = []

    def walk(parent):
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            alg = model.toolboxModel().algorithmForIndex(model.mapToSource(index))
            if alg is not None:
                found.append(alg.id())
            walk(index)

    walk(model.index(-1, -1))
    assert {"deepunmix:fcls", "deepunmix:ddica", "deepunmix:extract_endmembers"} <= set(found)
    assert QgsProcessingToolboxModel is not None


def test_help_page_lists_every_parameter_from_its_declaration(deepunmix):
    """The Help page's parameter table is generated (label, identifier, tooltip), never a hand-written list."""
    import html

    from deepunmix.algorithms.help_page import render

    provider = QgsApplication.processingRegistry().providerById("deepunmix")
    for alg in provider.algorithms():
        if alg.group() == "DeepUnmix examples":
            continue
        page = render(alg)
        for p in alg.parameterDefinitions():
            assert f"<code>{p.name()}</code>" in page and html.escape(p.help()) in page, (alg.id(), p.name())


def test_each_installed_copy_writes_its_help_pages_in_its_own_folder(deepunmix, monkeypatch, tmp_path):
    """Two installs (QGIS profiles, a checkout and a ZIP) must not overwrite each other's pages and README links."""
    from deepunmix.algorithms import help_page

    monkeypatch.setattr(help_page.tempfile, "gettempdir", lambda: str(tmp_path))
    first = help_page.help_folder()
    monkeypatch.setattr(help_page, "PLUGIN_DIR", "/another/profile/python/plugins/deepunmix")
    second = help_page.help_folder()
    assert first != second and {Path(first).parent, Path(second).parent} == {tmp_path}


def test_provider_models_and_algorithms_show_the_plugin_icon(deepunmix):
    from deepunmix.algorithms.provider_icon import ICON_PATH

    provider = QgsApplication.processingRegistry().providerById("deepunmix")
    items = [provider, *provider.algorithms()]
    assert len(items) > 2 and any(type(a).__name__ == "ShippedModel" for a in items)
    for item in items:
        assert item.svgIconPath() == ICON_PATH and not item.icon().isNull()
