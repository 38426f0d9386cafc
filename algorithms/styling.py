"""How abundance layers and endmember tables appear in the project once an algorithm finishes."""

from __future__ import annotations

from typing import List

from qgis.core import (
    QgsColorRampShader,
    QgsContrastEnhancement,
    QgsMultiBandColorRenderer,
    QgsProcessingContext,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
)

from .loaded_tables import UniquelyNamed, load_endmember_table


def _fraction_ramp_renderer(provider, band: int) -> QgsSingleBandPseudoColorRenderer:
    ramp = QgsStyle.defaultStyle().colorRamp("Viridis")
    fn = QgsColorRampShader(0.0, 1.0, ramp)
    fn.setColorRampType(QgsColorRampShader.Type.Interpolated)
    fn.classifyColorRamp(5, -1)
    shader = QgsRasterShader(0.0, 1.0)
    shader.setRasterShaderFunction(fn)
    renderer = QgsSingleBandPseudoColorRenderer(provider, band, shader)
    renderer.setClassificationMin(0.0)
    renderer.setClassificationMax(1.0)
    return renderer


def rgb_bands(layer: QgsRasterLayer) -> List[int]:
    """The three endmembers shown as red, green, blue: bands 1-3 for three endmembers; with more, the three
    with the largest mean fraction (band order kept), so a minor endmember, not a major one, is left out."""
    n = layer.bandCount()
    if n <= 3:
        return list(range(1, n + 1))
    provider = layer.dataProvider()
    # all statistics (the default): naming one picks the overload QGIS 3.40+ deprecates (sip tries int first)
    means = [provider.bandStatistics(b, sampleSize=20000).mean for b in range(1, n + 1)]
    return sorted(sorted(range(1, n + 1), key=lambda b: -means[b - 1])[:3])


def apply_abundance_style(layer: QgsRasterLayer) -> None:
    """Fractions read at a glance: a fixed 0..1 stretch, RGB of three endmembers (``rgb_bands``) or a
    viridis ramp for a two-endmember map; band names come from the file's band descriptions."""
    provider = layer.dataProvider()
    if layer.bandCount() >= 3:
        renderer = QgsMultiBandColorRenderer(provider, *rgb_bands(layer))
        for setter in (
            renderer.setRedContrastEnhancement,
            renderer.setGreenContrastEnhancement,
            renderer.setBlueContrastEnhancement,
        ):
            ce = QgsContrastEnhancement(provider.dataType(1))
            ce.setContrastEnhancementAlgorithm(
                QgsContrastEnhancement.ContrastEnhancementAlgorithm.StretchToMinimumMaximum
            )
            ce.setMinimumValue(0.0)
            ce.setMaximumValue(1.0)
            setter(ce)
    else:
        renderer = _fraction_ramp_renderer(provider, 1)
    layer.setRenderer(renderer)
    layer.triggerRepaint()


class AbundanceStyler(UniquelyNamed):
    """Post-processor QGIS calls when it loads an abundance output: one layer per output (as QGIS's own
    algorithms), not one per endmember, which would fill every raster picker with copies of the same file."""

    def postProcessLayer(self, layer, context, feedback):
        super().postProcessLayer(layer, context, feedback)
        if isinstance(layer, QgsRasterLayer):
            apply_abundance_style(layer)


def style_outputs(
    context: QgsProcessingContext,
    abundance_path: str = None,
    layer_name: str = None,
    endmember_csv: str = None,
    table_name: str = None,
) -> None:
    """Style the abundance layer when it is loaded, and load the endmember CSV as a table."""
    if abundance_path and context.willLoadLayerOnCompletion(abundance_path):
        details = context.layerToLoadOnCompletionDetails(abundance_path)
        if layer_name:
            details.name = layer_name
        details.setPostProcessor(AbundanceStyler.create())
    if endmember_csv and abundance_path and context.willLoadLayerOnCompletion(abundance_path):
        load_endmember_table(context, endmember_csv, table_name or "endmembers")
