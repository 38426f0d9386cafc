"""Abundance layers are styled for reading fractions."""

import numpy as np
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


def test_four_endmembers_one_layer_named_uniquely(deepunmix, tmp_path):
    """RGB shows the three most abundant endmembers; no extra layer per endmember fills the raster pickers;
    a repeated run's layer gets a name of its own."""
    import numpy as np
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProject

    from deepunmix.algorithms.styling import AbundanceStyler
    from deepunmix.engine.io.raster import write_abundances

    A = np.random.default_rng(0).dirichlet([1, 4, 2, 3], 400).T.reshape(4, 20, 20)  # band 1 the smallest
    write_abundances(str(tmp_path / "four.tif"), A, ["soil", "tree", "water", "road"])
    project = QgsProject()
    context = QgsProcessingContext()
    context.setProject(project)
    names = []
    for _ in range(3):  # three runs of one algorithm on one input
        layer = QgsRasterLayer(str(tmp_path / "four.tif"), "DDICA abundances (jasper)")
        project.addMapLayer(layer)
        AbundanceStyler.create().postProcessLayer(layer, context, QgsProcessingFeedback())
        names.append(layer.name())
    r = layer.renderer()
    assert isinstance(r, QgsMultiBandColorRenderer)
    assert (r.redBand(), r.greenBand(), r.blueBand()) == (2, 3, 4)
    assert len(project.mapLayers()) == 3 and not project.layerTreeRoot().findGroups()
    assert names == ["DDICA abundances (jasper)", "DDICA abundances (jasper) [2]", "DDICA abundances (jasper) [3]"]


def test_imported_layers_are_named_after_the_file(run_alg, tmp_path):
    """Not "Hyperspectral cube" for every import: downstream names ("FCLS abundances (<cube>)") tell runs apart."""
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProcessingOutputLayerDefinition, QgsProject
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    A = rng.dirichlet(np.ones(3), 20).T
    M = rng.uniform(0.1, 0.9, (6, 3))
    savemat(tmp_path / "jasperRidge2_R198.mat", {"V": M @ A, "nRow": 5, "nCol": 4, "A": A, "M": M})
    project, context = QgsProject.instance(), QgsProcessingContext()
    context.setProject(project)
    cube, ref = str(tmp_path / "c.tif"), str(tmp_path / "a.tif")
    processing.run(
        "deepunmix:import_mat",
        {
            "INPUT": str(tmp_path / "jasperRidge2_R198.mat"),
            "OUTPUT_CUBE": QgsProcessingOutputLayerDefinition(cube, project),
            "OUTPUT_REFERENCE_ABUNDANCES": QgsProcessingOutputLayerDefinition(ref, project),
            "OUTPUT_REFERENCE_ENDMEMBERS": str(tmp_path / "m.csv"),
        },
        context=context,
        feedback=QgsProcessingFeedback(),
    )
    names = {path: d.name for path, d in context.layersToLoadOnCompletion().items()}
    assert names == {
        cube: "jasperRidge2_R198",
        ref: "jasperRidge2_R198 reference abundances",
        str(tmp_path / "m.csv"): "jasperRidge2_R198 reference endmembers",
    }


def test_report_titles_share_one_style(run_alg, scene, tmp_path):
    import re

    run_alg(
        "deepunmix:fcls",
        {
            "INPUT": scene["cube"],
            "ENDMEMBERS": scene["endmembers"],
            "OUTPUT_ABUNDANCES": str(tmp_path / "a.tif"),
            "OUTPUT_REPORT": str(tmp_path / "f.html"),
        },
    )
    run_alg(
        "deepunmix:estimate_n_endmembers",
        {"INPUT": scene["cube"], "MAX_ENDMEMBERS": 5, "OUTPUT_REPORT": str(tmp_path / "n.html")},
    )
    titles = [re.search("<title>(.*?)</title>", (tmp_path / f).read_text()).group(1) for f in ("f.html", "n.html")]
    assert titles == ["FCLS report (scene)", "Endmember count report (scene)"]
