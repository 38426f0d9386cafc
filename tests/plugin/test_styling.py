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
