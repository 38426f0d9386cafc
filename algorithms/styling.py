"""How abundance layers and endmember tables appear in the project once an algorithm finishes."""
from __future__ import annotations

from qgis.core import (
    QgsColorRampShader,
    QgsContrastEnhancement,
    QgsMultiBandColorRenderer,
    QgsProcessingContext,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
)

from .loaded_tables import load_endmember_table


def apply_abundance_style(layer: QgsRasterLayer) -> None:
    """Fractions read at a glance: a fixed 0..1 stretch, RGB of the first three endmembers (or a
    viridis ramp for a two-endmember map); band names come from the file's band descriptions."""
    provider = layer.dataProvider()
    if layer.bandCount() >= 3:
        renderer = QgsMultiBandColorRenderer(provider, 1, 2, 3)
        for setter in (renderer.setRedContrastEnhancement, renderer.setGreenContrastEnhancement,
                       renderer.setBlueContrastEnhancement):
            ce = QgsContrastEnhancement(provider.dataType(1))
            ce.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
            ce.setMinimumValue(0.0)
            ce.setMaximumValue(1.0)
            setter(ce)
    else:
        ramp = QgsStyle.defaultStyle().colorRamp("Viridis")
        fn = QgsColorRampShader(0.0, 1.0, ramp)
        fn.setColorRampType(QgsColorRampShader.Interpolated)
        fn.classifyColorRamp(5, -1)
        shader = QgsRasterShader(0.0, 1.0)
        shader.setRasterShaderFunction(fn)
        renderer = QgsSingleBandPseudoColorRenderer(provider, 1, shader)
        renderer.setClassificationMin(0.0)
        renderer.setClassificationMax(1.0)
    layer.setRenderer(renderer)
    layer.triggerRepaint()


class AbundanceStyler(QgsProcessingLayerPostProcessorInterface):
    """Post-processor QGIS calls when it loads an abundance output into the project."""

    _instances = []  # QGIS does not own Python post-processors: keep them alive

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 - QGIS API
        if isinstance(layer, QgsRasterLayer):
            apply_abundance_style(layer)

    @classmethod
    def create(cls) -> "AbundanceStyler":
        styler = cls()
        cls._instances.append(styler)
        return styler


def style_outputs(context: QgsProcessingContext, abundance_path: str = None, layer_name: str = None,
                  endmember_csv: str = None, table_name: str = None) -> None:
    """Style the abundance layer when it is loaded, and load the endmember CSV as a table."""
    if abundance_path and context.willLoadLayerOnCompletion(abundance_path):
        details = context.layerToLoadOnCompletionDetails(abundance_path)
        if layer_name:
            details.name = layer_name
        details.setPostProcessor(AbundanceStyler.create())
    if endmember_csv and abundance_path and context.willLoadLayerOnCompletion(abundance_path):
        load_endmember_table(context, endmember_csv, table_name or "endmembers")
