"""A graphical-modeler chain extract_endmembers -> fcls -> evaluate runs as one model."""

import csv

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterRasterLayer,
)

Source = QgsProcessingModelChildParameterSource


def _child(alg_id, child_id, sources):
    child = QgsProcessingModelChildAlgorithm(alg_id)
    child.setChildId(child_id)
    for name, source in sources.items():
        child.addParameterSources(name, [source])
    return child


def build_chain_model():
    model = QgsProcessingModelAlgorithm("unmix_chain", "DeepUnmix tests")
    for name in ("scene", "truth"):
        model.addModelParameter(QgsProcessingParameterRasterLayer(name, name), QgsProcessingModelParameter(name))
    model.addChildAlgorithm(
        _child(
            "deepunmix:extract_endmembers",
            "extract",
            {
                "INPUT": Source.fromModelParameter("scene"),
                "N_ENDMEMBERS": Source.fromStaticValue(3),
                "METHOD": Source.fromStaticValue(0),
                "SEED": Source.fromStaticValue(0),
            },
        )
    )
    model.addChildAlgorithm(
        _child(
            "deepunmix:fcls",
            "fcls",
            {
                "INPUT": Source.fromModelParameter("scene"),
                "ENDMEMBERS": Source.fromChildOutput("extract", "OUTPUT_ENDMEMBERS"),
            },
        )
    )
    evaluate = _child(
        "deepunmix:evaluate",
        "evaluate",
        {
            "ABUNDANCES": Source.fromChildOutput("fcls", "OUTPUT_ABUNDANCES"),
            "REFERENCE_ABUNDANCES": Source.fromModelParameter("truth"),
        },
    )
    output = QgsProcessingModelOutput("scores")
    output.setChildOutputName("OUTPUT_TABLE")
    evaluate.setModelOutputs({"scores": output})
    model.addChildAlgorithm(evaluate)
    return model


def test_model_chain_runs(deepunmix, scene):
    model = build_chain_model()
    ok, errors = model.validate()
    assert ok, errors
    model.initAlgorithm()
    table = scene["dir"] / "scores.csv"
    results, ok = model.run(
        {"scene": scene["cube"], "truth": scene["truth"], "evaluate:scores": str(table)},
        QgsProcessingContext(),
        QgsProcessingFeedback(),
    )
    assert ok
    rows = list(csv.reader(open(table)))
    assert len(rows) == 1 + 3 and max(float(r[2]) for r in rows[1:]) < 1e-3  # per material, all near 0
