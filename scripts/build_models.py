"""Regenerate the example models shipped in models/ (run with the venv's python, headless).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/build_models.py
"""
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / ".build" / "plugins"), "/usr/share/qgis/python/plugins"]

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
)
from qgis.PyQt.QtCore import QPointF  # noqa: E402

S = QgsProcessingModelChildParameterSource


def child(alg_id, child_id, description, pos, sources):
    c = QgsProcessingModelChildAlgorithm(alg_id)
    c.setChildId(child_id)
    c.setDescription(description)
    c.setPosition(QPointF(*pos))
    for name, source in sources.items():
        c.addParameterSources(name, [source])
    for definition in QgsApplication.processingRegistry().algorithmById(alg_id).parameterDefinitions():
        if definition.name() not in sources and not definition.isDestination():
            c.addParameterSources(definition.name(), [S.fromStaticValue(definition.defaultValue())])
    return c


def estimate_then_ddica() -> QgsProcessingModelAlgorithm:
    m = QgsProcessingModelAlgorithm("Estimate endmember count, then DDICA", "DeepUnmix examples")
    m.setHelpContent({"ALG_DESC": "Example modeler chain: estimates the number of endmembers with HySime, feeds it "
                                  "into DDICA blind unmixing, and returns the abundance maps, the endmember CSV and "
                                  "DDICA's HTML report."})
    for name, param, pos in (
        ("hyperspectral_raster", QgsProcessingParameterRasterLayer("hyperspectral_raster", "Hyperspectral raster"),
         (120, 60)),
        ("seed", QgsProcessingParameterNumber("seed", "Random seed", QgsProcessingParameterNumber.Integer, 0,
                                              minValue=0), (420, 60)),
    ):
        mp = QgsProcessingModelParameter(name)
        mp.setPosition(QPointF(*pos))
        m.addModelParameter(param, mp)
    m.addChildAlgorithm(child("deepunmix:estimate_n_endmembers", "estimate", "Estimate number of endmembers",
                              (120, 180), {"INPUT": S.fromModelParameter("hyperspectral_raster")}))
    dd = child("deepunmix:ddica", "ddica", "DDICA blind unmixing", (300, 300), {
        "INPUT": S.fromModelParameter("hyperspectral_raster"),
        "N_ENDMEMBERS": S.fromChildOutput("estimate", "N_ENDMEMBERS"),
        "SEED": S.fromModelParameter("seed")})
    outputs = {}
    for i, (key, name) in enumerate((("OUTPUT_ABUNDANCES", "Abundances"), ("OUTPUT_ENDMEMBERS", "Endmembers"),
                                     ("OUTPUT_REPORT", "Report"))):
        o = QgsProcessingModelOutput(name)
        o.setChildOutputName(key)
        o.setChildId("ddica")
        o.setPosition(QPointF(520, 300 + 40 * i))
        outputs[name] = o
    dd.setModelOutputs(outputs)
    m.addChildAlgorithm(dd)
    return m


def main() -> int:
    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    from deepunmix.algorithms.provider import DeepUnmixProvider

    provider = DeepUnmixProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    model = estimate_then_ddica()
    ok, errors = model.validate()
    if not ok:
        print("\n".join(errors))
        return 1
    target = REPO / "models" / "estimate_then_ddica.model3"
    model.toFile(str(target))
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
