"""Abundance layers are styled for reading fractions."""

from qgis.core import QgsMultiBandColorRenderer, QgsRasterLayer, QgsSingleBandPseudoColorRenderer


def test_three_band_abundances_get_fixed_rgb_stretch(deepunmix, scene):
    from deepunmix.algorithms.styling import apply_abundance_style

    layer = QgsRasterLayer(scene["truth"], "ab")
    assert layer.isValid()
    apply_abundance_style(layer)
    r = layer.renderer()
    assert isinstance(r, QgsMultiBandColorRenderer)
    for ce in (r.redContrastEnhancement(), r.greenContrastEnhancement(), r.blueContrastEnhancement()):
        assert (ce.minimumValue(), ce.maximumValue()) == (0.0, 1.0)
    assert layer.bandName(1).endswith(scene["scene"].names[0])


def test_two_band_abundances_get_viridis_ramp(deepunmix, tmp_path):
    import numpy as np

    from deepunmix.engine.io.raster import write_abundances

    A = np.random.default_rng(0).dirichlet([1, 1], 20).T.reshape(2, 4, 5)
    write_abundances(str(tmp_path / "two.tif"), A, ["rock", "tree"])
    layer = QgsRasterLayer(str(tmp_path / "two.tif"), "two")
    apply = __import__("deepunmix.algorithms.styling", fromlist=["x"]).apply_abundance_style
    apply(layer)
    r = layer.renderer()
    assert isinstance(r, QgsSingleBandPseudoColorRenderer)
    assert (r.classificationMin(), r.classificationMax()) == (0.0, 1.0)
    assert len(r.legendSymbologyItems()) >= 2


def test_four_endmembers_all_show(deepunmix, tmp_path):
    """RGB shows the three most abundant endmembers; a group beside it has one layer per endmember."""
    import numpy as np
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProject

    from deepunmix.algorithms.styling import AbundanceStyler
    from deepunmix.engine.io.raster import write_abundances

    A = np.random.default_rng(0).dirichlet([1, 4, 2, 3], 400).T.reshape(4, 20, 20)  # band 1 the smallest
    write_abundances(str(tmp_path / "four.tif"), A, ["soil", "tree", "water", "road"])
    project = QgsProject()
    layer = QgsRasterLayer(str(tmp_path / "four.tif"), "DDICA abundances (jasper)")
    project.addMapLayer(layer)
    context = QgsProcessingContext()
    context.setProject(project)
    AbundanceStyler.create().postProcessLayer(layer, context, QgsProcessingFeedback())
    r = layer.renderer()
    assert isinstance(r, QgsMultiBandColorRenderer)
    assert (r.redBand(), r.greenBand(), r.blueBand()) == (2, 3, 4)
    group = project.layerTreeRoot().findGroup("DDICA abundances (jasper): every endmember")
    assert group is not None and not group.itemVisibilityChecked()
    singles = [n.layer() for n in group.findLayers()]
    assert [s.name() for s in singles] == [
        f"{n} (DDICA abundances (jasper))" for n in ("soil", "tree", "water", "road")
    ]
    assert [s.renderer().usesBands() for s in singles] == [[1], [2], [3], [4]]
    assert all(isinstance(s.renderer(), QgsSingleBandPseudoColorRenderer) for s in singles)
