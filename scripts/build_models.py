"""Regenerate the example models shipped in models/ (run with the venv's python, headless).

QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/build_models.py
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / ".build" / "plugins"), "/usr/share/qgis/python/plugins"]

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsProcessingContext,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildDependency,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
)
from qgis.PyQt.QtCore import QPointF  # noqa: E402

from deepunmix.algorithms.estimate_n_endmembers import MAX_OPTION  # noqa: E402
from deepunmix.engine.core.params import SEED, interval  # noqa: E402
from deepunmix.engine.count.estimate import EndmemberCountEstimator  # noqa: E402
from deepunmix.engine.count.reconstruction import DEFAULT_MAX_ENDMEMBERS  # noqa: E402

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


def _output_variable(model, child_id, output="N_ENDMEMBERS"):
    """The expression variable QGIS gives a child's output (3.22 to 3.44 name it after the step's description)."""
    for name, var in model.variablesForChildAlgorithm("", QgsProcessingContext()).items():
        if var.source.outputChildId() == child_id and var.source.outputName() == output:
            return name
    raise LookupError(f"no variable for {child_id}:{output}")


MODEL_ID = "estimate_then_ddica"
MODEL_TITLE = "Estimate endmember count, then DDICA"


def estimate_then_ddica() -> QgsProcessingModelAlgorithm:
    # The model's name is its id (deepunmix:estimate_then_ddica, no spaces); the provider shows ALG_DISPLAY_NAME.
    m = QgsProcessingModelAlgorithm(MODEL_ID, "DeepUnmix examples")
    m.setHelpContent(
        {
            "ALG_DISPLAY_NAME": MODEL_TITLE,
            "ALG_DESC": "Example modeler chain: estimates the number of endmembers for linear unmixing (where the FCLS "
            "reconstruction error of SiVM endmembers stops improving; at most 'Maximum number of "
            "endmembers'), or takes 'Number of endmembers' when it is above 0, feeds it into DDICA blind "
            "unmixing, and returns the abundance maps, the endmember CSV and DDICA's HTML report. "
            "QGIS gives each of the two steps half of the progress bar: the quick estimate fills the "
            "first half at once, DDICA the second half step by step.",
            "hyperspectral_raster": "The hyperspectral raster to unmix.",
            "seed": "DDICA's random seed (same seed, same result).",
            "max_endmembers": "Largest count the estimate may give.",
            "n_endmembers": "0 (default): use the estimate. Above 0: use this count and ignore the estimate.",
            "ddica:Abundances": "One band per endmember, fractions summing to one.",
            "ddica:Endmembers": "Endmember spectra (CSV: band, wavelength, one column per endmember).",
            "ddica:Report": "DDICA's HTML report (spectra, maps, parameters, reconstruction error).",
        }
    )
    for name, param, pos in (
        (
            "hyperspectral_raster",
            QgsProcessingParameterRasterLayer("hyperspectral_raster", "Hyperspectral raster"),
            (120, 60),
        ),
        (
            "max_endmembers",
            QgsProcessingParameterNumber(
                "max_endmembers",
                "Maximum number of endmembers",
                QgsProcessingParameterNumber.Type.Integer,
                DEFAULT_MAX_ENDMEMBERS,
                minValue=interval(EndmemberCountEstimator, MAX_OPTION.kwarg).left,
                maxValue=MAX_OPTION.maximum,
            ),
            (320, 60),
        ),
        (
            "n_endmembers",
            QgsProcessingParameterNumber(
                "n_endmembers",
                "Number of endmembers (0 = estimate it)",
                QgsProcessingParameterNumber.Type.Integer,
                0,
                minValue=0,
                maxValue=MAX_OPTION.maximum,
            ),
            (520, 60),
        ),
        (
            "seed",
            QgsProcessingParameterNumber(
                "seed", "Random seed", QgsProcessingParameterNumber.Type.Integer, 0, minValue=SEED.left
            ),
            (720, 60),
        ),
    ):
        mp = QgsProcessingModelParameter(name)
        mp.setPosition(QPointF(*pos))
        m.addModelParameter(param, mp)
    m.addChildAlgorithm(
        child(
            "deepunmix:estimate_n_endmembers",
            "estimate",
            "Estimate number of endmembers",
            (120, 180),
            {
                "INPUT": S.fromModelParameter("hyperspectral_raster"),
                "MAX_ENDMEMBERS": S.fromModelParameter("max_endmembers"),
            },
        )
    )
    dd = child(
        "deepunmix:ddica",
        "ddica",
        "DDICA blind unmixing",
        (300, 300),
        {
            "INPUT": S.fromModelParameter("hyperspectral_raster"),
            "N_ENDMEMBERS": S.fromExpression(
                f"if(@n_endmembers > 0, @n_endmembers, @{_output_variable(m, 'estimate')})"
            ),
            "SEED": S.fromModelParameter("seed"),
        },
    )
    dd.setDependencies([QgsProcessingModelChildDependency("estimate")])  # runs after it; the modeler draws the link
    outputs = {}
    for i, (key, name, description) in enumerate(
        (
            ("OUTPUT_ABUNDANCES", "Abundances", "Abundance maps"),
            ("OUTPUT_ENDMEMBERS", "Endmembers", "Endmember spectra (CSV)"),
            ("OUTPUT_REPORT", "Report", "DDICA report (HTML)"),
        )
    ):
        o = QgsProcessingModelOutput(name, description)
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
    for definition in model.destinationParameterDefinitions():  # labelled in the dialog and the Results Viewer
        assert definition.description(), definition.name()
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
